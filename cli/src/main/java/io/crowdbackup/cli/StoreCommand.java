package io.crowdbackup.cli;

import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.policy.PeerUsage;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.policy.TimeSource;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.QuarantinedBlob;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.engine.EnvelopeScan;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.custody.CustodyStats;
import io.crowdbackup.engine.custody.DropOutcome;
import io.crowdbackup.engine.custody.Forward;
import io.crowdbackup.engine.custody.Offer;
import io.crowdbackup.engine.inbox.SafeFiles;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code crowdbackup store}: operate a holder's custody store through the engine's
 * {@link io.crowdbackup.engine.custody.Custodian}, which decides every policy question (quota, per-peer
 * share, retention, forward-once, receipts, expiry). Each run opens the folder, does one thing, and closes
 * it; the folder's layout is {@link Holder}'s.
 */
@Command(name = "store", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Operate a holder's custody store in DIR.",
        "Take envelopes from peers within a quota, forward them to their destination,",
        "drop them on a receipt or release, evict them at expiry. The store checks",
        "framing and fingerprints and never needs a key. Settings come from",
        "DIR/store.conf (see 'config'), overridden by the options below, which go",
        "before or after the subcommand."},
    subcommands = {
        StoreCommand.Put.class, StoreSeal.class, StoreCommand.Get.class, StoreCommand.Stat.class, StoreCommand.Ls.class,
        StoreCommand.Rm.class, StoreCommand.Evict.class, StoreCommand.Release.class, StoreCommand.Stats.class,
        StoreCommand.Uploads.class, StoreCommand.Abort.class, StoreCommand.Quarantine.class,
        StoreCommand.Config.class})
final class StoreCommand extends HasGlobals implements Runnable {
  @Option(names = "--dir", paramLabel = "DIR", scope = ScopeType.INHERIT,
      description = "The holder folder: DIR/blobs (the store), DIR/custody.clock, DIR/store.conf. Required.")
  Path dir;

  @Option(names = "--config", paramLabel = "FILE", scope = ScopeType.INHERIT,
      description = "Read the settings from FILE instead of DIR/store.conf.")
  Path config;

  @Option(names = "--quota", paramLabel = "SIZE", scope = ScopeType.INHERIT,
      converter = Converters.ByteCountConverter.class,
      description = "Bytes held for others, at most: 500MiB, 2GiB (default 1GiB).")
  Long quota;

  @Option(names = "--peer-share", paramLabel = "PERCENT", scope = ScopeType.INHERIT,
      converter = Converters.PercentConverter.class,
      description = "The most one source peer may use, percent of the quota (default 25%%).")
  Integer peerShare;

  @Option(names = "--max-retention", paramLabel = "DURATION", scope = ScopeType.INHERIT,
      converter = Converters.DurationConverter.class,
      description = "The longest an envelope is kept for others: 6h, 12h (default 12h).")
  Duration maxRetention;

  @Option(names = "--max-envelope", paramLabel = "SIZE", scope = ScopeType.INHERIT,
      converter = Converters.ByteCountConverter.class,
      description = "The largest envelope accepted (default: as large as the quota and share allow).")
  Long maxEnvelope;

  /** Moves this run's custody clock forward; for tests of expiry, which must not wait. */
  @Option(names = "--clock-offset", paramLabel = "DURATION", scope = ScopeType.INHERIT, hidden = true,
      converter = Converters.DurationConverter.class)
  Duration clockOffset;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "a store command is required: "
        + String.join(", ", spec.subcommands().keySet()));
  }

  Path dir() throws CliException {
    if (dir == null) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, "store: --dir DIR is required", null);
    }
    return dir;
  }

  /** The settings file, its values overridden by the options given. */
  HolderSettings settings() throws CliException {
    if (Files.exists(dir()) && !Files.isDirectory(dir())) {
      // Said before anything inside it is looked for: the settings file is not the problem.
      throw new CliException(ExitCodes.IO, "NOT_A_FOLDER", dir.toString(), dir + ": not a folder (--dir names the "
          + "holder folder, which a 'store put' creates)", null);
    }
    Path file = config != null ? config : dir().resolve(HolderSettings.FILE_NAME);
    if (config != null && !Files.exists(config)) {
      throw new CliException(ExitCodes.IO, "NOT_FOUND", config.toString(), config + ": no such file or folder", null);
    }
    return HolderSettings.load(file).with(quota, peerShare, maxRetention == null ? null : maxRetention.getSeconds(),
        maxEnvelope, "option");
  }

  TimeSource time() {
    if (clockOffset == null) {
      return TimeSource.system();
    }
    long offsetMillis = clockOffset.toMillis();
    return new TimeSource() {
      @Override
      public long monotonicNanos() {
        return System.nanoTime();
      }

      @Override
      public long epochMillis() {
        return System.currentTimeMillis() + offsetMillis;
      }
    };
  }

  /** --json, --verbose and --progress given before the subcommand count for it too. */
  void mergeInto(GlobalOptions sub) {
    sub.json |= globals.json;
    sub.verbose |= globals.verbose;
    if (sub.progress == null) {
      sub.progress = globals.progress;
    }
  }

  // -----------------------------------------------------------------------------------------------------

  /** A subcommand that acts on blobs named by fingerprint (or a unique prefix). */
  abstract static class ByFingerprints extends Sub {
    @Parameters(paramLabel = "FINGERPRINT", arity = "1..*",
        description = "Fingerprints (64 hex digits, or a unique prefix of 8 or more).")
    List<String> fingerprints;

    @Override
    void validate() throws CliException {
      validateFingerprints(fingerprints);
    }
  }

  /** What every store subcommand shares: opening the folder, keeping the totals, closing it. */
  abstract static class Sub extends HasGlobals implements Callable<Integer> {
    @ParentCommand StoreCommand parent;

    /** Whether this command creates the store when the folder has none. */
    boolean createsStore() {
      return false;
    }

    abstract int run(Holder h) throws Exception;

    /** Checks the arguments before the store is opened: a usage error touches nothing. */
    void validate() throws CliException {}

    /** Fails unless each text can name a blob: 64 hex digits, or a prefix of at least 8. */
    static void validateFingerprints(List<String> texts) throws CliException {
      for (String text : texts) {
        if (!text.trim().toLowerCase(Locale.ROOT).matches("[0-9a-f]{8,64}")) {
          throw new CliException(ExitCodes.USAGE, "USAGE", null, "'" + OpenCommand.quoted(text).replaceAll("^\"|\"$", "")
              + "' is not a fingerprint (64 hex digits, or a unique prefix of at least 8)", null);
        }
      }
    }

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    @Override
    public Integer call() throws Exception {
      parent.mergeInto(globals);
      Path dir = parent.dir();
      HolderSettings settings = parent.settings();
      validate();
      if (!createsStore() && !Holder.exists(dir)) {
        throw new CliException(ExitCodes.IO, "NOT_FOUND", dir.toString(),
            dir + ": no store here (a 'store put' creates one)", null);
      }
      Holder h;
      try {
        h = Holder.open(dir, settings, parent.time(), new io.crowdbackup.api.policy.RateLimit[] {
            Holder.UNSHAPED, Holder.UNSHAPED}, new io.crowdbackup.api.policy.RateLimit[] {Holder.UNSHAPED,
            Holder.UNSHAPED});
      } catch (IOException e) {
        throw Failures.of(dir, e);
      }
      boolean done = false;
      try {
        int code = run(h);
        done = true;
        return code;
      } finally {
        try {
          HolderCounters totals = HolderCounters.read(dir);
          totals.add(h.custodian.stats());
          totals.write(dir);
          h.close();
        } catch (IOException e) {
          if (done) {
            throw Failures.of(dir, e);
          }
        }
      }
    }

    /** A full fingerprint, or a unique prefix of at least 8 hex digits of one the store knows. */
    static Fingerprint resolve(Holder h, String text) throws CliException, IOException {
      validateFingerprints(List.of(text));
      String hex = text.trim().toLowerCase(Locale.ROOT);
      if (hex.length() == 64) {
        return Fingerprint.fromHex(hex);
      }
      java.util.Set<Fingerprint> known = new java.util.HashSet<>();
      for (BlobStat s : h.custodian.list()) {
        known.add(s.fingerprint());
      }
      for (UploadInfo u : h.custodian.allUploads()) {
        known.add(u.request().fingerprint());
      }
      for (QuarantinedBlob q : h.custodian.quarantined()) {
        if (q.fingerprint() != null) {
          known.add(q.fingerprint());
        }
      }
      Fingerprint found = null;
      for (Fingerprint fp : known) {
        if (fp.toHex().startsWith(hex)) {
          if (found != null) {
            throw new CliException(ExitCodes.USAGE, "USAGE", null, hex + " is the start of more than one "
                + "fingerprint in this store; give more digits", null);
          }
          found = fp;
        }
      }
      if (found == null) {
        throw notFound(h, hex);
      }
      return found;
    }

    static CliException notFound(Holder h, String what) {
      return new CliException(ExitCodes.IO, "NOT_FOUND", h.dir.toString(), "store " + h.dir + ": no blob " + what,
          null);
    }

    /** The upload of {@code fp} waiting in the store, or null. */
    static UploadInfo upload(Holder h, Fingerprint fp) throws IOException {
      for (UploadInfo u : h.custodian.allUploads()) {
        if (u.request().fingerprint().equals(fp)) {
          return u;
        }
      }
      return null;
    }

    /** "NOT_FOUND: no blob", or, for what the store does know of {@code fp}, what that is. */
    static CliException notFoundExplained(Holder h, Fingerprint fp) throws IOException {
      UploadInfo u = upload(h, fp);
      if (u != null) {
        return new CliException(ExitCodes.IO, "NOT_FOUND", h.dir.toString(), "store " + h.dir + ": no blob "
            + fp.toHex() + " yet: an upload of it is waiting (" + u.durableOffsetBytes() + " of "
            + u.request().declaredLengthBytes() + " bytes); see 'store uploads'", null);
      }
      QuarantinedBlob q = h.custodian.quarantineOf(fp);
      if (q != null) {
        return new CliException(ExitCodes.IO, "NOT_FOUND", h.dir.toString(), "store " + h.dir + ": no blob "
            + fp.toHex() + ": it was quarantined at " + Units.instant(q.quarantinedAtEpochMillis() / 1000) + " ("
            + oneLine(q.reason()) + "); see 'store quarantine'", null);
      }
      return notFound(h, fp.toHex());
    }

    static String oneLine(String text) {
      String t = text.replaceAll("\\s+", " ").strip();
      return t.length() > 300 ? t.substring(0, 300) + "…" : t;
    }

    /** A note on stderr when uploads wait or files sit in quarantine: they are invisible to 'ls'. */
    void noteHidden(Holder h) throws IOException {
      int uploads = h.custodian.allUploads().size();
      int quarantined = h.custodian.quarantined().size();
      if (uploads > 0) {
        spec.commandLine().getErr().println("note: " + uploads + " upload" + (uploads == 1 ? "" : "s")
            + " waiting to be resumed or discarded; see 'store uploads'");
      }
      if (quarantined > 0) {
        spec.commandLine().getErr().println("note: " + quarantined + " file" + (quarantined == 1 ? "" : "s")
            + " in quarantine (failed their checks, no longer served); see 'store quarantine'");
      }
      spec.commandLine().getErr().flush();
    }

    Json.Obj json(BlobStat s) {
      return Json.obj().put("fingerprint", s.fingerprint().toHex()).put("state", s.state().name())
          .put("kind", s.kind().name()).put("envelopeBytes", s.envelopeLengthBytes())
          .put("expiresAtEpochSecond", s.expiresAtEpochSecond()).put("expiresAt", Units.instant(s.expiresAtEpochSecond()))
          .put("sourcePeer", s.sourcePeer()).put("locator", s.locator())
          .put("storedAtEpochMillis", s.storedAtEpochMillis());
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "put", mixinStandardHelpOptions = true, sortOptions = false,
      description = {
          "Take envelope files into custody, as from a peer.",
          "Each envelope's public header and framing are checked and its fingerprint",
          "computed from the file (no key); then it is offered to the store's policy",
          "and, if accepted, stored and verified. A refused envelope is reported with",
          "its reason (QUOTA_FULL, PEER_SHARE_EXCEEDED, TOO_LARGE, TTL_TOO_LONG,",
          "EXPIRED, ALREADY_HELD, ALREADY_DELIVERED, ...) and the command goes on with",
          "the next; it exits 7 at the end. With --own, the envelopes are this",
          "device's own (its outbox), not counted against the quota."})
  static final class Put extends Sub {
    static final class Source {
      @Option(names = "--from", paramLabel = "PEER", required = true,
          description = "Who handed the envelopes over; the per-peer share counts by this name.")
      String peer;

      @Option(names = "--own", required = true, description = "The envelopes are this device's own.")
      boolean own;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--full-retention",
        description = "The source insists on its envelope's full expiry: refuse (TTL_TOO_LONG) instead of keeping"
            + " it for the holder's maximum retention only.")
    boolean fullRetention;

    @Option(names = "--expect-fingerprint", paramLabel = "FINGERPRINT",
        description = "Refuse (exit 4) unless the envelope's bytes hash to this fingerprint (64 hex digits). "
            + "One ENVELOPE only.")
    String expectFingerprint;

    @Parameters(paramLabel = "ENVELOPE", arity = "1..*", description = "Envelope files.")
    List<Path> envelopes;

    @Override
    boolean createsStore() {
      return true;
    }

    /** A missing envelope fails before the store is opened: it must not create one. */
    @Override
    void validate() throws CliException {
      Failures.requireInputs(envelopes);
      if (expectFingerprint != null) {
        if (!expectFingerprint.trim().toLowerCase(Locale.ROOT).matches("[0-9a-f]{64}")) {
          throw new CliException(ExitCodes.USAGE, "USAGE", null, "--expect-fingerprint: '"
              + OpenCommand.quoted(expectFingerprint).replaceAll("^\"|\"$", "") + "' is not a fingerprint (64 hex digits)",
              null);
        }
        if (envelopes.size() != 1) {
          throw new CliException(ExitCodes.USAGE, "USAGE", null, "--expect-fingerprint takes one ENVELOPE, got "
              + envelopes.size(), null);
        }
      }
    }

    /**
     * Checks the computed fingerprint against what the user expects: the option refuses a mismatch; a file
     * named {@code <fingerprint>.cbe} for another fingerprint (a copy mix-up?) is warned about.
     */
    private void checkExpected(Path envelope, Fingerprint fp) throws CliException {
      if (expectFingerprint != null) {
        Fingerprint expected = Fingerprint.fromHex(expectFingerprint.trim().toLowerCase(Locale.ROOT));
        if (!expected.equals(fp)) {
          throw new CliException(ExitCodes.ENVELOPE_REJECTED, "FINGERPRINT_MISMATCH", envelope.toString(), envelope
              + ": its bytes hash to " + fp.toHex() + ", expected " + expected.toHex()
              + " (--expect-fingerprint); nothing was stored", null);
        }
        return;
      }
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9a-f]{64})\\.cbe")
          .matcher(envelope.getFileName().toString().toLowerCase(Locale.ROOT));
      if (m.matches() && !m.group(1).equals(fp.toHex())) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("crowdbackup: warning: " + envelope + " is named for fingerprint " + m.group(1)
            + " but its bytes hash to " + fp.toHex() + "; it is stored under the latter (give --expect-fingerprint "
            + "to refuse such a file)");
        err.flush();
      }
    }

    @Override
    int run(Holder h) throws Exception {
      int code = ExitCodes.OK;
      for (Path envelope : envelopes) {
        try {
          putOne(h, envelope);
        } catch (CliException e) {
          code = reportAndGoOn(e, ExitCodes.REFUSED, ExitCodes.ENVELOPE_REJECTED);
        }
      }
      return code;
    }

    private void putOne(Holder h, Path envelope) throws CliException {
      try {
        if (!Files.isRegularFile(envelope)) {
          throw new CliException(ExitCodes.IO, Files.exists(envelope) ? "NOT_A_FILE" : "NOT_FOUND",
              envelope.toString(), envelope + ": " + (Files.exists(envelope) ? "not a regular file"
                  : "no such file or folder"), null);
        }
        long size = Files.size(envelope);
        BlobStat stored;
        try (ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), envelope.getFileName().toString(),
            2 * size, globals.progressEnabled())) {
          EnvelopeScan scanner = Envelopes.newScan();
          try (FileChannel in = FileChannel.open(envelope)) {
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            while (in.read(buf) >= 0) {
              buf.flip();
              scanner.update(buf);
              bar.add(buf.limit());
              buf.clear();
            }
          }
          Fingerprint fp = scanner.finish();
          EnvelopeHeader header = scanner.header();
          checkExpected(envelope, fp);
          try (FileChannel in = FileChannel.open(envelope)) {
            ReadableByteChannel counted = OpenCommand.counting(in, bar);
            if (source.own) {
              stored = h.custodian.putOwn(fp, size, counted);
            } else {
              Offer offer = Offer.newBuilder().fingerprint(fp).declaredLengthBytes(size)
                  .envelopeExpiresAtEpochSecond(header.expiresAtEpochSecond()).sourcePeer(source.peer)
                  .requireFullRetention(fullRetention).build();
              stored = h.custodian.receive(offer, counted);
            }
          }
          bar.finish();
        }
        print(h, envelope, stored);
      } catch (RefusalException e) {
        throw Failures.refused(envelope, e.refusal());
      } catch (IllegalArgumentException e) {
        throw new CliException(ExitCodes.USAGE, "USAGE", envelope.toString(), envelope + ": " + e.getMessage(), e);
      } catch (IOException | RuntimeException e) {
        throw Failures.of(envelope, e);
      }
    }

    private void print(Holder h, Path envelope, BlobStat s) {
      if (globals.json) {
        out().println(json(s).put("envelope", envelope.toString()));
      } else {
        out().println(s.fingerprint().toHex() + "  held  " + envelope + "  ("
            + (s.kind() == BlobKind.OWN ? "own" : "custody from " + OpenCommand.quoted(s.sourcePeer())) + ", "
            + s.envelopeLengthBytes() + " bytes, until " + Units.instant(s.expiresAtEpochSecond()) + ")");
      }
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "get", mixinStandardHelpOptions = true, sortOptions = false,
      description = {
          "Forward blobs to their destination, as files.",
          "Writes each blob's verified bytes to DIR/<fingerprint>.cbe, for delivery",
          "to the destination in its header ('crowdbackup receive' there). Only",
          "towards that destination: with --to, another locator is refused (exit 7).",
          "The blob stays held until the destination's receipt is given to 'store",
          "release'; a blob past its expiry is never served."})
  static final class Get extends ByFingerprints {
    @Option(names = "--out", paramLabel = "DIR", defaultValue = ".",
        description = "Folder to write the envelopes to (created if absent; default: the current folder).")
    Path outDir;

    @Option(names = "--to", paramLabel = "LOCATOR",
        description = "The destination this forward goes to; refused (exit 7) unless it is the blob's own.")
    String to;

    @Override
    int run(Holder h) throws Exception {
      // Every blob is looked up before anything is created: a missing one leaves no folder behind.
      List<BlobStat> blobs = new ArrayList<>();
      for (String text : fingerprints) {
        Fingerprint fp = resolve(h, text);
        BlobStat s = h.custodian.stat(fp);
        if (s == null) {
          throw notFoundExplained(h, fp);
        }
        blobs.add(s);
      }
      try {
        OutputFiles.createFolder(outDir);
      } catch (IOException e) {
        throw Failures.io(outDir, e);
      }
      TempFiles.removeStale(outDir, spec.commandLine().getErr(), globals);
      for (BlobStat s : blobs) {
        Fingerprint fp = s.fingerprint();
        Path target = outDir.resolve(fp.toHex() + ".cbe");
        if (Files.exists(target)) {
          throw Failures.io(target, new FileAlreadyExistsException(target.toString()));
        }
        try (Forward f = h.custodian.beginForward(fp, to != null ? to : s.locator());
            ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), fp.toHex().substring(0, 16),
                s.envelopeLengthBytes(), globals.progressEnabled());
            TempFiles.Output temp = TempFiles.create(outDir)) {
          ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
          while (f.channel().read(buf) >= 0) {
            buf.flip();
            bar.add(buf.remaining());
            temp.writeFully(buf);
            buf.clear();
          }
          temp.force();
          if (!temp.publishNoReplace(target)) {
            throw new FileAlreadyExistsException(target.toString());
          }
          SafeFiles.fsyncDirectory(outDir);
          bar.finish();
          // Closing the forward without a receipt returns the blob to HELD: it is dropped when the
          // destination's receipt comes back through 'store release'.
        } catch (IOException | RuntimeException e) {
          throw Failures.of(target, e);
        }
        if (globals.json) {
          out().println(json(s).put("envelope", target.toString()));
        } else {
          out().println(fp.toHex() + "  " + target + "  (for " + s.locator()
              + "; held until its receipt is given to 'store release')");
        }
      }
      return ExitCodes.OK;
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "stat", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Show what the store knows of blobs.",
          "State, kind, length, expiry, destination and source peer."})
  static final class Stat extends ByFingerprints {
    @Override
    int run(Holder h) throws Exception {
      long now = h.custodian.nowEpochSecond();
      for (String text : fingerprints) {
        Fingerprint fp = resolve(h, text);
        BlobStat s = h.custodian.stat(fp);
        if (s == null) {
          QuarantinedBlob q = h.custodian.quarantineOf(fp);
          if (q == null) {
            throw notFoundExplained(h, fp);
          }
          // A blob that failed its checks does not just vanish: say where it went and why.
          if (globals.json) {
            out().println(Json.obj().put("fingerprint", fp.toHex()).put("state", "QUARANTINED")
                .put("quarantinedAtEpochMillis", q.quarantinedAtEpochMillis())
                .put("quarantinedAt", Units.instant(q.quarantinedAtEpochMillis() / 1000))
                .put("file", q.fileName()).put("reason", q.reason()));
          } else {
            PrintWriter o = out();
            o.println("fingerprint  " + fp.toHex());
            o.println("state        QUARANTINED (failed its checks; no longer served or counted)");
            o.println("since        " + Units.instant(q.quarantinedAtEpochMillis() / 1000));
            o.println("reason       " + oneLine(q.reason()));
            o.println("file         " + h.dir.resolve(Holder.BLOBS_DIR).resolve("quarantine").resolve(q.fileName()));
          }
          continue;
        }
        if (globals.json) {
          out().println(json(s));
          continue;
        }
        boolean forgotten = s.state() == BlobState.DELIVERED; // a tombstone keeps no peer, locator or time
        PrintWriter o = out();
        o.println("fingerprint  " + s.fingerprint().toHex());
        o.println("state        " + s.state() + (s.state() == BlobState.DELIVERED
            ? " (bytes dropped; remembered until expiry so a re-offer is refused)" : ""));
        o.println("kind         " + (s.kind() == BlobKind.OWN ? "OWN (this device's own envelope)"
            : "CUSTODY" + (forgotten || s.sourcePeer().isEmpty() ? " (source peer forgotten with the bytes)"
                : " from " + OpenCommand.quoted(s.sourcePeer()))));
        o.println("length       " + s.envelopeLengthBytes() + " bytes");
        o.println("expires      " + Units.instant(s.expiresAtEpochSecond()) + " ("
            + Units.relative(s.expiresAtEpochSecond(), now) + ")");
        o.println("locator      " + (s.locator().isEmpty() ? "(forgotten with the bytes)" : s.locator()));
        o.println("stored at    " + (s.storedAtEpochMillis() == 0 ? "(forgotten with the bytes)"
            : java.time.Instant.ofEpochMilli(s.storedAtEpochMillis()).toString()));
      }
      return ExitCodes.OK;
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "ls", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"List blobs, soonest expiry first.",
          "Fingerprint, state, kind, bytes, expiry, source peer, destination."})
  static final class Ls extends Sub {
    @Option(names = "--state", paramLabel = "STATE", description = "Only blobs in this state: ${COMPLETION-CANDIDATES}.")
    BlobState state;

    @Option(names = "--kind", paramLabel = "KIND", description = "Only OWN or CUSTODY blobs.")
    BlobKind kind;

    @Option(names = "--locator", paramLabel = "LOCATOR", description = "Only blobs for this destination.")
    String locator;

    @Override
    int run(Holder h) throws Exception {
      List<BlobStat> all = new ArrayList<>(locator != null ? h.custodian.listByLocator(locator) : h.custodian.list());
      all.removeIf(s -> (state != null && s.state() != state) || (kind != null && s.kind() != kind));
      all.sort(Comparator.comparingLong(BlobStat::expiresAtEpochSecond).thenComparing(BlobStat::fingerprint));
      for (BlobStat s : all) {
        if (globals.json) {
          out().println(json(s));
        } else {
          out().println(String.format(Locale.ROOT, "%s  %-10s %-7s %10d  %s  %s  %s", s.fingerprint().toHex(),
              s.state(), s.kind(), s.envelopeLengthBytes(), Units.instant(s.expiresAtEpochSecond()),
              s.kind() == BlobKind.OWN ? "(own)" : OpenCommand.quoted(s.sourcePeer()),
              s.locator().isEmpty() ? "-" : s.locator()));
        }
      }
      noteHidden(h);
      return ExitCodes.OK;
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "rm", mixinStandardHelpOptions = true, sortOptions = false,
      description = {
          "Remove blobs: the operator's decision, not a peer's.",
          "Removes each blob and everything the store remembers of it, freeing its",
          "quota. (Peers cannot ask for this: a holder drops a blob early only on a",
          "verified receipt or release, see 'release'.)"})
  static final class Rm extends ByFingerprints {
    @Override
    int run(Holder h) throws Exception {
      for (String text : fingerprints) {
        Fingerprint fp = resolve(h, text);
        if (!h.custodian.remove(fp)) {
          throw notFoundExplained(h, fp);
        }
        if (globals.json) {
          out().println(Json.obj().put("fingerprint", fp.toHex()).put("outcome", "REMOVED"));
        } else {
          out().println(fp.toHex() + "  removed");
        }
      }
      return ExitCodes.OK;
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "evict", mixinStandardHelpOptions = true, sortOptions = false,
      description = {
          "Drop what expired, freeing its quota.",
          "Drops every blob whose expiry has passed, whole expiry groups at a time",
          "(the cost is what expired, not what is stored), and uploads abandoned long",
          "ago."})
  static final class Evict extends Sub {
    @Override
    int run(Holder h) throws Exception {
      long dropped = h.custodian.evictExpired();
      CustodyStats s = h.custodian.stats();
      long now = h.custodian.nowEpochSecond();
      if (globals.json) {
        out().println(Json.obj().put("dropped", dropped).put("custodyEvicted", s.evictedCount())
            .put("custodyEvictedBytes", s.evictedBytes()).put("custodyNowEpochSecond", now));
      } else {
        out().println("evicted " + dropped + " blob" + (dropped == 1 ? "" : "s") + " (custody: " + s.evictedCount()
            + ", " + Units.bytes(s.evictedBytes()) + " freed); custody time " + Units.instant(now));
      }
      return ExitCodes.OK;
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "release", mixinStandardHelpOptions = true, sortOptions = false,
      description = {
          "Drop blobs on delivery receipts or source releases.",
          "Receipts come from the destination ('receive --receipts'), releases from",
          "the source. Each is verified against the key in the blob's own header; a",
          "valid one drops the blob at once and frees its quota. A forged, mismatched",
          "or malformed one is refused (exit 7 at the end) and the blob stays. A FILE",
          "holds the 143-byte receipt or its hex text."})
  static final class Release extends Sub {
    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Receipt or release files.")
    List<Path> files;

    @Override
    int run(Holder h) throws Exception {
      int code = ExitCodes.OK;
      for (Path file : files) {
        try {
          byte[] bytes = readReceipt(file);
          Receipt r;
          try {
            r = Receipts.decode(bytes);
          } catch (ReceiptException e) {
            throw Failures.of(file, e);
          }
          DropOutcome outcome;
          try {
            outcome = r.kind() == Receipt.Kind.RECEIPT ? h.custodian.acceptReceipt(bytes)
                : h.custodian.acceptRelease(bytes);
          } catch (IOException e) {
            throw Failures.of(file, e);
          }
          if (globals.json) {
            out().println(Json.obj().put("file", file.toString()).put("fingerprint", r.fingerprint().toHex())
                .put("kind", r.kind().name()).put("outcome", outcome.name()));
          } else {
            String what = outcome == DropOutcome.DROPPED ? "dropped  (" + r.kind().name().toLowerCase(Locale.ROOT)
                + " verified; quota freed)" : outcome == DropOutcome.ALREADY_DELIVERED
                ? "already delivered" : "not held here";
            out().println(r.fingerprint().toHex() + "  " + what);
          }
        } catch (CliException e) {
          code = reportAndGoOn(e, ExitCodes.REFUSED);
        }
      }
      return code;
    }

    /** The encoded receipt: the file's bytes, or the hex text 'receive' prints. */
    static byte[] readReceipt(Path file) throws CliException {
      byte[] bytes;
      try (InputStream in = Files.newInputStream(file)) {
        bytes = in.readNBytes(2 * Receipts.ENCODED_BYTES + 3);
      } catch (IOException e) {
        throw Failures.io(file, e);
      }
      String text = new String(bytes, StandardCharsets.US_ASCII).strip();
      if (bytes.length != Receipts.ENCODED_BYTES && text.matches("[0-9a-fA-F]{" + 2 * Receipts.ENCODED_BYTES + "}")) {
        return HexFormat.of().parseHex(text);
      }
      return bytes;
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "stats", mixinStandardHelpOptions = true, sortOptions = false,
      description = {
          "Show the holder's numbers.",
          "Quota held, reserved and free; usage per source peer; own envelopes; and",
          "the totals over every store command run on this folder: drops by receipt",
          "and by release, evictions, quarantined blobs, refusals by reason."})
  static final class Stats extends Sub {
    @Override
    int run(Holder h) throws Exception {
      CustodyStats s = h.custodian.stats();
      HolderCounters totals = HolderCounters.read(h.dir);
      totals.add(s); // this run's own counts are added to the file only when it closes
      HolderSettings set = h.settings;
      long ownCount = 0;
      for (BlobStat b : h.custodian.list()) {
        if (b.kind() == BlobKind.OWN && b.state().hasBytes()) {
          ownCount++;
        }
      }
      Map<String, PeerUsage> peers = new TreeMap<>(s.usageByPeer());
      if (globals.json) {
        Map<String, Object> peerJson = new TreeMap<>();
        peers.forEach((k, v) -> peerJson.put(k, Json.obj().put("heldBytes", v.heldBytes())
            .put("reservedBytes", v.reservedBytes()).put("shareBytes", v.shareBytes())));
        out().println(Json.obj().put("dir", h.dir.toString()).put("limitBytes", s.limitBytes())
            .put("heldBytes", s.heldBytes()).put("reservedBytes", s.reservedBytes()).put("freeBytes", s.freeBytes())
            .put("heldCount", s.heldCount()).put("reservedCount", s.reservedCount())
            .put("peerSharePercent", set.peerSharePercent).put("maxRetentionSeconds", set.maxRetentionSeconds)
            .put("maxEnvelopeBytes", set.maxEnvelopeBytes).put("ownHeldBytes", s.ownHeldBytes())
            .put("ownCount", ownCount)
            .put("peers", peerJson)
            .put("droppedByReceipt", totals.get("droppedByReceipt")).put("droppedByRelease", totals.get("droppedByRelease"))
            .put("evicted", totals.get("evicted")).put("evictedBytes", totals.get("evictedBytes"))
            .put("quarantined", totals.get("quarantined")).put("inQuarantine", h.custodian.quarantined().size())
            .put("damagedLogRecords", totals.get("damagedLogRecords")).put("uploads", h.custodian.allUploads().size())
            .put("refusals", totals.refusals())
            .put("receiptRefusals", totals.receiptRefusals()).put("custodyNowEpochSecond", h.custodian.nowEpochSecond()));
        return ExitCodes.OK;
      }
      PrintWriter o = out();
      o.println("holder         " + h.dir);
      o.println("quota          " + Units.bytes(s.heldBytes() + s.reservedBytes()) + " of " + Units.bytes(s.limitBytes())
          + " used (" + Units.percent(s.heldBytes() + s.reservedBytes(), s.limitBytes()) + "): "
          + Units.bytes(s.heldBytes()) + " held in " + s.heldCount() + " blob" + (s.heldCount() == 1 ? "" : "s") + ", "
          + Units.bytes(s.reservedBytes()) + " reserved for " + s.reservedCount() + " upload"
          + (s.reservedCount() == 1 ? "" : "s") + "; " + Units.bytes(s.freeBytes()) + " free");
      o.println("peer share     " + set.peerSharePercent + "% (" + Units.bytes(s.limitBytes() * set.peerSharePercent / 100)
          + " per source peer)");
      o.println("max retention  " + HolderSettings.duration(set.maxRetentionSeconds));
      o.println("own envelopes  " + Units.bytes(s.ownHeldBytes()) + " in " + ownCount
          + " (not counted against the quota)");
      if (peers.isEmpty()) {
        o.println("peers          none");
      }
      boolean first = true;
      for (Map.Entry<String, PeerUsage> e : peers.entrySet()) {
        PeerUsage u = e.getValue();
        o.println((first ? "peers          " : "               ") + OpenCommand.quoted(e.getKey()) + "  "
            + Units.bytes(u.heldBytes() + u.reservedBytes()) + " of " + Units.bytes(u.shareBytes()));
        first = false;
      }
      o.println("dropped        " + totals.get("droppedByReceipt") + " by receipt, " + totals.get("droppedByRelease")
          + " by release");
      o.println("evicted        " + totals.get("evicted") + " (" + Units.bytes(totals.get("evictedBytes")) + ")");
      int inQuarantine = h.custodian.quarantined().size();
      o.println("quarantined    " + totals.get("quarantined") + " (" + inQuarantine + " file"
          + (inQuarantine == 1 ? "" : "s") + " now in quarantine" + (inQuarantine == 0 ? "" : "; see 'store quarantine'")
          + ")");
      if (totals.get("damagedLogRecords") > 0) {
        o.println("damaged log    " + totals.get("damagedLogRecords") + " state-log entr"
            + (totals.get("damagedLogRecords") == 1 ? "y" : "ies") + " found damaged and dropped (copies in quarantine)");
      }
      int waiting = h.custodian.allUploads().size();
      if (waiting > 0) {
        o.println("uploads        " + waiting + " waiting to be resumed or discarded; see 'store uploads'");
      }
      o.println("refusals       " + listing(totals.refusals()));
      o.println("receipts refused  " + listing(totals.receiptRefusals()));
      if (totals.damaged()) {
        o.println("(the totals file " + h.dir.resolve(HolderCounters.FILE_NAME) + " was damaged; totals start again)");
      }
      return ExitCodes.OK;
    }

    static String listing(Map<String, Long> m) {
      if (m.isEmpty()) {
        return "none";
      }
      StringBuilder b = new StringBuilder();
      m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
      return b.toString();
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "uploads", mixinStandardHelpOptions = true, sortOptions = false,
      description = {
          "List uploads waiting to be resumed or discarded.",
          "An upload cut off (a peer walked away, a process was killed) keeps its",
          "durable part and its quota reservation. The same 'put' resumes it; 'abort'",
          "discards it; left idle past the window it is discarded by 'evict' or the",
          "next command. Fingerprint, kind, source peer, bytes durable, last progress."})
  static final class Uploads extends Sub {
    @Override
    int run(Holder h) throws Exception {
      long windowMillis = h.custodian.abandonedUploadAfter().toMillis();
      for (UploadInfo u : h.custodian.allUploads()) {
        io.crowdbackup.api.store.UploadRequest r = u.request();
        long discardAt = (u.lastProgressEpochMillis() + windowMillis) / 1000;
        if (globals.json) {
          out().println(Json.obj().put("fingerprint", r.fingerprint().toHex()).put("kind", r.kind().name())
              .put("sourcePeer", r.sourcePeer()).put("durableBytes", u.durableOffsetBytes())
              .put("envelopeBytes", r.declaredLengthBytes())
              .put("startedAt", Units.instant(u.startedAtEpochMillis() / 1000))
              .put("lastProgressAt", Units.instant(u.lastProgressEpochMillis() / 1000))
              .put("discardedIfIdleAt", Units.instant(discardAt)));
        } else {
          out().println(String.format(Locale.ROOT, "%s  %-7s %-12s %10d of %10d bytes  last progress %s, "
                  + "discarded if idle at %s", r.fingerprint().toHex(), r.kind(),
              r.kind() == BlobKind.OWN ? "(own)" : OpenCommand.quoted(r.sourcePeer()), u.durableOffsetBytes(),
              r.declaredLengthBytes(), Units.instant(u.lastProgressEpochMillis() / 1000), Units.instant(discardAt)));
        }
      }
      return ExitCodes.OK;
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "abort", mixinStandardHelpOptions = true, sortOptions = false,
      description = {
          "Discard waiting uploads.",
          "Removes each upload's partial files and frees its quota reservation. A",
          "stored blob is not touched (that is 'rm')."})
  static final class Abort extends ByFingerprints {
    @Override
    int run(Holder h) throws Exception {
      for (String text : fingerprints) {
        Fingerprint fp = resolve(h, text);
        UploadInfo u = upload(h, fp);
        if (u == null || !h.custodian.abortUpload(fp)) {
          throw new CliException(ExitCodes.IO, "NOT_FOUND", h.dir.toString(), "store " + h.dir + ": no upload of "
              + fp.toHex() + " waiting" + (h.custodian.stat(fp) != null ? " (it is stored; 'rm' removes a blob)" : ""),
              null);
        }
        if (globals.json) {
          out().println(Json.obj().put("fingerprint", fp.toHex()).put("outcome", "ABORTED")
              .put("freedBytes", u.request().declaredLengthBytes()));
        } else {
          out().println(fp.toHex() + "  aborted  (" + Units.bytes(u.request().declaredLengthBytes())
              + " reservation freed)");
        }
      }
      return ExitCodes.OK;
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "quarantine", mixinStandardHelpOptions = true, sortOptions = false,
      description = {
          "List what failed its checks and was moved aside.",
          "Blobs whose header, footer or bytes were damaged, truncated, extended or",
          "renamed (found when the store opens or when they are read), and copies of",
          "damaged state logs. None is served or counted; they stay in",
          "DIR/blobs/quarantine for a person to look at. Time, fingerprint, reason."})
  static final class Quarantine extends Sub {
    @Override
    int run(Holder h) throws Exception {
      for (QuarantinedBlob q : h.custodian.quarantined()) {
        String fp = q.fingerprint() == null ? "-" : q.fingerprint().toHex();
        if (globals.json) {
          out().println(Json.obj().put("fingerprint", q.fingerprint() == null ? null : fp).put("file", q.fileName())
              .put("quarantinedAtEpochMillis", q.quarantinedAtEpochMillis())
              .put("quarantinedAt", Units.instant(q.quarantinedAtEpochMillis() / 1000)).put("reason", q.reason()));
        } else {
          out().println(Units.instant(q.quarantinedAtEpochMillis() / 1000) + "  " + fp + "  " + q.fileName() + "  "
              + oneLine(q.reason()));
        }
      }
      return ExitCodes.OK;
    }
  }

  // -----------------------------------------------------------------------------------------------------

  @Command(name = "config", mixinStandardHelpOptions = true, sortOptions = false,
      description = {
          "Show (or --save) the settings in effect.",
          "Shows each setting and where it comes from: default, the settings file, or",
          "an option. With --save, writes them to DIR/store.conf, so that later",
          "commands need no options."})
  static final class Config extends HasGlobals implements Callable<Integer> {
    @ParentCommand StoreCommand parent;

    @Option(names = "--save", description = "Write the settings in effect to DIR/store.conf.")
    boolean save;

    @Override
    public Integer call() throws Exception {
      parent.mergeInto(globals);
      Path dir = parent.dir();
      HolderSettings s = parent.settings();
      Path file = dir.resolve(HolderSettings.FILE_NAME);
      if (save) {
        try {
          Files.createDirectories(dir);
        } catch (IOException e) {
          throw Failures.io(dir, e);
        }
        TempFiles.removeStale(dir, spec.commandLine().getErr(), globals);
        try (TempFiles.Output temp = TempFiles.create(dir)) {
          temp.writeFully(ByteBuffer.wrap(s.encode().getBytes(StandardCharsets.UTF_8)));
          temp.force();
          temp.replace(file);
        } catch (IOException e) {
          throw Failures.io(file, e);
        }
      }
      PrintWriter o = spec.commandLine().getOut();
      if (globals.json) {
        o.println(Json.obj().put("quotaBytes", s.quotaBytes).put("peerSharePercent", s.peerSharePercent)
            .put("maxRetentionSeconds", s.maxRetentionSeconds).put("maxEnvelopeBytes", s.maxEnvelopeBytes)
            .put("origin", s.origin).put("saved", save ? file.toString() : null));
        return ExitCodes.OK;
      }
      o.println(String.format(Locale.ROOT, "%-14s %-10s (%s)", HolderSettings.QUOTA, HolderSettings.size(s.quotaBytes),
          s.origin.get(HolderSettings.QUOTA)));
      o.println(String.format(Locale.ROOT, "%-14s %-10s (%s)", HolderSettings.PEER_SHARE, s.peerSharePercent + "%",
          s.origin.get(HolderSettings.PEER_SHARE)));
      o.println(String.format(Locale.ROOT, "%-14s %-10s (%s)", HolderSettings.MAX_RETENTION,
          HolderSettings.duration(s.maxRetentionSeconds), s.origin.get(HolderSettings.MAX_RETENTION)));
      o.println(String.format(Locale.ROOT, "%-14s %-10s (%s)", HolderSettings.MAX_ENVELOPE,
          s.maxEnvelopeBytes == 0 ? "none" : HolderSettings.size(s.maxEnvelopeBytes),
          s.origin.get(HolderSettings.MAX_ENVELOPE)));
      if (save) {
        o.println("saved to " + file);
      }
      return ExitCodes.OK;
    }
  }
}
