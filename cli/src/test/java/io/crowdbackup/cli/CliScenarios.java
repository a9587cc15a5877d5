package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End-to-end scenarios that run {@code crowdbackup} as a separate process, as a user would, and check
 * its output, exit codes and files. Subclasses say how to launch it: from the test class path
 * ({@link CliProcessTest}, in {@code mvn test}) or as the built jar and launcher script
 * ({@link CliJarIT}, in {@code mvn verify}).
 */
abstract class CliScenarios {
  static final Pattern FINGERPRINT = Pattern.compile("^([0-9a-f]{64})  (\\S+)  (.+)$", Pattern.MULTILINE);

  @TempDir Path dir;

  /** The command that starts crowdbackup, before its arguments. */
  abstract List<String> launcher();

  /** What one run printed and returned. */
  static final class Run {
    final int exitCode;
    final String out;
    final String err;

    Run(int exitCode, String out, String err) {
      this.exitCode = exitCode;
      this.out = out;
      this.err = err;
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  Run run(String... args) throws IOException, InterruptedException {
    return runWith(env -> { }, args);
  }

  /** As {@link #run} with the environment changed by {@code env} (say, the AWS SDK's credentials). */
  Run runWith(Consumer<Map<String, String>> env, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(launcher());
    command.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    env.accept(pb.environment());
    Path outFile = Files.createTempFile(dir, "stdout", ".txt");
    Path errFile = Files.createTempFile(dir, "stderr", ".txt");
    pb.redirectOutput(outFile.toFile()).redirectError(errFile.toFile());
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("crowdbackup " + String.join(" ", args) + " did not finish in 120 s");
    }
    Run r = new Run(p.exitValue(), Files.readString(outFile, StandardCharsets.UTF_8),
        Files.readString(errFile, StandardCharsets.UTF_8));
    Files.delete(outFile);
    Files.delete(errFile);
    return r;
  }

  Run ok(String... args) throws Exception {
    Run r = run(args);
    assertEquals(0, r.exitCode, () -> String.join(" ", args) + "\n" + r);
    return r;
  }

  static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Names in a folder, without the inbox's hidden state folder. */
  static List<String> visible(Path folder) throws IOException {
    if (!Files.exists(folder)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(".crowdbackup-inbox")).sorted()
          .collect(Collectors.toList());
    }
  }

  /** A user error is one line on stderr, without a stack trace. */
  static void assertOneLineError(Run r, int exitCode, String contains) {
    assertEquals(exitCode, r.exitCode, r.toString());
    String[] lines = r.err.strip().split("\n");
    assertEquals(1, lines.length, "one line expected:\n" + r.err);
    assertTrue(lines[0].startsWith("crowdbackup: "), r.err);
    assertTrue(lines[0].contains(contains), "expected '" + contains + "' in: " + r.err);
    assertFalse(r.err.contains("\tat "), r.err);
  }

  void keygen() throws Exception {
    ok("keygen", "--out", "keys", "--locator", "https://home.example/inbox");
  }

  @Test
  void keygenSealInspectReceiveGiveBackTheOriginals() throws Exception {
    keygen();
    if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
      assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
          Files.getPosixFilePermissions(dir.resolve("keys/destination.key"))));
    }
    Random random = new Random(1);
    byte[] big = new byte[700_000]; // several 64 KiB chunks and a short last one
    random.nextBytes(big);
    Files.write(dir.resolve("video.mp4"), big);
    Files.writeString(dir.resolve("notes.txt"), "the quick brown fox ".repeat(5000));
    Files.write(dir.resolve("empty.bin"), new byte[0]);
    Run sealed = ok("seal", "--to", "keys/destination.card", "--ttl", "2h", "--out", "env",
        "video.mp4", "notes.txt", "empty.bin");
    Matcher m = FINGERPRINT.matcher(sealed.out);
    List<String[]> rows = new ArrayList<>();
    while (m.find()) {
      rows.add(new String[] {m.group(1), m.group(2), m.group(3)});
    }
    assertEquals(3, rows.size(), sealed.out);
    for (String[] row : rows) {
      assertEquals("env/" + row[0] + ".cbe", row[1]);
      Run inspected = ok("inspect", row[1]);
      assertTrue(inspected.out.contains("fingerprint    " + row[0]), inspected.out);
      assertTrue(inspected.out.contains("locator        https://home.example/inbox"), inspected.out);
      assertFalse(inspected.out.contains(row[2]), "a holder must not see the file name");
    }
    // compress auto: text shrinks, the random "video" does not get compressed at all.
    long notesEnvelope = Files.size(dir.resolve(rows.get(1)[1]));
    assertTrue(notesEnvelope < 100_000 / 2, "notes.txt envelope is " + notesEnvelope + " bytes");

    Run received = ok("receive", "--key", "keys/destination.key", "--inbox", "inbox", "--receipts", "receipts",
        rows.get(0)[1], rows.get(1)[1], rows.get(2)[1]);
    assertEquals(List.of("empty.bin", "notes.txt", "video.mp4"), visible(dir.resolve("inbox")), received.out);
    for (String name : List.of("empty.bin", "notes.txt", "video.mp4")) {
      assertArrayEquals(Files.readAllBytes(dir.resolve(name)), Files.readAllBytes(dir.resolve("inbox").resolve(name)),
          name);
    }
    for (String[] row : rows) {
      assertEquals(143, Files.size(dir.resolve("receipts").resolve(row[0] + ".receipt")));
    }
    // Delivered again: nothing new, the same receipts, reported as duplicates.
    byte[] firstReceipt = Files.readAllBytes(dir.resolve("receipts").resolve(rows.get(0)[0] + ".receipt"));
    Run again = ok("receive", "--json", "--key", "keys/destination.key", "--inbox", "inbox", rows.get(0)[1]);
    assertTrue(again.out.contains("\"outcome\":\"DUPLICATE\""), again.out);
    assertTrue(again.out.contains("\"receipt\":\"" + io.crowdbackup.engine.envelope.Hex.of(firstReceipt) + "\""),
        again.out);
    assertEquals(List.of("empty.bin", "notes.txt", "video.mp4"), visible(dir.resolve("inbox")));

    // open (no ledger) into another folder gives the same bytes.
    ok("open", "--key", "keys/destination.key", "--out", "opened", rows.get(0)[1]);
    assertArrayEquals(big, Files.readAllBytes(dir.resolve("opened/video.mp4")));
  }

  @Test
  void aTamperedEnvelopeIsAClearErrorAndWritesNothing() throws Exception {
    keygen();
    byte[] data = new byte[200_000];
    new Random(2).nextBytes(data);
    Files.write(dir.resolve("photo.jpg"), data);
    Run sealed = ok("seal", "--to", "keys/destination.card", "--out", "env", "photo.jpg");
    Matcher m = FINGERPRINT.matcher(sealed.out);
    assertTrue(m.find(), sealed.out);
    Path envelope = dir.resolve(m.group(2));
    byte[] bytes = Files.readAllBytes(envelope);
    bytes[bytes.length / 2] ^= 0x40;
    Files.write(envelope, bytes);

    Run opened = run("open", "--key", "keys/destination.key", "--out", "out", m.group(2));
    assertOneLineError(opened, ExitCodes.ENVELOPE_REJECTED, "BAD_CHUNK_TAG");
    assertTrue(opened.err.contains(m.group(2)), "names the envelope: " + opened.err);
    assertEquals(List.of(), visible(dir.resolve("out")));

    Run received = run("receive", "--key", "keys/destination.key", "--inbox", "inbox", m.group(2));
    assertOneLineError(received, ExitCodes.ENVELOPE_REJECTED, "BAD_CHUNK_TAG");
    assertEquals(List.of(), visible(dir.resolve("inbox")));

    Run json = run("open", "--json", "--key", "keys/destination.key", "--out", "out", m.group(2));
    assertEquals(ExitCodes.ENVELOPE_REJECTED, json.exitCode);
    assertTrue(json.err.startsWith("{\"error\":"), json.err);
    assertTrue(json.err.contains("\"reason\":\"BAD_CHUNK_TAG\""), json.err);
  }

  @Test
  void aHostileNameInTheMetadataIsSanitised() throws Exception {
    keygen();
    Files.writeString(dir.resolve("payload.txt"), "not your passwd");
    String[] hostile = {"../../etc/passwd", "/abs/evil.sh", "con.txt", "..", ".bashrc"};
    List<String> envelopes = new ArrayList<>();
    for (String name : hostile) {
      Run sealed = ok("seal", "--to", "keys/destination.card", "--out", "env", "--name", name, "payload.txt");
      Matcher m = FINGERPRINT.matcher(sealed.out);
      assertTrue(m.find(), sealed.out);
      envelopes.add(m.group(2));
    }
    List<String> args = new ArrayList<>(List.of("receive", "--key", "keys/destination.key", "--inbox", "inbox/sub"));
    args.addAll(envelopes);
    Run r = ok(args.toArray(new String[0]));
    assertEquals(List.of("_bashrc", "_con.txt", "evil.sh", "passwd", "unnamed"), visible(dir.resolve("inbox/sub")),
        r.out);
    assertTrue(r.out.contains("(sent as \"../../etc/passwd\")"), r.out);
    assertFalse(Files.exists(dir.resolve("etc")));
    assertFalse(Files.exists(dir.resolve("inbox/etc")));
    assertEquals(List.of("sub"), visible(dir.resolve("inbox")));
  }

  @Test
  void relayUnwrapsAndTheDestinationReceivesTheInnerEnvelope() throws Exception {
    keygen();
    ok("keygen", "--out", "relay-keys", "--locator", "https://relay.example/in");
    byte[] data = new byte[150_000];
    new Random(3).nextBytes(data);
    Files.write(dir.resolve("clip.mov"), data);
    Run sealed = ok("seal", "--to", "keys/destination.card", "--relay", "relay-keys/destination.card",
        "--out", "env", "clip.mov");
    Matcher m = FINGERPRINT.matcher(sealed.out);
    assertTrue(m.find(), sealed.out);
    assertTrue(ok("inspect", m.group(2)).out.contains("https://relay.example/in"));
    Run relayed = ok("receive", "--relay", "--json", "--key", "relay-keys/destination.key", "--inbox", "outbox",
        m.group(2));
    assertTrue(relayed.out.contains("\"outcome\":\"RELAYED\""), relayed.out);
    assertTrue(relayed.out.contains("\"nextHop\":\"https://home.example/inbox\""), relayed.out);
    List<String> queued = visible(dir.resolve("outbox"));
    assertEquals(1, queued.size());
    ok("receive", "--key", "keys/destination.key", "--inbox", "inbox", "outbox/" + queued.get(0));
    assertArrayEquals(data, Files.readAllBytes(dir.resolve("inbox/clip.mov")));
  }

  @Test
  void userErrorsAreOneLineWithTheirDocumentedExitCode() throws Exception {
    assertOneLineError(run("seal"), ExitCodes.USAGE, "Missing required option");
    assertOneLineError(run("frobnicate"), ExitCodes.USAGE, "frobnicate");
    assertOneLineError(run("seal", "--to", "x", "--out", "o", "--ttl", "soon", "f"), ExitCodes.USAGE, "soon");
    assertOneLineError(run("seal", "--to", "missing.card", "--out", "o", "f"), ExitCodes.IO, "missing.card");
    Files.writeString(dir.resolve("bad.card"), "crowdbackup-card v1\nlocator x\n");
    assertOneLineError(run("seal", "--to", "bad.card", "--out", "o", "f"), ExitCodes.BAD_KEY, "bad.card");
    keygen();
    assertOneLineError(run("seal", "--to", "keys/destination.card", "--out", "o", "nope.txt"), ExitCodes.IO,
        "nope.txt");
    assertOneLineError(run("keygen", "--out", "keys"), ExitCodes.IO, "already exists");
    Files.writeString(dir.resolve("junk.cbe"), "this is not an envelope at all");
    assertOneLineError(run("inspect", "junk.cbe"), ExitCodes.ENVELOPE_REJECTED, "BAD_MAGIC");
    Run verbose = run("inspect", "--verbose", "junk.cbe");
    assertEquals(ExitCodes.ENVELOPE_REJECTED, verbose.exitCode);
    assertTrue(verbose.err.contains("\tat "), "--verbose prints the stack trace: " + verbose.err);
  }

  @Test
  void everyCommandHasHelp() throws Exception {
    List<String> commands = List.of("keygen", "seal", "inspect", "open", "receive", "store", "demo");
    for (String command : commands) {
      Run r = ok(command, "--help");
      assertTrue(r.out.startsWith("Usage: crowdbackup " + command), r.out);
    }
    Run top = ok("--help");
    for (String command : commands) {
      assertTrue(top.out.contains(command), top.out);
    }
    // The store's subcommands in this JVM: the launcher was proven above, and each start costs a second.
    for (String sub : List.of("put", "seal", "get", "stat", "ls", "rm", "evict", "release", "stats", "config")) {
      java.io.StringWriter text = new java.io.StringWriter();
      java.io.PrintWriter out = new java.io.PrintWriter(text);
      assertEquals(0, Main.run(out, new java.io.PrintWriter(new java.io.StringWriter()), "store", sub, "--help"));
      out.flush();
      assertTrue(text.toString().startsWith("Usage: crowdbackup store " + sub), text.toString());
    }
    assertFalse(top.out.contains("clock-offset") || ok("store", "--help").out.contains("clock-offset"),
        "test-only options stay hidden");
  }

  // ---------------------------------------------------------------------------------------------------
  // store

  /** Seals one file and returns {fingerprint, envelope path}. */
  String[] seal(String file, String... options) throws Exception {
    List<String> args = new ArrayList<>(List.of("seal", "--to", "keys/destination.card", "--out", "env"));
    args.addAll(Arrays.asList(options));
    args.add(file);
    Run sealed = ok(args.toArray(new String[0]));
    Matcher m = FINGERPRINT.matcher(sealed.out);
    assertTrue(m.find(), sealed.out);
    return new String[] {m.group(1), m.group(2)};
  }

  /** The first {@code "key":number} in a line of --json output. */
  /** The text of {@code json} from {@code from} up to the next {@code to}. */
  static String section(String json, String from, String to) {
    int i = json.indexOf(from);
    assertTrue(i >= 0, "no " + from + " in " + json);
    int k = json.indexOf(to, i + from.length());
    assertTrue(k >= 0, "no " + to + " after " + from + " in " + json);
    return json.substring(i, k);
  }

  static long num(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\":(-?\\d+)").matcher(json);
    assertTrue(m.find(), "no " + key + " in " + json);
    return Long.parseLong(m.group(1));
  }

  /** A phone's way: the photo sealed straight into its holder folder, no envelope file anywhere else. */
  @Test
  void storeSealPutsAPhotoStraightIntoTheStoreAsAnOwnEnvelopeThatOpensAtHome() throws Exception {
    keygen();
    byte[] photo = new byte[300_000];
    new Random(7).nextBytes(photo);
    Files.write(dir.resolve("IMG_0007.jpg"), photo);
    Run sealed = ok("store", "--dir", "phone", "seal", "--to", "keys/destination.card", "--ttl", "2h", "IMG_0007.jpg");
    Matcher m = Pattern.compile("^([0-9a-f]{64})  held  IMG_0007.jpg  \\(own, (\\d+) bytes, until ", Pattern.MULTILINE)
        .matcher(sealed.out);
    assertTrue(m.find(), sealed.out);
    String fp = m.group(1);
    List<String> files = visible(dir).stream().filter(n -> !n.startsWith("stdout") && !n.startsWith("stderr"))
        .collect(Collectors.toList());
    assertEquals(List.of("IMG_0007.jpg", "keys", "phone"), files, "nothing written but the store");
    Run stats = ok("store", "--dir", "phone", "stats", "--json");
    assertEquals(Long.parseLong(m.group(2)), num(stats.out, "ownHeldBytes"), stats.out);
    assertEquals(0, num(stats.out, "heldBytes"), "own envelopes use no quota: " + stats.out);
    ok("store", "--dir", "phone", "get", "--out", "fwd", fp);
    ok("open", "--key", "keys/destination.key", "--out", "out", "fwd/" + fp + ".cbe");
    assertArrayEquals(photo, Files.readAllBytes(dir.resolve("out/IMG_0007.jpg")));
    Run missing = run("store", "--dir", "phone", "seal", "--to", "keys/destination.card", "nope.jpg");
    assertOneLineError(missing, ExitCodes.IO, "nope.jpg: no such file or folder");
  }

  @Test
  void keygenSealInspectStorePutGetReceiveReleaseGiveBackTheOriginals() throws Exception {
    keygen();
    byte[] video = new byte[900_000];
    new Random(5).nextBytes(video);
    Files.write(dir.resolve("clip.mp4"), video);
    Files.writeString(dir.resolve("notes.txt"), "backstage pass ".repeat(4000));
    String[] clip = seal("clip.mp4");
    String[] notes = seal("notes.txt");
    assertTrue(ok("inspect", clip[1]).out.contains("fingerprint    " + clip[0]));

    // The holder takes both from a peer, knowing nothing but the files.
    Run put = ok("store", "--dir", "holder", "put", "--from", "alice", clip[1], notes[1]);
    assertTrue(put.out.contains(clip[0] + "  held  " + clip[1]), put.out);
    assertTrue(put.out.contains("custody from \"alice\""), put.out);
    Run ls = ok("store", "--dir", "holder", "ls", "--json");
    assertEquals(2, ls.out.strip().split("\n").length, ls.out);
    assertTrue(ls.out.contains("\"state\":\"HELD\",\"kind\":\"CUSTODY\""), ls.out);
    assertTrue(ls.out.contains("\"locator\":\"https://home.example/inbox\""), ls.out);
    assertFalse(ls.out.contains("clip.mp4"), "a holder never learns the file name");
    Run stats = ok("store", "--dir", "holder", "stats", "--json");
    long held = Files.size(dir.resolve(clip[1])) + Files.size(dir.resolve(notes[1]));
    assertEquals(held, num(stats.out, "heldBytes"), stats.out);
    assertTrue(stats.out.contains("\"alice\":{\"heldBytes\":" + held), stats.out);

    // Forwarding: the verified bytes go out under the fingerprint, the blobs stay held.
    Run got = ok("store", "get", "--dir", "holder", "--out", "fwd", clip[0].substring(0, 12), notes[0]);
    assertTrue(got.out.contains("fwd/" + clip[0] + ".cbe"), got.out);
    assertArrayEquals(Files.readAllBytes(dir.resolve(clip[1])), Files.readAllBytes(dir.resolve("fwd/" + clip[0] + ".cbe")));

    // The destination receives them and signs receipts; the holder drops its copies on those receipts.
    ok("receive", "--key", "keys/destination.key", "--inbox", "inbox", "--receipts", "receipts",
        "fwd/" + clip[0] + ".cbe", "fwd/" + notes[0] + ".cbe");
    assertArrayEquals(video, Files.readAllBytes(dir.resolve("inbox/clip.mp4")));
    assertArrayEquals(Files.readAllBytes(dir.resolve("notes.txt")), Files.readAllBytes(dir.resolve("inbox/notes.txt")));
    Run released = ok("store", "--dir", "holder", "release", "receipts/" + clip[0] + ".receipt",
        "receipts/" + notes[0] + ".receipt");
    assertTrue(released.out.contains(clip[0] + "  dropped  (receipt verified; quota freed)"), released.out);
    assertTrue(ok("store", "--dir", "holder", "stat", clip[0]).out.contains("state        DELIVERED"));
    Run after = ok("store", "--dir", "holder", "stats", "--json");
    assertEquals(0, num(after.out, "heldBytes"), after.out);
    assertEquals(2, num(after.out, "droppedByReceipt"), after.out);
    // Delivered is remembered: the same envelope offered again is refused, and a replayed receipt drops nothing.
    Run again = run("store", "--dir", "holder", "put", "--from", "bob", clip[1]);
    assertOneLineError(again, ExitCodes.REFUSED, "ALREADY_DELIVERED");
    assertTrue(ok("store", "--dir", "holder", "release", "receipts/" + clip[0] + ".receipt").out
        .contains("already delivered"));
    assertEquals("", ok("store", "--dir", "holder", "ls", "--state", "HELD").out);
  }

  @Test
  void aTamperedEnvelopeIsRefusedByTheStoreWithNothingStored() throws Exception {
    keygen();
    byte[] data = new byte[200_000];
    new Random(7).nextBytes(data);
    Files.write(dir.resolve("photo.jpg"), data);
    String[] sealed = seal("photo.jpg");
    Path envelope = dir.resolve(sealed[1]);
    byte[] bytes = Files.readAllBytes(envelope);
    Files.write(envelope, Arrays.copyOf(bytes, bytes.length - 100)); // truncated: the framing says so
    Run put = run("store", "--dir", "h", "put", "--from", "alice", sealed[1]);
    assertOneLineError(put, ExitCodes.ENVELOPE_REJECTED, sealed[1]);
    assertEquals("", ok("store", "--dir", "h", "ls").out);
    assertOneLineError(run("store", "--dir", "h", "get", "0123456789abcdef"), ExitCodes.IO, "no blob");
    assertEquals(0, num(ok("store", "--dir", "h", "stats", "--json").out, "reservedBytes"));
  }

  @Test
  void storeUserErrorsAreOneLineWithTheirDocumentedExitCode() throws Exception {
    assertOneLineError(run("store", "--dir", "h"), ExitCodes.USAGE, "a store command is required");
    assertOneLineError(run("store", "ls"), ExitCodes.USAGE, "--dir DIR is required");
    assertOneLineError(run("store", "--dir", "nowhere", "ls"), ExitCodes.IO, "no store here");
    assertOneLineError(run("store", "--dir", "h", "--quota", "lots", "ls"), ExitCodes.USAGE, "lots");
    assertOneLineError(run("store", "--dir", "h", "put", "x.cbe"), ExitCodes.USAGE, "--from");
    Files.createDirectories(dir.resolve("h"));
    Files.writeString(dir.resolve("h/store.conf"), "quota = 1GiB\nqouta = 2GiB\n");
    assertOneLineError(run("store", "--dir", "h", "stats"), ExitCodes.USAGE, "h/store.conf line 2: unknown setting");
    Files.writeString(dir.resolve("h/store.conf"), "quota = 1GiB\n");
    assertTrue(ok("store", "--dir", "h", "config").out.contains("(h/store.conf)"));
    assertOneLineError(run("store", "--dir", "h", "stat", "not-hex"), ExitCodes.USAGE, "not a fingerprint");
    assertOneLineError(run("demo", "--phones", "3", "--replicas", "3"), ExitCodes.USAGE, "--replicas must be 0..2");
  }

  // ---------------------------------------------------------------------------------------------------
  // demo

  /**
   * The README's main job with its default seed: the counts are the same on every run and add up, and
   * what the demo calls recovered is, byte for byte, in the homes' inboxes.
   */
  @Test
  void theDemoWithAFixedSeedRecoversWhatItShouldAndSaysSo() throws Exception {
    Run r = ok("demo", "--seed", "1", "--json", "--dir", "venue");
    String j = r.out;
    assertEquals(40, num(j, "filesMade"), j);
    assertEquals(80, num(j, "replicasRequested"), j);
    assertEquals(75, num(j, "replicasPlaced"), j);
    assertEquals(10, num(j, "filesOnLostPhones"), j);
    assertEquals(39, num(j, "recovered"), j);
    assertEquals(17, num(j, "deliveredByOwnPhone"), j);
    assertEquals(22, num(j, "deliveredThroughHolders"), j);
    assertEquals(9, num(j, "recoveredFromLostPhones"), j);
    assertEquals(1, num(j, "lostWithPhone"), j);
    assertEquals(0, num(j, "notRecoveredWithLiveReplica"), j);
    assertEquals(0, num(j, "differing"), j);
    // Each phone's forwarder asks the home first, and phones arrive one after another: no copy goes twice.
    assertEquals(38, num(j, "droppedByReceipt"), j);
    assertEquals(0, num(j, "inboxDuplicates"), j);
    assertEquals(13, num(j, "expiredBeforeHome"), j);
    assertTrue(j.contains("\"refusals\":{\"QUOTA_FULL\":19,\"PEER_SHARE_EXCEEDED\":3,\"TOO_LARGE\":5,\"TTL_TOO_LONG\":25}"), j);
    assertTrue(j.contains("\"lostPhones\":[\"phone-01\",\"phone-04\"]"), j);
    assertTrue(j.contains("\"ok\":true,\"failures\":[]"), j);
    // The counts add up.
    assertEquals(num(j, "filesMade"), num(j, "recovered") + num(j, "lostWithPhone") + num(j, "notRecoveredWithLiveReplica"));
    assertEquals(num(j, "recovered"), num(j, "deliveredByOwnPhone") + num(j, "deliveredThroughHolders"));
    assertEquals(num(j, "filesOnLostPhones"), num(j, "recoveredFromLostPhones") + num(j, "lostWithPhone"));
    assertEquals(num(j, "expiredBeforeHome"), num(j, "count"), "what expired before going home is what eviction took");
    assertTrue(num(j, "usedBytes") <= num(j, "limitBytes"), j);
    // On the wire: every refusal of a holder's custodian reached its source as an HTTP answer; one radio
    // dropped mid-upload at the venue and one home's line mid-delivery, and each upload went on from the
    // offset its receiver had kept, so the only bytes sent twice are the venue's cut piece past that offset.
    String venue = section(j, "\"venue\":{", "\"home\":{");
    String homeWire = section(j, "\"home\":{", "\"evicted\":");
    assertEquals(204, num(venue, "requests"), venue);
    assertEquals(52, num(venue, "requestsRefused"), venue);
    assertTrue(venue.contains("\"refusedByReason\":{\"PEER_SHARE_EXCEEDED\":3,\"QUOTA_FULL\":19,\"TOO_LARGE\":5,"
        + "\"TTL_TOO_LONG\":25}"), venue);
    assertEquals(1, num(venue, "uploadsCut"), venue);
    assertEquals(1, num(venue, "uploadsResumed"), venue);
    String venueDrop = section(venue, "\"drop\":{", "}");
    // Which upload drops is part of what one seed fixes (it must not follow the ports' order).
    assertTrue(venueDrop.contains("\"at\":\"phone-07\",\"file\":\"phone-01/IMG_0001.jpg\""), venueDrop);
    long cut = num(venueDrop, "cutAtBytes");
    long resumedFrom = num(venueDrop, "resumedFromBytes");
    assertTrue(0 < resumedFrom && resumedFrom <= cut && cut < num(venueDrop, "envelopeBytes"), venueDrop);
    assertEquals(num(j, "replicaBytesPlaced") + cut - resumedFrom, num(venue, "envelopeBytes"), venue);
    // Fewer than one PATCH per delivery: an envelope up to 2 MiB goes in its creation (creation-with-upload).
    assertEquals(77, num(homeWire, "requests"), homeWire);
    assertEquals(0, num(homeWire, "requestsRefused"), homeWire);
    assertEquals(1, num(homeWire, "uploadsCut"), homeWire);
    assertEquals(1, num(homeWire, "uploadsResumed"), homeWire);
    String homeDrop = section(homeWire, "\"drop\":{", "}");
    assertTrue(homeDrop.contains("\"at\":\"home-02\",\"file\":\"phone-02/VID_0003.mp4\""), homeDrop);
    assertEquals(num(homeDrop, "cutAtBytes"), num(homeDrop, "resumedFromBytes"), homeDrop);
    assertEquals(num(j, "homeOwn") + num(j, "homeCustody"), num(homeWire, "envelopeBytes"), homeWire);
    // Independently of the demo's own check: every recovered file is in its owner's inbox, identical.
    int found = 0;
    try (Stream<Path> homes = Files.list(dir.resolve("venue/homes"))) {
      for (Path home : homes.sorted().collect(Collectors.toList())) {
        Path originals = dir.resolve("venue/originals").resolve(home.getFileName().toString().replace("home", "phone"));
        for (String name : visible(home.resolve("inbox"))) {
          assertArrayEquals(Files.readAllBytes(originals.resolve(name)), Files.readAllBytes(home.resolve("inbox").resolve(name)),
              home + "/" + name);
          found++;
        }
      }
    }
    assertEquals(39, found);
    // Every phone that went home is empty, and its store can be looked at with the store commands.
    Run phone = ok("store", "--dir", "venue/phones/phone-02", "stats", "--json");
    assertEquals(0, num(phone.out, "heldBytes"), phone.out);
    assertEquals(0, num(phone.out, "ownHeldBytes"), phone.out);
    assertFalse(Files.exists(dir.resolve("venue/phones/phone-01")), "a lost phone's store is gone");
  }

  // ---------------------------------------------------------------------------------------------------
  // serve holder, serve destination, send and forward as separate processes on loopback: a file goes from a
  // source to two holders, home, and both holders let go of it. SIGTERM (what Ctrl-C sends) stops a server
  // cleanly, so that forward can open its store.

  private final List<Process> servers = new java.util.concurrent.CopyOnWriteArrayList<>(); // started in parallel by some tests

  @org.junit.jupiter.api.AfterEach
  void stopServers() throws Exception {
    for (Process p : servers) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Starts a server process; returns once it wrote its port file. */
  Process serve(Path portFile, String... args) throws Exception {
    return serveWith(env -> { }, portFile, args);
  }

  /** As {@link #serve} with the environment changed by {@code env}. */
  Process serveWith(Consumer<Map<String, String>> env, Path portFile, String... args) throws Exception {
    List<String> command = new ArrayList<>(launcher());
    command.add("serve");
    command.addAll(List.of(args));
    command.add("--port-file");
    command.add(portFile.toString());
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
        .redirectOutput(dir.resolve(portFile.getFileName() + ".out").toFile())
        .redirectError(dir.resolve(portFile.getFileName() + ".err").toFile());
    env.accept(pb.environment());
    Process p = pb.start();
    servers.add(p);
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!Files.exists(portFile) || Files.size(portFile) == 0) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        fail("serve " + String.join(" ", args) + " did not start: "
            + Files.readString(dir.resolve(portFile.getFileName() + ".err")));
      }
      Thread.sleep(50);
    }
    return p;
  }

  String url(Path portFile) throws Exception {
    return "http://127.0.0.1:" + Files.readString(portFile, StandardCharsets.US_ASCII).trim();
  }

  /** SIGTERM, as Ctrl-C: the server stops cleanly and the process ends. */
  static void interrupt(Process p) throws Exception {
    p.destroy();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the server stopped on SIGTERM");
  }

  @Test
  void serveSendAndForwardMoveAFileHomeOverHttp() throws Exception {
    int homePort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      homePort = s.getLocalPort();
    }
    ok("keygen", "--out", "keys", "--locator", "http://127.0.0.1:" + homePort);
    Process home = serve(dir.resolve("home.port"), "destination", "--key", "keys/destination.key", "--inbox",
        "inbox", "--port", Integer.toString(homePort));
    Process h1 = serve(dir.resolve("h1.port"), "holder", "--dir", "h1");
    Process h2 = serve(dir.resolve("h2.port"), "holder", "--dir", "h2");

    byte[] video = new byte[300_000];
    new Random(3).nextBytes(video);
    Files.write(dir.resolve("video.mp4"), video);
    Run sealed = ok("seal", "--to", "keys/destination.card", "--ttl", "2h", "--out", "env", "video.mp4");
    Matcher m = FINGERPRINT.matcher(sealed.out);
    assertTrue(m.find(), sealed.out);
    String fp = m.group(1);
    String envelope = m.group(2);

    Run sent = ok("send", "--holder", url(dir.resolve("h1.port")), "--holder", url(dir.resolve("h2.port")),
        "--replicas", "2", envelope);
    assertTrue(sent.out.contains(fp) && sent.out.contains("held by 2/2"), sent.out);
    Run tooMany = run("send", "--holder", url(dir.resolve("h1.port")), "--replicas", "2", envelope);
    assertEquals(ExitCodes.REFUSED, tooMany.exitCode, tooMany.toString());
    assertTrue(tooMany.out.contains("ALREADY_HELD"), tooMany.out);
    Run twice = run("send", "--holder", url(dir.resolve("h1.port")), "--holder", url(dir.resolve("h1.port")),
        "--replicas", "2", envelope);
    assertEquals(ExitCodes.USAGE, twice.exitCode, "one holder given twice is not two replicas: " + twice);
    assertTrue(twice.err.contains("was already given"), twice.err);

    interrupt(h1);
    String h1Err = Files.readString(dir.resolve("h1.port.err"));
    assertFalse(h1Err.contains("SLF4J"), "no logging noise from Jetty: " + h1Err);
    Run first = ok("forward", "--dir", "h1");
    assertTrue(first.out.contains("1 delivered"), first.out);
    assertArrayEquals(video, Files.readAllBytes(dir.resolve("inbox/video.mp4")));

    interrupt(h2);
    Run second = ok("forward", "--dir", "h2", "--json");
    assertTrue(second.out.contains("\"alreadyDelivered\":1") && second.out.contains("\"bytesSent\":0"), second.out);
    Run stat = ok("store", "--dir", "h2", "stat", fp);
    assertTrue(stat.out.contains("DELIVERED"), stat.out);
    interrupt(home);
  }

  @Test
  void serveHolderShapesUploadsByItsIngressSettings() throws Exception {
    ok("keygen", "--out", "keys", "--locator", "http://127.0.0.1:1");
    // 64 KiB/s per peer (its burst is 16 KiB), the global rate far above: the peer's own bucket decides.
    Process h = serve(dir.resolve("shaped.port"), "holder", "--dir", "shaped", "--ingress", "1GiB",
        "--ingress-per-peer", "64KiB");
    byte[] video = new byte[200_000];
    new Random(5).nextBytes(video);
    Files.write(dir.resolve("shaped.mp4"), video);
    Run sealed = ok("seal", "--to", "keys/destination.card", "--ttl", "2h", "--out", "env", "shaped.mp4");
    Matcher m = FINGERPRINT.matcher(sealed.out);
    assertTrue(m.find(), sealed.out);
    long t0 = System.nanoTime();
    Run sent = ok("send", "--holder", url(dir.resolve("shaped.port")), "--replicas", "1", m.group(2));
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(sent.out.contains("held by 1/1"), sent.out);
    // More than 200 000 bytes at 65 536 B/s after a 16 KiB burst: at least 2.8 s, whatever else is slow.
    assertTrue(millis >= 2_800, "an upload shaped to 64 KiB/s took only " + millis + " ms");
    assertOneLineError(run("serve", "holder", "--dir", "x", "--ingress-per-peer", "fast"), ExitCodes.USAGE, "fast");
    interrupt(h);
  }

  @Test
  void serveDestinationRelayForwardsTheInnerEnvelopeHome() throws Exception {
    int[] ports = new int[2];
    for (int i = 0; i < 2; i++) {
      try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
        ports[i] = s.getLocalPort();
      }
    }
    ok("keygen", "--out", "keys", "--locator", "http://127.0.0.1:" + ports[0]);
    ok("keygen", "--out", "relay-keys", "--locator", "http://127.0.0.1:" + ports[1]);
    Process home = serve(dir.resolve("home.port"), "destination", "--key", "keys/destination.key", "--inbox",
        "inbox", "--port", Integer.toString(ports[0]));
    Process relay = serve(dir.resolve("relay.port"), "destination", "--relay", "--key", "relay-keys/destination.key",
        "--inbox", "outbox", "--port", Integer.toString(ports[1]));
    Process h = serve(dir.resolve("h.port"), "holder", "--dir", "h");
    byte[] data = new byte[150_000];
    new Random(4).nextBytes(data);
    Files.write(dir.resolve("clip.mov"), data);
    Run sealed = ok("seal", "--to", "keys/destination.card", "--relay", "relay-keys/destination.card",
        "--out", "env", "clip.mov");
    Matcher m = FINGERPRINT.matcher(sealed.out);
    assertTrue(m.find(), sealed.out);
    assertTrue(ok("send", "--holder", url(dir.resolve("h.port")), "--replicas", "1", m.group(2)).out
        .contains("held by 1/1"));
    interrupt(h);
    Run forwarded = ok("forward", "--dir", "h");
    assertTrue(forwarded.out.contains("1 delivered"), forwarded.out);
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!Files.exists(dir.resolve("inbox/clip.mov"))) {
      assertTrue(System.nanoTime() < deadline, "the relay did not deliver home: "
          + Files.readString(dir.resolve("relay.port.err")));
      Thread.sleep(100);
    }
    assertArrayEquals(data, Files.readAllBytes(dir.resolve("inbox/clip.mov")));
    interrupt(relay);
    interrupt(home);
  }

  /** A free loopback port, for a key's locator before its server starts. */
  static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Seals {@code bytes} random bytes as {@code name} for keys/; returns [fingerprint, envelope path]. */
  String[] sealRandom(String name, int bytes, long seed) throws Exception {
    byte[] data = new byte[bytes];
    new Random(seed).nextBytes(data);
    Files.write(dir.resolve(name), data);
    Run sealed = ok("seal", "--to", "keys/destination.card", "--ttl", "2h", "--out", "env", name);
    Matcher m = FINGERPRINT.matcher(sealed.out);
    assertTrue(m.find(), sealed.out);
    return new String[] {m.group(1), m.group(2)};
  }

  /**
   * {@code serve destination --s3} against a real S3 protocol server (S3Proxy in this JVM), credentials from
   * the environment: a file goes home from a holder's store and lands in the bucket as its content object and
   * delivery record, nothing else; a second holder's copy is answered from the bucket with nothing sent;
   * no inbox folder appears. A missing bucket is a one-line I/O error naming it (the usage errors are in
   * {@link ServeS3OptionsTest}).
   */
  @Test
  void serveDestinationIntoS3DeliversIntoTheBucket() throws Exception {
    try (LocalS3 s3 = LocalS3.start(dir.resolve("s3-data"))) {
      Consumer<Map<String, String>> aws = env -> LocalS3.environment(env, dir);
      int port = freePort();
      ok("keygen", "--out", "keys", "--locator", "http://127.0.0.1:" + port);
      String url = LocalS3.url("cb/", s3.endpoint);
      Process home = serveWith(aws, dir.resolve("s3home.port"), "destination", "--key", "keys/destination.key",
          "--s3", url, "--staging", "staging", "--port", Integer.toString(port));
      String[] sealed = sealRandom("video.mp4", 300_000, 7);
      String fp = sealed[0];
      for (String holder : List.of("h1", "h2")) { // two phones that took it at the venue
        ok("store", "--dir", holder, "put", "--from", "venue", sealed[1]);
      }
      Run first = ok("forward", "--dir", "h1");
      assertTrue(first.out.contains("1 delivered"), first.out);
      assertEquals(List.of("cb/deliveries/" + fp, "cb/files/" + fp), s3.keys());
      assertArrayEquals(Files.readAllBytes(dir.resolve("video.mp4")), s3.object("cb/files/" + fp));
      Run second = ok("forward", "--dir", "h2", "--json");
      assertTrue(second.out.contains("\"alreadyDelivered\":1") && second.out.contains("\"bytesSent\":0"),
          second.out);
      assertEquals(List.of(ServeCommand.SECRET_FILE), visible(dir.resolve("staging")), "staging keeps no upload");
      assertFalse(Files.exists(dir.resolve("inbox")), "no inbox folder with --s3");
      interrupt(home);
      String err = Files.readString(dir.resolve("s3home.port.err"));
      assertFalse(err.contains("SLF4J") || err.contains("Exception"), "a quiet server: " + err);

      Run missing = runWith(aws, "serve", "destination", "--key", "keys/destination.key", "--s3",
          url.replace("s3://" + LocalS3.BUCKET + "/", "s3://no-such-bucket/"), "--staging", "staging");
      assertOneLineError(missing, ExitCodes.IO, "s3://no-such-bucket");
      assertTrue(missing.err.contains("OBJECT_STORE_REFUSED"), missing.err);
    }
  }
}
