package io.crowdbackup.engine.custody;

import static io.crowdbackup.engine.custody.CustodyFixture.START_EPOCH_MILLIS;
import static io.crowdbackup.engine.custody.CustodyFixture.envelope;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.custody.CustodyFixture.Env;
import io.crowdbackup.engine.policy.ManualTimeSource;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import io.crowdbackup.engine.store.StoreTestSupport;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a killed process leaves a holder, and how the next run carries on from it. */
class CustodianRecoveryTest {
  private static final long LIMIT = 10L << 20;

  @TempDir
  Path dir;
  private final ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);

  private Custodian open() throws Exception {
    return CustodyFixture.open(dir, CustodyFixture.policy(time, LIMIT));
  }

  /** A killed upload as the store keeps it: half written, checkpointed, never closed. */
  private static void leaveHalfDone(Upload u, byte[] bytes) throws Exception {
    u.write(ByteBuffer.wrap(bytes, 0, bytes.length / 2));
    assertTrue(u.checkpoint() > 0);
  }

  @Test
  void aPutOfTheSameEnvelopeFromTheSamePeerResumesAKilledUpload() throws Exception {
    Env e = envelope(1, 60_000);
    try (Custodian c = open()) {
      CustodyUpload u = c.accept(e.offer("p1"));
      u.write(ByteBuffer.wrap(e.bytes, 0, e.bytes.length / 2));
      assertTrue(u.checkpoint() > 0);
      // killed here: the handle is never closed
    }
    try (Custodian c = open()) {
      assertEquals(e.bytes.length, c.stats().reservedBytes(), "the killed upload is still reserved");
      // Another peer's offer of the same envelope is not told ALREADY_HELD: nothing is held.
      assertEquals(Refusal.Reason.UPLOAD_IN_PROGRESS,
          assertThrows(RefusalException.class, () -> c.receive(e.offer("p2"), e.channel())).refusal().reason());
      assertEquals(e.fingerprint, c.receive(e.offer("p1"), e.channel()).fingerprint());
      assertEquals(0, c.stats().reservedBytes());
      assertEquals(e.bytes.length, c.stats().heldBytes());
      assertEquals(0, c.uploads().size());
    }
  }

  @Test
  void aResumableUploadCanBeListedAndAbortedThroughTheCustodian() throws Exception {
    Env e = envelope(2, 60_000);
    try (Custodian c = open()) {
      CustodyUpload u = c.accept(e.offer("p1"));
      u.write(ByteBuffer.wrap(e.bytes, 0, e.bytes.length / 2));
      u.checkpoint();
      u.close();
      assertEquals(1, c.allUploads().size());
      assertTrue(c.abortUpload(e.fingerprint));
      assertEquals(0, c.allUploads().size());
      assertEquals(0, c.stats().reservedBytes());
      assertEquals(e.fingerprint, c.receive(e.offer("p2"), e.channel()).fingerprint());
    }
  }

  @Test
  void aKilledForwardOfAnOwnBlobIsHeldAgainOnReopen() throws Exception {
    Env own = envelope(3, 20_000);
    Env custody = envelope(4, 20_000);
    try (Custodian c = open()) {
      c.putOwn(own.fingerprint, own.bytes.length, own.channel());
      c.receive(custody.offer("p1"), custody.channel());
      c.beginForward(own.fingerprint, own.destination.card().locator());
      c.beginForward(custody.fingerprint, custody.destination.card().locator());
      // killed mid-forward: neither forward is finished
    }
    try (Custodian c = open()) {
      assertEquals(BlobState.HELD, c.stat(own.fingerprint).state());
      assertEquals(BlobState.HELD, c.stat(custody.fingerprint).state());
      try (Forward f = c.beginForward(own.fingerprint, own.destination.card().locator())) {
        assertArrayEquals(own.bytes, StoreTestSupport.readAll(f.channel()));
      }
    }
  }

  @Test
  void aKilledOwnPutIsResumedByTheNextOwnPutAndNeverCalledHeld() throws Exception {
    Env e = envelope(5, 60_000);
    Path storeDir = dir.resolve("store");
    try (FileCustodyStore s = FileCustodyStore.open(StoreConfig.newBuilder(storeDir).expiryGroupSeconds(600)
        .clock(new StoreTestSupport.MutableClock(START_EPOCH_MILLIS / 1000)).checkpointEveryBytes(4096).build())) {
      leaveHalfDone(s.begin(UploadRequest.newBuilder().fingerprint(e.fingerprint).declaredLengthBytes(e.bytes.length)
          .own().build()), e.bytes);
    }
    try (Custodian c = open()) {
      assertNull(c.stat(e.fingerprint));
      Refusal r = assertThrows(RefusalException.class, () -> c.receive(e.offer("p1"), e.channel())).refusal();
      assertEquals(Refusal.Reason.UPLOAD_IN_PROGRESS, r.reason(), r.toString());
      assertEquals(0, c.stats().reservedBytes());
      assertEquals(e.fingerprint, c.putOwn(e.fingerprint, e.bytes.length, e.channel()).fingerprint());
      assertEquals(BlobKind.OWN, c.stat(e.fingerprint).kind());
      assertEquals(0, c.allUploads().size());
      assertArrayEquals(e.bytes, StoreTestSupport.readAll(c.openOwn(e.fingerprint, "p9")));
    }
  }

  @Test
  void anOwnBlobQuarantinedAtOpenIsCountedAndFoundByItsFingerprint() throws Exception {
    Env own = envelope(7, 20_000);
    try (Custodian c = open()) {
      c.putOwn(own.fingerprint, own.bytes.length, own.channel());
    }
    Path blob;
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(dir.resolve("store").resolve("groups"))) {
      blob = files.filter(p -> p.toString().endsWith(".blob")).findFirst().orElseThrow();
    }
    try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(blob.toFile(), "rw")) {
      raf.setLength(raf.length() + 5); // extended at rest
    }
    java.nio.file.Files.delete(dir.resolve("store").resolve("CLEAN"));
    try (Custodian c = open()) {
      assertNull(c.stat(own.fingerprint));
      assertEquals(1, c.stats().quarantinedCount(), "a quarantine at open, of an own blob, is counted");
      io.crowdbackup.api.store.QuarantinedBlob q = c.quarantineOf(own.fingerprint);
      assertTrue(q != null && !q.reason().isEmpty(), String.valueOf(q));
      assertEquals(1, c.quarantined().size());
    }
  }
}
