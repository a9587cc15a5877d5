package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreTestSupport.NOW_EPOCH_SECOND;
import static io.crowdbackup.engine.store.StoreTestSupport.envelope;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.engine.store.StoreTestSupport.Env;
import io.crowdbackup.engine.store.StoreTestSupport.MutableClock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Uploads a process left behind: idle time across restarts, never-checkpointed leftovers, abort. */
class UploadRecoveryTest {
  private static final long HOUR_MILLIS = 3600_000L;

  @TempDir
  Path dir;
  private final MutableClock clock = new MutableClock(NOW_EPOCH_SECOND);
  private FileCustodyStore store;

  private FileCustodyStore open() throws IOException {
    // Opened and "killed" again and again, as each CLI command is a fresh process.
    if (store != null) {
      store.close();
    }
    store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store")).clock(clock)
        .checkpointEveryBytes(4096).build());
    return store;
  }

  @AfterEach
  void close() throws IOException {
    if (store != null) {
      store.close();
    }
  }

  private long partialFiles() throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve("store").resolve(FileCustodyStore.PARTIAL_DIR))) {
      return s.count();
    }
  }

  /** Begins an upload, makes part of it durable and leaves it as a killed process would: open. */
  private long leaveHalfDone(Env e) throws IOException {
    Upload u = store.begin(e.custody("p"));
    u.write(ByteBuffer.wrap(e.bytes, 0, e.bytes.length / 2));
    long durable = u.checkpoint();
    assertTrue(durable > 0, "the test needs a durable part");
    return durable;
  }

  @Test
  void anIdleUploadIsDiscardedAfterItsWindowEvenWhenEveryCommandIsAFreshOpen() throws IOException {
    Env e = envelope(1, 40_000);
    open();
    long durable = leaveHalfDone(e);
    clock.advanceSeconds(5 * 3600);
    open();
    List<UploadInfo> left = store.uploads();
    assertEquals(1, left.size(), "5 h idle is inside the 6 h window: still resumable");
    assertEquals(durable, left.get(0).durableOffsetBytes());
    assertEquals(NOW_EPOCH_SECOND * 1000, left.get(0).lastProgressEpochMillis(), "the last progress survives reopen");
    // An hour later (6 h 1 min after its last progress), eviction discards it and frees its reservation.
    clock.advanceSeconds(3600 + 60);
    store.dropExpired(clock.millis() / 1000);
    assertEquals(0, store.uploads().size());
    assertEquals(0, store.usage().custodyReservedBytes());
    assertEquals(0, partialFiles());
  }

  @Test
  void anIdleUploadPastItsWindowIsDiscardedAtOpen() throws IOException {
    Env e = envelope(2, 40_000, false, NOW_EPOCH_SECOND + 24 * 3600);
    open();
    leaveHalfDone(e);
    clock.advanceSeconds(13 * 3600);
    open();
    assertEquals(0, store.uploads().size());
    assertEquals(0, store.usage().custodyReservedBytes());
    assertEquals(0, partialFiles());
    store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes)); // and the envelope can be put again
  }

  @Test
  void aResumeRestartsTheWindow() throws IOException {
    Env e = envelope(3, 40_000);
    open();
    leaveHalfDone(e);
    clock.advanceSeconds(5 * 3600);
    open();
    store.resume(e.fingerprint).close();
    clock.advanceSeconds(5 * 3600);
    open();
    assertEquals(1, store.uploads().size(), "resumed 5 h ago: inside its window");
  }

  @Test
  void aCheckpointInsideAPieceMakesEveryByteDurableAcrossACrash() throws IOException {
    Env e = envelope(6, 100_000);
    open();
    Upload u = store.begin(e.custody("p"));
    int sent = 70_001; // inside a piece (chunks of 4 KiB)
    u.write(ByteBuffer.wrap(e.bytes, 0, sent));
    assertEquals(sent, u.checkpoint(), "the partial piece is durable too");
    assertEquals(sent, u.durableOffset());
    u.write(ByteBuffer.wrap(e.bytes, sent, 3000)); // not checkpointed: may be lost
    open(); // "killed": the handle was never closed
    assertEquals(sent, store.uploads().get(0).durableOffsetBytes());
    try (Upload r = store.resume(e.fingerprint)) {
      assertEquals(sent, r.offset());
      assertEquals(sent, r.durableOffset());
      r.write(ByteBuffer.wrap(e.bytes, sent, e.bytes.length - sent));
      r.commit();
    }
    assertEquals(0, partialFiles(), "journal and tail are gone with the commit");
    assertEquals(e.bytes.length, store.stat(e.fingerprint).envelopeLengthBytes());
  }

  @Test
  void aTornTailRecordOrLostTailBytesFallBackToWhatIsStillProven() throws IOException {
    Env e = envelope(7, 100_000);
    open();
    Upload u = store.begin(e.custody("p"));
    u.write(ByteBuffer.wrap(e.bytes, 0, 70_001));
    long first = u.checkpoint();
    u.write(ByteBuffer.wrap(e.bytes, 70_001, 100));
    long second = u.checkpoint(); // same piece: the record goes to the other slot
    assertEquals(70_101, second);
    open();
    Path partial = dir.resolve("store").resolve(FileCustodyStore.PARTIAL_DIR);
    Path tail = partial.resolve(e.fingerprint.toHex() + FileCustodyStore.TAIL_SUFFIX);
    byte[] t = Files.readAllBytes(tail);
    t[40] ^= 1; // tear the second record
    Files.write(tail, t);
    open();
    assertEquals(first, store.uploads().get(0).durableOffsetBytes(), "the first record still holds");
    try (Upload r = store.resume(e.fingerprint)) {
      assertEquals(first, r.offset());
    }
    // The bytes a record vouches for are lost (a power cut took the pages): back to the last whole piece.
    Path part = partial.resolve(e.fingerprint.toHex() + FileCustodyStore.PART_SUFFIX);
    byte[] d = Files.readAllBytes(part);
    d[d.length - 1] ^= 1;
    Files.write(part, d);
    open();
    try (Upload r = store.resume(e.fingerprint)) {
      assertTrue(r.offset() < first && r.offset() > first - 4096 - 64, "resumed at " + r.offset());
      r.write(ByteBuffer.wrap(e.bytes, (int) r.offset(), e.bytes.length - (int) r.offset()));
      r.commit();
    }
    assertEquals(0, partialFiles());
  }

  @Test
  void theFirstRecordAfterAResumeLeavesThePromiseBeforeTheCrashWhole() throws IOException {
    Env e = envelope(8, 100_000);
    open();
    Upload u = store.begin(e.custody("p"));
    u.write(ByteBuffer.wrap(e.bytes, 0, 70_001));
    assertEquals(70_001, u.checkpoint());
    open(); // killed
    Upload r = store.resume(e.fingerprint);
    r.write(ByteBuffer.wrap(e.bytes, 70_001, 100));
    assertEquals(70_101, r.checkpoint());
    open(); // killed again, and the newest record tore
    Path tail = dir.resolve("store").resolve(FileCustodyStore.PARTIAL_DIR)
        .resolve(e.fingerprint.toHex() + FileCustodyStore.TAIL_SUFFIX);
    ByteBuffer t = ByteBuffer.wrap(Files.readAllBytes(tail));
    int newest = t.getLong(8) == 70_101 ? 0 : 32;
    assertEquals(70_101, t.getLong(newest + 8));
    t.put(newest + 8, (byte) (t.get(newest + 8) ^ 1));
    Files.write(tail, t.array());
    open();
    assertEquals(70_001, store.uploads().get(0).durableOffsetBytes(), "the record from before the resume");
  }

  @Test
  void anUploadThatNeverCheckpointedIsRemovedAtOpen() throws IOException {
    Env e = envelope(4, 40_000);
    open();
    Upload u = store.begin(e.custody("p"));
    u.write(ByteBuffer.wrap(e.bytes, 0, 1000)); // less than a chunk: nothing durable, nothing promised
    open();
    assertEquals(List.of(), store.uploads());
    assertEquals(0, store.usage().custodyReservedBytes());
    assertEquals(0, partialFiles());
  }

  @Test
  void aResumableUploadCanBeAbortedByFingerprint() throws IOException {
    Env e = envelope(5, 40_000);
    open();
    leaveHalfDone(e);
    StoreException open = assertThrows(StoreException.class, () -> store.abortUpload(e.fingerprint));
    assertEquals(StoreException.Reason.DUPLICATE, open.reason(), "still open in its handle");
    open();
    assertTrue(store.abortUpload(e.fingerprint));
    assertFalse(store.abortUpload(e.fingerprint));
    assertEquals(0, store.usage().custodyReservedBytes());
    assertEquals(0, partialFiles());
  }

  @Test
  void aBeginRacingAnAbortOfTheSameFingerprintNeverMeetsItsLeftovers() throws Exception {
    Env e = envelope(6, 40_000);
    open();
    Upload first = store.begin(e.custody("p"));
    first.write(ByteBuffer.wrap(e.bytes, 0, 10_000));
    CountDownLatch forgotten = new CountDownLatch(1);
    CountDownLatch resume = new CountDownLatch(1);
    store.afterUploadForgotten = () -> {
      forgotten.countDown();
      try {
        resume.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
    };
    Thread aborter = new Thread(() -> {
      try {
        first.abort();
      } catch (IOException ex) {
        throw new IllegalStateException(ex);
      }
    });
    aborter.start();
    assertTrue(forgotten.await(10, TimeUnit.SECONDS));
    store.afterUploadForgotten = null;
    // The abort is parked right after the upload left the list: a new begin of the same fingerprint now.
    AtomicReference<Object> second = new AtomicReference<>();
    Thread beginner = new Thread(() -> {
      try {
        second.set(store.begin(e.custody("q")));
      } catch (IOException ex) {
        second.set(ex);
      }
    });
    beginner.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (beginner.isAlive() && beginner.getState() != Thread.State.BLOCKED && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    resume.countDown();
    beginner.join(10_000);
    aborter.join(10_000);
    assertTrue(second.get() instanceof Upload, "the second begin failed: " + second.get());
    Upload u = (Upload) second.get();
    u.write(ByteBuffer.wrap(e.bytes));
    assertEquals(e.fingerprint, u.commit().fingerprint());
    assertNull(store.uploads().stream().filter(x -> x.request().fingerprint().equals(e.fingerprint)).findAny()
        .orElse(null));
  }
}
