package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.envelope.EnvelopeScanner;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a killed or damaged holder leaves, through the store commands (in this JVM: each command is a
 * fresh open of the folder, as a separate process's would be): waiting uploads are listed, resumed,
 * aborted and discarded when idle; quarantined blobs are shown with their reason.
 */
class StoreRecoveryCliTest {
  @TempDir Path dir;
  private Path holder;
  private Path envelope;
  private Fingerprint fp;

  private static CliScenarios.Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new CliScenarios.Run(code, out.toString(), err.toString());
  }

  private static CliScenarios.Run ok(String... args) {
    CliScenarios.Run r = run(args);
    assertEquals(0, r.exitCode, () -> String.join(" ", args) + "\n" + r);
    return r;
  }

  private CliScenarios.Run store(String... args) {
    String[] all = new String[args.length + 3];
    all[0] = "store";
    all[1] = "--dir";
    all[2] = holder.toString();
    System.arraycopy(args, 0, all, 3, args.length);
    return run(all);
  }

  @BeforeEach
  void sealOne() throws Exception {
    holder = dir.resolve("holder");
    ok("keygen", "--out", dir.resolve("keys").toString(), "--locator", "https://home.example/inbox");
    byte[] data = new byte[400_000];
    new Random(3).nextBytes(data);
    Files.write(dir.resolve("clip.mp4"), data);
    ok("seal", "--to", dir.resolve("keys/destination.card").toString(), "--out", dir.resolve("env").toString(),
        "--chunk-size", "16KiB", dir.resolve("clip.mp4").toString());
    try (Stream<Path> s = Files.list(dir.resolve("env"))) {
      envelope = s.findFirst().orElseThrow();
    }
    try (FileChannel ch = FileChannel.open(envelope)) {
      fp = EnvelopeScanner.scan(ch);
    }
  }

  /** As a 'store put' killed halfway leaves it: a checkpointed upload, never closed. */
  private void killedPut(boolean own) throws Exception {
    byte[] bytes = Files.readAllBytes(envelope);
    UploadRequest.Builder r = UploadRequest.newBuilder().fingerprint(fp).declaredLengthBytes(bytes.length);
    try (FileCustodyStore s = FileCustodyStore.open(StoreConfig.newBuilder(holder.resolve("blobs"))
        .checkpointEveryBytes(16 * 1024).build())) {
      Upload u = s.begin(own ? r.own().build() : r.custodyFrom("alice").build());
      u.write(ByteBuffer.wrap(bytes, 0, bytes.length / 2));
      assertTrue(u.checkpoint() > 0);
    }
  }

  private static long num(String json, String key) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + key + "\":(-?\\d+)").matcher(json);
    assertTrue(m.find(), "no " + key + " in " + json);
    return Long.parseLong(m.group(1));
  }

  @Test
  void aKilledPutIsListedResumedByTheSamePutAndFreesItsReservation() throws Exception {
    killedPut(false);
    CliScenarios.Run uploads = store("uploads");
    assertEquals(0, uploads.exitCode, uploads.toString());
    assertTrue(uploads.out.contains(fp.toHex()) && uploads.out.contains("\"alice\""), uploads.out);
    assertTrue(store("ls").err.contains("1 upload waiting"), "ls says what it cannot list");
    CliScenarios.Run stat = store("stat", fp.toHex());
    assertTrue(stat.err.contains("an upload of it is waiting"), stat.toString());
    assertEquals(Files.size(envelope), num(store("stats", "--json").out, "reservedBytes"));

    CliScenarios.Run put = store("put", "--from", "alice", envelope.toString());
    assertEquals(0, put.exitCode, put.toString());
    assertTrue(put.out.contains(fp.toHex() + "  held"), put.out);
    assertEquals("", store("uploads").out);
    CliScenarios.Run stats = store("stats", "--json");
    assertEquals(0, num(stats.out, "reservedBytes"), stats.out);
    assertEquals(Files.size(envelope), num(stats.out, "heldBytes"), stats.out);
  }

  @Test
  void aWaitingUploadCanBeAbortedAndAnIdleOneIsDiscardedByEvict() throws Exception {
    killedPut(false);
    CliScenarios.Run aborted = store("abort", fp.toHex().substring(0, 12));
    assertEquals(0, aborted.exitCode, aborted.toString());
    assertTrue(aborted.out.contains("aborted"), aborted.out);
    assertEquals(0, num(store("stats", "--json").out, "reservedBytes"));
    assertEquals(3, store("abort", fp.toHex()).exitCode, "nothing left to abort");

    killedPut(false);
    assertEquals(0, store("evict", "--clock-offset", "5h").exitCode);
    assertTrue(store("uploads").out.contains(fp.toHex()), "5 h idle: inside the 6 h window");
    assertEquals(0, store("evict", "--clock-offset", "7h").exitCode);
    assertEquals("", store("uploads").out);
    assertEquals(0, num(store("stats", "--json").out, "reservedBytes"));
  }

  @Test
  void aKilledOwnPutIsFinishedByTheNextOwnPut() throws Exception {
    killedPut(true);
    CliScenarios.Run custody = store("put", "--from", "bob", envelope.toString());
    assertEquals(ExitCodes.REFUSED, custody.exitCode, custody.toString());
    assertTrue(custody.err.contains("UPLOAD_IN_PROGRESS"), custody.err);
    CliScenarios.Run own = store("put", "--own", envelope.toString());
    assertEquals(0, own.exitCode, own.toString());
    assertTrue(store("stat", fp.toHex()).out.contains("OWN"));
  }

  @Test
  void aBlobQuarantinedAtOpenIsShownWithItsReason() throws Exception {
    ok("store", "--dir", holder.toString(), "put", "--own", envelope.toString());
    Path blob;
    try (Stream<Path> s = Files.walk(holder.resolve("blobs/groups"))) {
      blob = s.filter(p -> p.toString().endsWith(".blob")).findFirst().orElseThrow();
    }
    try (RandomAccessFile raf = new RandomAccessFile(blob.toFile(), "rw")) {
      raf.setLength(raf.length() - 3); // truncated at rest
    }
    Files.delete(holder.resolve("blobs/CLEAN"));
    CliScenarios.Run ls = store("ls");
    assertTrue(ls.err.contains("1 file in quarantine"), ls.toString());
    CliScenarios.Run stat = store("stat", fp.toHex());
    assertEquals(0, stat.exitCode, stat.toString());
    assertTrue(stat.out.contains("QUARANTINED"), stat.out);
    assertTrue(stat.out.contains("reason"), stat.out);
    CliScenarios.Run q = store("quarantine");
    assertTrue(q.out.contains(fp.toHex()), q.out);
    CliScenarios.Run stats = store("stats", "--json");
    assertEquals(1, num(stats.out, "quarantined"), stats.out);
    assertEquals(1, num(stats.out, "inQuarantine"), stats.out);
  }

  @Test
  void statOfADeliveredBlobDoesNotPrintAnEmptyPeerOrTheEpoch() throws Exception {
    ok("store", "--dir", holder.toString(), "put", "--from", "alice", envelope.toString());
    try (FileCustodyStore s = FileCustodyStore.open(StoreConfig.newBuilder(holder.resolve("blobs")).build())) {
      s.transition(fp, BlobState.DELIVERED);
    }
    CliScenarios.Run stat = store("stat", fp.toHex());
    assertEquals(0, stat.exitCode, stat.toString());
    assertTrue(stat.out.contains("DELIVERED"), stat.out);
    assertFalse(stat.out.contains("from \"\""), stat.out);
    assertFalse(stat.out.contains("1970"), stat.out);
  }

  @Test
  void aDirThatIsAFileIsNamedAsSuch() throws Exception {
    Files.writeString(dir.resolve("afile"), "x");
    CliScenarios.Run r = run("store", "--dir", dir.resolve("afile").toString(), "ls");
    assertEquals(ExitCodes.IO, r.exitCode, r.toString());
    assertTrue(r.err.contains("not a folder"), r.err);
    assertFalse(r.err.contains("store.conf"), r.err);
  }

  @Test
  void anEnvelopeNamedForAnotherFingerprintIsWarnedAboutOrRefused() throws Exception {
    String other = "ab".repeat(32);
    Path misnamed = dir.resolve(other + ".cbe");
    Files.copy(envelope, misnamed);
    CliScenarios.Run refused = store("put", "--from", "alice", "--expect-fingerprint", other, misnamed.toString());
    assertEquals(ExitCodes.ENVELOPE_REJECTED, refused.exitCode, refused.toString());
    assertTrue(refused.err.contains("FINGERPRINT_MISMATCH") || refused.err.contains("expected " + other),
        refused.err);
    assertEquals(0, num(store("stats", "--json").out, "heldBytes"));
    CliScenarios.Run warned = store("put", "--from", "alice", misnamed.toString());
    assertEquals(0, warned.exitCode, warned.toString());
    assertTrue(warned.err.contains("warning") && warned.err.contains(fp.toHex()), warned.err);
    CliScenarios.Run right = store("put", "--from", "bob", "--expect-fingerprint", fp.toHex(), envelope.toString());
    assertEquals(ExitCodes.REFUSED, right.exitCode, right.toString()); // held already: refused, but not a mismatch
    assertFalse(right.err.contains("FINGERPRINT_MISMATCH"), right.err);
  }
}
