package io.crowdbackup.cli;

import io.crowdbackup.cli.Venue.Phone;
import io.crowdbackup.cli.Venue.Result;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Run a simulated venue end to end, over HTTP on loopback.",
        "N phones, each a holder service on its own port with a real custody store",
        "on disk and its own quota and bandwidth, seal their files for their owners'",
        "homes and hand R replicas to each other by tus uploads (one radio drops",
        "mid-upload, and the upload resumes). L phones are lost; the rest go home and",
        "forward their own envelopes and what they hold to the homes, each a",
        "destination server; receipts make the other holders drop their copies;",
        "expiry cleans up the rest. Prints what happened and what crossed the wire,",
        "happened, and exits 8 if a file that still had a live copy was not",
        "recovered, or if a recovered file differs from its original. One seed",
        "gives the same counts on every run."})
final class DemoCommand extends HasGlobals implements Callable<Integer> {
  @Option(names = "--phones", paramLabel = "N", defaultValue = "8", description = "Phones at the venue, 2..500 (default: ${DEFAULT-VALUE}).")
  int phones;

  @Option(names = "--files-per-phone", paramLabel = "K", defaultValue = "5",
      description = "Files each phone makes, 1..200 (default: ${DEFAULT-VALUE}).")
  int filesPerPhone;

  @Option(names = "--replicas", paramLabel = "R", defaultValue = "2",
      description = "Holders each file is handed to, 0..N-1 (default: ${DEFAULT-VALUE}).")
  int replicas;

  @Option(names = "--lost", paramLabel = "L", defaultValue = "2",
      description = "Phones lost before going home, 0..N (default: ${DEFAULT-VALUE}).")
  int lost;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of everything random (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "Keep the venue here (new or empty folder) to look at afterwards; default: a temporary folder,"
          + " deleted at the end.")
  Path dir;

  /** For tests: break something on purpose and see the check fail. */
  @Option(names = "--inject-fault", paramLabel = "FAULT", hidden = true, converter = FaultConverter.class)
  Venue.Fault fault;

  /** {@code corrupt-delivery} or {@code corrupt-replica}. */
  static final class FaultConverter implements picocli.CommandLine.ITypeConverter<Venue.Fault> {
    @Override
    public Venue.Fault convert(String value) {
      try {
        return Venue.Fault.valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException("'" + value
            + "' is not a fault (corrupt-delivery, corrupt-replica)");
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    check(phones >= 2 && phones <= 500, "--phones must be 2..500, was " + phones);
    check(filesPerPhone >= 1 && filesPerPhone <= 200, "--files-per-phone must be 1..200, was " + filesPerPhone);
    check(replicas >= 0 && replicas <= phones - 1, "--replicas must be 0.." + (phones - 1) + " (the other phones), was "
        + replicas);
    check(lost >= 0 && lost <= phones, "--lost must be 0.." + phones + ", was " + lost);
    Venue.Params p = new Venue.Params();
    p.phones = phones;
    p.filesPerPhone = filesPerPhone;
    p.replicas = replicas;
    p.lost = lost;
    p.seed = seed;
    p.fault = fault == null ? Venue.Fault.NONE : fault;

    Path root;
    boolean temporary = dir == null;
    try {
      if (temporary) {
        root = Files.createTempDirectory("crowdbackup-demo-");
      } else {
        if (Files.exists(dir)) {
          try (Stream<Path> s = Files.list(dir)) {
            if (s.findAny().isPresent()) {
              throw new CliException(ExitCodes.IO, "NOT_EMPTY", dir.toString(), dir
                  + ": not empty; the demo needs a new or empty folder", null);
            }
          }
        }
        Files.createDirectories(dir);
        root = dir;
      }
    } catch (IOException e) {
      throw Failures.io(dir, e);
    }
    long startNanos = System.nanoTime();
    Result r;
    try {
      r = new Venue(p, root, spec.commandLine().getErr(), globals.progressEnabled()).run();
    } catch (IOException e) {
      throw Failures.of(root, e);
    } finally {
      if (temporary) {
        try {
          Venue.deleteTree(root);
        } catch (IOException ignored) {
          // A temporary folder left behind is the system's to clean.
        }
      }
    }
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    if (globals.json) {
      printJson(r, temporary ? null : root, seconds);
    } else {
      printText(r, temporary ? null : root, seconds);
    }
    if (!r.ok()) {
      String first = r.failures.get(0);
      Main.report(spec.commandLine().getErr(), globals, new CliException(ExitCodes.DEMO_CHECK_FAILED, "CHECK_FAILED",
          null, "demo: " + r.failures.size() + " check" + (r.failures.size() == 1 ? "" : "s") + " failed, first: "
              + first, null));
      return ExitCodes.DEMO_CHECK_FAILED;
    }
    return ExitCodes.OK;
  }

  private static void check(boolean ok, String message) throws CliException {
    if (!ok) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, message, null);
    }
  }

  private void printJson(Result r, Path kept, double seconds) {
    Json.Obj peak = Json.obj().put("phone", r.peakPhone).put("usedBytes", r.peakUsedBytes)
        .put("limitBytes", r.peakLimitBytes).put("alwaysWithinQuota", r.quotaAlwaysKept);
    List<Object> phoneList = new ArrayList<>();
    for (Phone ph : r.phones) {
      phoneList.add(Json.obj().put("name", ph.name).put("quotaBytes", ph.settings.quotaBytes)
          .put("peerSharePercent", ph.settings.peerSharePercent).put("maxRetentionSeconds", ph.settings.maxRetentionSeconds)
          .put("radioBytesPerSecond", ph.radioBytesPerSecond).put("homeAtEpochSecond", ph.lost ? null
              : Venue.START_EPOCH_SECOND + ph.homeHour * 3600L + Venue.HOME_OFFSET_SECONDS)
          .put("peakUsedBytes", ph.peakUsedBytes).put("lost", ph.lost));
    }
    spec.commandLine().getOut().println(Json.obj()
        .put("seed", r.params.seed).put("phones", r.params.phones).put("filesPerPhone", r.params.filesPerPhone)
        .put("replicas", r.params.replicas).put("lost", r.params.lost).put("lostPhones", r.lostPhones)
        .put("filesMade", r.filesMade).put("plaintextBytes", r.plaintextBytes).put("envelopeBytes", r.envelopeBytes)
        .put("replicasRequested", r.replicasRequested).put("replicasPlaced", r.replicasPlaced)
        .put("replicaBytesPlaced", r.replicaBytesPlaced)
        .put("filesShortOfReplicas", r.filesShortOfReplicas)
        .put("refusals", Venue.refusalMap(r)).put("receiptRefusals", r.receiptRefusals)
        .put("peakQuota", peak)
        .put("filesOnLostPhones", r.filesOnLostPhones)
        .put("recovered", r.recovered()).put("deliveredByOwnPhone", r.deliveredByOwnPhone)
        .put("deliveredThroughHolders", r.deliveredThroughHolders)
        .put("recoveredFromLostPhones", r.recoveredFromLostPhones)
        .put("lostWithPhone", r.lostWithPhone).put("notRecoveredWithLiveReplica", r.notRecoveredWithLiveReplica)
        .put("differing", r.differing)
        .put("duplicatesSuppressed", Json.obj().put("droppedByReceipt", r.droppedByReceipt)
            .put("inboxDuplicates", r.inboxDuplicates))
        .put("expiredBeforeHome", r.expiredBeforeHome).put("forwardFailures", r.forwardFailures)
        .put("quarantined", r.quarantined)
        .put("bytesMoved", Json.obj().put("homeOwn", r.homeOwnBytes).put("homeCustody", r.homeCustodyBytes))
        .put("venueRadioSeconds", r.venueThrottledNanos / 1_000_000_000L)
        .put("wire", Json.obj().put("venue", wire(r.venueWire, r.params.phones, r.venueDrop))
            .put("home", wire(r.homeWire, r.params.phones, r.homeDrop)))
        .put("evicted", Json.obj().put("count", r.evictedCount).put("bytes", r.evictedBytes))
        .put("phoneDetails", phoneList)
        .put("dir", kept == null ? null : kept.toString())
        .put("ok", r.ok()).put("failures", r.failures)
        .put("seconds", Math.round(seconds * 10) / 10.0));
  }

  private static Json.Obj wire(Venue.Wire w, int servers, Venue.Drop drop) {
    return Json.obj().put("servers", servers).put("requests", w.requests.get()).put("bodyBytes", w.bodyBytes.get())
        .put("envelopeBytes", w.envelopeBytes.get()).put("requestsRefused", w.refusedTotal())
        .put("refusedByReason", new java.util.LinkedHashMap<String, Object>(w.refused))
        .put("uploadsCut", w.cutUploads.get()).put("uploadsResumed", w.resumes.get())
        .put("drop", drop == null ? null : Json.obj().put("at", drop.at).put("file", drop.file)
            .put("envelopeBytes", drop.envelopeBytes).put("cutAtBytes", drop.cutAtBytes)
            .put("resumedFromBytes", drop.resumedFromBytes));
  }

  private void printText(Result r, Path kept, double seconds) {
    PrintWriter o = spec.commandLine().getOut();
    Venue.Params p = r.params;
    o.println("CrowdBackup venue demo: seed " + p.seed + ", " + p.phones + " phones x " + p.filesPerPhone
        + " files, " + p.replicas + " replica" + (p.replicas == 1 ? "" : "s") + " each, " + p.lost + " phone"
        + (p.lost == 1 ? "" : "s") + " lost");
    o.println("Every phone is a holder service on a loopback port over a real custody store, every home a");
    o.println("destination server over a real inbox; every envelope moves over HTTP. The clock is simulated,");
    o.println("starting " + java.time.Instant.ofEpochSecond(Venue.START_EPOCH_SECOND) + ".");
    if (p.phones <= 16) {
      o.println();
      o.println("phone     quota    share  keeps  radio     home   peak custody use");
      for (Phone ph : r.phones) {
        o.println(String.format(Locale.ROOT, "%-9s %-8s %-6s %-6s %-9s %-6s %s", ph.name,
            Units.bytes(ph.settings.quotaBytes), ph.settings.peerSharePercent + "%",
            HolderSettings.duration(ph.settings.maxRetentionSeconds),
            HolderSettings.size(ph.radioBytesPerSecond) + "/s",
            ph.lost ? "LOST" : Venue.timeOfDay(Venue.START_EPOCH_SECOND + ph.homeHour * 3600L
                + Venue.HOME_OFFSET_SECONDS),
            Units.bytes(ph.peakUsedBytes) + " (" + Units.percent(ph.peakUsedBytes, ph.settings.quotaBytes) + ")"));
      }
    }
    o.println();
    o.println("At the venue (" + Venue.timeOfDay(Venue.START_EPOCH_SECOND) + ")");
    line(o, "files made", r.filesMade + " (" + Units.bytes(r.plaintextBytes) + "), sealed into " + r.filesMade
        + " envelopes (" + Units.bytes(r.envelopeBytes) + ") for their owners' homes");
    line(o, "replicas placed", r.replicasPlaced + " of " + r.replicasRequested + " asked for"
        + (r.filesShortOfReplicas == 0 ? "" : "; " + r.filesShortOfReplicas + " file"
            + (r.filesShortOfReplicas == 1 ? "" : "s") + " got fewer than " + p.replicas));
    line(o, "refusals", r.refusals.isEmpty() ? "none" : listing(Venue.refusalMap(r)));
    wireLines(o, r.venueWire, p.phones + " holder services", " phone to phone (" + r.venueThrottledNanos / 1_000_000_000L
        + " s of simulated radio time)");
    resumedLines(o, r.venueWire, r.venueDrop, "radio", "the source client", "the holder's durable offset");
    line(o, "peak quota use", r.peakPhone == null ? "none" : r.peakPhone + ": " + Units.bytes(r.peakUsedBytes) + " of "
        + Units.bytes(r.peakLimitBytes) + " (" + Units.percent(r.peakUsedBytes, r.peakLimitBytes) + ")"
        + (r.quotaAlwaysKept ? "; no phone ever above its quota" : "; A PHONE WENT ABOVE ITS QUOTA"));
    line(o, "lost", r.lostPhones.isEmpty() ? "no phone" : String.join(", ", r.lostPhones) + ", with their "
        + r.filesOnLostPhones + " files and every copy they held");
    o.println();
    o.println("Going home (" + (r.firstHomeEpochSecond == Long.MAX_VALUE ? "nobody"
        : Venue.timeOfDay(r.firstHomeEpochSecond) + "-" + Venue.timeOfDay(r.lastHomeEpochSecond)) + ")");
    line(o, "recovered", r.recovered() + " of " + r.filesMade + " files");
    line(o, "  by own phone", Integer.toString(r.deliveredByOwnPhone));
    line(o, "  through holders", r.deliveredThroughHolders + ", of them " + r.recoveredFromLostPhones
        + " from lost phones");
    line(o, "lost with phone", r.lostWithPhone + " (no copy left on a phone that got home)");
    line(o, "duplicates", (r.droppedByReceipt + r.inboxDuplicates) + " suppressed: " + r.droppedByReceipt
        + " dropped unsent on the home's receipt" + (r.inboxDuplicates == 0 ? "" : ", " + r.inboxDuplicates
        + " sent but not written twice"));
    line(o, "expired copies", r.expiredBeforeHome + " (custody ended before their holder got home; not sent)");
    if (r.forwardFailures > 0 || r.quarantined > 0) {
      line(o, "failed forwards", r.forwardFailures + " (" + r.quarantined + " copies failed verification, quarantined)");
    }
    line(o, "delivered", Units.bytes(r.homeOwnBytes + r.homeCustodyBytes) + " of envelopes ("
        + Units.bytes(r.homeOwnBytes) + " own, " + Units.bytes(r.homeCustodyBytes) + " held for others)");
    wireLines(o, r.homeWire, p.phones + " destination servers", " to the homes");
    resumedLines(o, r.homeWire, r.homeDrop, "line", "its forwarder", "the home's offset");
    o.println();
    o.println("Next morning (" + Venue.timeOfDay(r.nextMorningEpochSecond) + ")");
    line(o, "expiry", "evicted " + r.evictedCount + " copies (" + Units.bytes(r.evictedBytes)
        + "); every phone that got home holds nothing now");
    o.println();
    if (r.ok()) {
      o.println("Check: OK. All " + r.recovered() + " recovered files are identical to their originals, and");
      o.println("every file that still had a live copy on a phone that got home was recovered.");
    } else {
      o.println("Check: FAILED");
      for (String f : r.failures) {
        o.println("  " + f);
      }
    }
    o.println(String.format(Locale.ROOT, "(%.1f s%s)", seconds, kept == null ? "" : "; the venue is kept in " + kept));
  }

  /** What crossed one side's servers: requests, bytes, refusals by reason. */
  private static void wireLines(PrintWriter o, Venue.Wire w, String servers, String envelopesWhere) {
    line(o, "on the wire", w.requests.get() + " HTTP requests to " + servers + ", " + Units.bytes(w.bodyBytes.get())
        + " in bodies:");
    line(o, "", Units.bytes(w.envelopeBytes.get()) + " of envelopes" + envelopesWhere);
    line(o, "requests refused", w.refused.isEmpty() ? "none" : w.refusedTotal() + ": " + listing(w.refused));
  }

  /** How many uploads resumed; which link dropped in the middle of which upload, and where it went on from. */
  private static void resumedLines(PrintWriter o, Venue.Wire w, Venue.Drop d, String link, String who, String from) {
    if (d == null) {
      line(o, "uploads resumed", w.resumes.get() + " (no " + link + " dropped: no upload of "
          + Units.bytes(Venue.DROP_MIN_BODY_BYTES) + " or more)");
      return;
    }
    line(o, "uploads resumed", w.resumes.get() + ": " + d.at + "'s " + link + " dropped " + Units.bytes(d.cutAtBytes)
        + " into " + d.file + " (" + Units.bytes(d.envelopeBytes) + "),");
    line(o, "", "and " + who + " went on from " + from + ", " + Units.bytes(d.resumedFromBytes));
  }

  private static void line(PrintWriter o, String label, String value) {
    o.println(String.format(Locale.ROOT, "  %-18s %s", label, value));
  }

  private static String listing(Map<String, Long> m) {
    StringBuilder b = new StringBuilder();
    m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
    return b.toString();
  }
}
