package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
    List<String> command = new ArrayList<>(launcher());
    command.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
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
    for (String command : List.of("keygen", "seal", "inspect", "open", "receive")) {
      Run r = ok(command, "--help");
      assertTrue(r.out.startsWith("Usage: crowdbackup " + command), r.out);
    }
    Run top = ok("--help");
    for (String command : List.of("keygen", "seal", "inspect", "open", "receive")) {
      assertTrue(top.out.contains(command), top.out);
    }
  }
}
