package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreException.Reason;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.api.store.Upload;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults a disk can produce — a write that stops midway (disk full), a failing fsync, a torn last record,
 * flipped bits — each must end in a typed error or a quarantine, never in a wrong byte served, and the
 * store must stay usable and consistent afterwards.
 */
class FaultInjectionTest {
  @TempDir
  Path dir;
  MutableClock clock;
  FaultyFileOpener faults;
  FileCustodyStore store;

  @BeforeEach
  void open() throws IOException {
    clock = new MutableClock(NOW_EPOCH_SECOND);
    faults = new FaultyFileOpener();
    store = FileCustodyStore.open(config());
  }

  @AfterEach
  void close() throws IOException {
    store.close();
  }

  private StoreConfig config() {
    return StoreConfig.newBuilder(dir.resolve("store")).clock(clock).fileOpener(faults).checkpointEveryBytes(8192)
        .build();
  }

  private void reopenDirty() throws IOException {
    store.close();
    Files.delete(dir.resolve("store").resolve(FileCustodyStore.CLEAN_FILE));
    store = FileCustodyStore.open(config());
  }

  private static boolean named(Path p, String suffix) {
    return p.getFileName().toString().endsWith(suffix);
  }

  private List<Path> files(String sub, String suffix) throws IOException {
    try (Stream<Path> s = Files.walk(dir.resolve("store").resolve(sub))) {
      return s.filter(p -> Files.isRegularFile(p) && named(p, suffix)).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void diskFullMidwayThroughAPutIsTypedAndLeavesNothing() throws IOException {
    diskFullMidwayThroughAPut(envelope(1, 100_000), 30_000);
  }

  @Test
  void diskFullInAPutsFirstWriteIsTypedAndLeavesNothing() throws IOException {
    diskFullMidwayThroughAPut(envelope(3, 100_000), 50); // inside the record header, written with the first bytes
  }

  @Test
  void diskFullUnderAPutsWriterThreadIsTypedAndLeavesNothing() throws IOException {
    diskFullMidwayThroughAPut(envelope(24, 5_000_000), 2_000_000); // written on a writer thread
  }

  private void diskFullMidwayThroughAPut(Env e, long budget) throws IOException {
    faults.writeFaultOn = p -> named(p, ".part");
    faults.writeBudgetBytes = budget;
    StoreException ex = assertThrows(StoreException.class,
        () -> store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes)));
    assertEquals(Reason.DISK_FULL, ex.reason(), ex.getMessage());
    assertTrue(ex.path().endsWith(".part"), ex.path());
    assertTrue(ex.getMessage().contains("free space"), ex.getMessage());
    // The put removed its partial: its message must not promise a resume.
    assertFalse(ex.getMessage().contains("resumable"), ex.getMessage());
    assertTrue(ex.getMessage().contains("nothing was stored"), ex.getMessage());
    assertEquals(new StoreUsage(0, 0, 0, 0, 0, 0), store.usage());
    assertEquals(List.of(), files(FileCustodyStore.PARTIAL_DIR, ""));
    assertEquals(List.of(), files(FileCustodyStore.GROUPS_DIR, ".blob"));
    faults.reset();
    store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
  }

  @Test
  void diskFullInAResumableUploadKeepsItResumable() throws IOException {
    Env e = envelope(2, 100_000);
    Upload u = store.begin(e.custody("p"));
    u.write(ByteBuffer.wrap(e.bytes, 0, 40_000));
    long durable = u.checkpoint();
    faults.writeFaultOn = p -> named(p, ".part");
    faults.writeBudgetBytes = 5_000;
    StoreException ex = assertThrows(StoreException.class, () -> u.write(ByteBuffer.wrap(e.bytes, 40_000, 30_000)));
    assertEquals(Reason.DISK_FULL, ex.reason());
    assertEquals(Reason.IO_ERROR, assertThrows(StoreException.class, u::commit).reason());
    u.close();
    faults.reset();
    assertEquals(e.bytes.length, store.usage().custodyReservedBytes());
    try (Upload r = store.resume(e.fingerprint)) {
      assertTrue(r.offset() >= durable);
      r.write(ByteBuffer.wrap(e.bytes, (int) r.offset(), e.bytes.length - (int) r.offset()));
      r.commit();
    }
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
  }

  /**
   * A large resumable upload writes on a writer thread while the caller hashes: a write failing there is
   * reported by that {@code write}, not lost, and the durable offset never counts bytes the writer did not
   * write (checkpoints run behind every 8 KiB here, so one counting hashed bytes would pass them).
   */
  @Test
  void diskFullUnderAResumableUploadsWriterThreadIsReportedAndNothingUnwrittenIsDurable() throws IOException {
    Env e = envelope(25, 5_000_000); // past UploadImpl.OVERLAP_MIN_BYTES: hashed here, written on a writer thread
    Upload u = store.begin(e.custody("p"));
    u.write(ByteBuffer.wrap(e.bytes, 0, 1 << 20));
    long durable = u.checkpoint();
    assertEquals(1 << 20, u.offset());
    faults.writeFaultOn = p -> named(p, ".part");
    long budget = 300_000;
    faults.writeBudgetBytes = budget;
    StoreException ex = assertThrows(StoreException.class, () -> u.write(ByteBuffer.wrap(e.bytes, 1 << 20, 2 << 20)));
    assertEquals(Reason.DISK_FULL, ex.reason(), ex.getMessage());
    assertTrue(ex.path().endsWith(".part"), ex.path());
    assertTrue(faults.writingThreads.stream().allMatch(t -> t.startsWith("crowdbackup-writer")),
        "written on " + faults.writingThreads);
    assertEquals(Reason.IO_ERROR, assertThrows(StoreException.class, u::commit).reason());
    u.close(); // waits for any checkpoint behind
    assertTrue(u.durableOffset() >= durable && u.durableOffset() <= durable + budget,
        "durable offset " + u.durableOffset() + ", written " + (durable + budget));
    faults.reset();
    reopenDirty(); // what the journal proves on disk, not what the handle remembers
    try (Upload r = store.resume(e.fingerprint)) {
      assertTrue(r.offset() >= durable && r.offset() <= durable + budget, "resumed at " + r.offset());
      r.write(ByteBuffer.wrap(e.bytes, (int) r.offset(), e.bytes.length - (int) r.offset()));
      r.commit();
    }
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
  }

  /** A rejection found while the writer runs aborts once the writer stopped: nothing is left behind. */
  @Test
  void aResumableUploadRejectedWhileItsWriterRunsIsRemoved() throws IOException {
    Env e = envelope(26, 5_000_000);
    Upload u = store.begin(e.custody("p"));
    byte[] wrong = e.bytes.clone();
    wrong[(1 << 20) + 200_000] ^= 1; // a chunk's tag fails
    u.write(ByteBuffer.wrap(wrong, 0, 1 << 20));
    // Bytes that are not the envelope promised: the envelope's own rejection (the store adds no reason).
    EnvelopeException ex = assertThrows(EnvelopeException.class, () -> {
      u.write(ByteBuffer.wrap(wrong, 1 << 20, 2 << 20));
      u.write(ByteBuffer.wrap(wrong, 3 << 20, wrong.length - (3 << 20)));
      u.commit();
    });
    assertEquals(EnvelopeException.Reason.FINGERPRINT_MISMATCH, ex.reason(), ex.getMessage());
    u.close();
    assertEquals(List.of(), files(FileCustodyStore.PARTIAL_DIR, ""));
    assertEquals(0, store.usage().custodyReservedBytes());
  }

  @Test
  void permissionDeniedIsTypedAndNamesThePath() throws IOException {
    Env e = envelope(12, 5000);
    faults.openDeniedOn = p -> named(p, ".part");
    StoreException ex = assertThrows(StoreException.class,
        () -> store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes)));
    assertEquals(Reason.PERMISSION_DENIED, ex.reason(), ex.getMessage());
    assertTrue(ex.path().endsWith(e.fingerprint.toHex() + ".part"), ex.path());
    assertTrue(ex.getMessage().contains("check the owner and mode"), ex.getMessage());
    faults.reset();
    store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
    assertTrue(store.contains(e.fingerprint));
  }

  /**
   * Fuzz finding F11: an index entry that disagrees with a blob file which verifies itself must cost a
   * rebuild of the index, not the blob. (The index is derived; the file is the truth.)
   */
  @Test
  void aWrongIndexEntryIsRebuiltFromTheFileNotQuarantined() throws IOException {
    store.close();
    List<io.crowdbackup.engine.store.index.InMemoryBlobIndex> opened = new ArrayList<>();
    store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store")).clock(clock).fileOpener(faults)
        .indexFactory(keepingIndexes(opened)).build());
    Env e = envelope(15, 30_000);
    Env other = envelope(16, 20_000);
    store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
    store.put(other.custody("q"), CustodyStoreContractTest.in(other.bytes));
    StoreUsage before = store.usage();
    io.crowdbackup.engine.store.index.IndexEntry right = opened.get(0).get(e.fingerprint);
    opened.get(0).put(new io.crowdbackup.engine.store.index.IndexEntry(right.fingerprint(), right.blobId(),
        right.groupEpochSecond(), right.envelopeLengthBytes() + 1, right.expiresAtEpochSecond(),
        right.storedAtEpochMillis(), right.state(), right.kind(), right.sourcePeer(), right.locator()));

    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
    assertEquals(2, opened.size(), "the index was rebuilt from the data files");
    assertEquals(List.of(), files(FileCustodyStore.QUARANTINE_DIR, ""));
    assertEquals(e.bytes.length, store.stat(e.fingerprint).envelopeLengthBytes());
    assertEquals(before, store.usage());
    assertArrayEquals(other.bytes, readAll(store.open(other.fingerprint)));
  }

  @Test
  void aWrongIndexExpiryDoesNotDropALiveBlob() throws IOException {
    store.close();
    List<io.crowdbackup.engine.store.index.InMemoryBlobIndex> opened = new ArrayList<>();
    store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store")).clock(clock).fileOpener(faults)
        .indexFactory(keepingIndexes(opened)).build());
    Env e = envelope(17, 10_000); // expires at NOW + 6 h, 800 s into its expiry hour
    store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
    long groupStart = Math.floorDiv(NOW_EPOCH_SECOND + 6 * 3600, 3600) * 3600;
    io.crowdbackup.engine.store.index.IndexEntry right = opened.get(0).get(e.fingerprint);
    opened.get(0).put(new io.crowdbackup.engine.store.index.IndexEntry(right.fingerprint(), right.blobId(),
        right.groupEpochSecond(), right.envelopeLengthBytes(), groupStart + 50, right.storedAtEpochMillis(),
        right.state(), right.kind(), right.sourcePeer(), right.locator()));
    clock.setEpochSecond(groupStart + 100);

    assertEquals(0, store.dropExpired(groupStart + 100));
    assertEquals(2, opened.size(), "the index was rebuilt from the data files");
    assertEquals(NOW_EPOCH_SECOND + 6 * 3600, store.stat(e.fingerprint).expiresAtEpochSecond());
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
    assertEquals(1, store.dropExpired(groupStart + 800), "at its own expiry it goes");
    assertFalse(store.contains(e.fingerprint));
  }

  /** An index factory that hands out portable indexes and keeps each, so a test can reach into it. */
  private static io.crowdbackup.engine.store.index.BlobIndex.Factory keepingIndexes(
      List<io.crowdbackup.engine.store.index.InMemoryBlobIndex> opened) {
    return new io.crowdbackup.engine.store.index.BlobIndex.Factory() {
      @Override
      public io.crowdbackup.engine.store.index.BlobIndex open(Path d, boolean clean) {
        io.crowdbackup.engine.store.index.InMemoryBlobIndex i = new io.crowdbackup.engine.store.index.InMemoryBlobIndex();
        opened.add(i);
        return i;
      }

      @Override
      public String name() {
        return "memory";
      }
    };
  }

  /** CLEAN and STORE are fixed-size records: a huge file in their place is refused, never read whole. */
  @Test
  void hugeMarkerAndDescriptorFilesAreRefusedUnread() throws IOException {
    Env e = envelope(18, 5_000);
    store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
    store.close();
    Path root = dir.resolve("store");
    try (RandomAccessFile clean = new RandomAccessFile(root.resolve(FileCustodyStore.CLEAN_FILE).toFile(), "rw")) {
      clean.setLength(1L << 40);
    }
    store = FileCustodyStore.open(config());
    assertFalse(store.openedClean(), "a 1 TiB CLEAN is no clean marker");
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
    store.close();
    try (RandomAccessFile descriptor = new RandomAccessFile(root.resolve(FileCustodyStore.STORE_FILE).toFile(), "rw")) {
      descriptor.setLength(1L << 40);
    }
    StoreException ex = assertThrows(StoreException.class, () -> FileCustodyStore.open(config()));
    assertEquals(Reason.UNSUPPORTED_FORMAT, ex.reason());
    Files.delete(root.resolve(FileCustodyStore.STORE_FILE));
    store = FileCustodyStore.open(config());
  }

  @Test
  void anIndexThatFailsIsRebuiltFromTheDataFiles() throws IOException {
    store.close();
    int[] failPutNumber = {3};
    int[] puts = {0};
    io.crowdbackup.engine.store.index.BlobIndex.Factory flaky = new io.crowdbackup.engine.store.index.BlobIndex.Factory() {
      @Override
      public io.crowdbackup.engine.store.index.BlobIndex open(Path d, boolean clean) {
        io.crowdbackup.engine.store.index.InMemoryBlobIndex inner = new io.crowdbackup.engine.store.index.InMemoryBlobIndex();
        return new io.crowdbackup.engine.store.index.BlobIndex() {
          @Override
          public boolean isPopulated() {
            return false;
          }

          @Override
          public io.crowdbackup.engine.store.index.IndexEntry get(io.crowdbackup.api.Fingerprint f) {
            return inner.get(f);
          }

          @Override
          public void put(io.crowdbackup.engine.store.index.IndexEntry entry) throws IOException {
            if (++puts[0] == failPutNumber[0]) {
              throw new IOException("index full (injected)");
            }
            inner.put(entry);
          }

          @Override
          public boolean remove(io.crowdbackup.api.Fingerprint f) {
            return inner.remove(f);
          }

          @Override
          public void forEach(java.util.function.Consumer<io.crowdbackup.engine.store.index.IndexEntry> action) {
            inner.forEach(action);
          }

          @Override
          public long size() {
            return inner.size();
          }

          @Override
          public void clear() {
            inner.clear();
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
      }

      @Override
      public String name() {
        return "flaky";
      }
    };
    store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("flaky")).clock(clock).indexFactory(flaky).build());
    List<Env> envs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Env e = envelope(200 + i, 3000);
      envs.add(e);
      store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes)); // the third put's index update fails
    }
    failPutNumber[0] = puts[0] + 1; // and the next state change's too
    store.transition(envs.get(0).fingerprint, BlobState.FORWARDING);
    long total = 0;
    for (Env e : envs) {
      assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
      total += e.bytes.length;
    }
    assertEquals(BlobState.FORWARDING, store.stat(envs.get(0).fingerprint).state());
    assertEquals(new StoreUsage(total, 0, 0, 0, 4, 0), store.usage());
  }

  @Test
  void aFailingFsyncOnCommitLeavesNothingVisible() throws IOException {
    Env e = envelope(3, 50_000);
    faults.forceFaultOn = p -> named(p, ".part");
    StoreException ex = assertThrows(StoreException.class,
        () -> store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes)));
    assertEquals(Reason.IO_ERROR, ex.reason());
    assertFalse(store.contains(e.fingerprint));
    faults.reset();
    reopenDirty();
    assertFalse(store.contains(e.fingerprint));
    store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
    assertTrue(store.contains(e.fingerprint));
  }

  /**
   * On Linux an fsync error is reported once per open file: if the flush behind's failure were dropped, the
   * fsync at commit would succeed and acknowledge bytes the disk never took. Only the first fsync of the
   * data file fails here, and that is the background one.
   */
  @Test
  void aFailingFlushBehindFailsThePutThoughTheCommitFsyncWouldSucceed() throws IOException {
    store.close();
    store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store")).clock(clock).fileOpener(faults)
        .flushBehindBytes(64 * 1024).build());
    Env e = envelope(13, 600_000);
    java.util.concurrent.atomic.AtomicInteger forces = new java.util.concurrent.atomic.AtomicInteger();
    faults.forceFaultOn = p -> named(p, ".part") && forces.getAndIncrement() == 0;
    StoreException ex = assertThrows(StoreException.class,
        () -> store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes)));
    assertEquals(Reason.IO_ERROR, ex.reason());
    assertTrue(ex.getMessage().contains("flushing upload bytes"), ex.getMessage());
    assertFalse(store.contains(e.fingerprint));
    assertEquals(List.of(), files(FileCustodyStore.GROUPS_DIR, ".blob"));
    faults.reset();
    store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
  }

  /**
   * A resumable upload checkpoints behind its writes: an fsync that hangs does not stall them, and the
   * durable offset (here and in what the store tells others) does not move before the data's fsync ended.
   */
  @Test
  void aCheckpointBehindNeitherStallsTheWritesNorRunsAheadOfTheDataFsync() throws Exception {
    Env e = envelope(31, 100_000);
    Upload u = store.begin(e.custody("p"));
    faults.forceBlockOn = p -> named(p, ".part");
    java.util.concurrent.ExecutorService writer = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      // Seven checkpoints' worth (8 KiB each): a synchronous checkpoint would wait in its fsync for ever.
      writer.submit(() -> {
        u.write(ByteBuffer.wrap(e.bytes, 0, 60_000));
        return null;
      }).get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertTrue(faults.forcesBlocked.tryAcquire(30, java.util.concurrent.TimeUnit.SECONDS),
          "the checkpoint's data fsync runs behind the writes");
      assertEquals(60_000, u.offset());
      assertEquals(0, u.durableOffset());
      assertEquals(0, store.uploads().get(0).durableOffsetBytes());
    } finally {
      faults.releaseForces.countDown();
      writer.shutdown();
    }
    long durable = u.checkpoint();
    assertTrue(durable > 50_000 && durable <= 60_000, "whole pieces up to 60,000 bytes: " + durable);
    assertEquals(durable, u.durableOffset());
    assertEquals(durable, store.uploads().get(0).durableOffsetBytes());
    u.write(ByteBuffer.wrap(e.bytes, 60_000, e.bytes.length - 60_000));
    u.commit();
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
  }

  /** A checkpoint behind whose data fsync fails fails the upload, and journals none of its pieces. */
  @Test
  void aFailingCheckpointBehindFailsTheUploadAndKeepsTheDurableOffset() throws IOException {
    Env e = envelope(32, 100_000);
    Upload u = store.begin(e.custody("p"));
    u.write(ByteBuffer.wrap(e.bytes, 0, 20_000));
    long durable = u.checkpoint();
    assertTrue(durable > 0);
    java.util.concurrent.atomic.AtomicInteger forces = new java.util.concurrent.atomic.AtomicInteger();
    faults.forceFaultOn = p -> named(p, ".part") && forces.getAndIncrement() == 0;
    StoreException ex = assertThrows(StoreException.class, () -> {
      u.write(ByteBuffer.wrap(e.bytes, 20_000, 40_000)); // the failure surfaces at a later write ...
      u.checkpoint(); // ... or here at the latest
    });
    assertEquals(Reason.IO_ERROR, ex.reason(), ex.getMessage());
    assertEquals(1, forces.get(), "the first fsync after the checkpoint was the background one, and it failed");
    assertEquals(durable, u.durableOffset());
    u.close();
    faults.reset();
    reopenDirty();
    try (Upload r = store.resume(e.fingerprint)) {
      assertEquals(durable, r.durableOffset(), "no journal entry for data whose fsync failed");
      r.write(ByteBuffer.wrap(e.bytes, (int) r.offset(), e.bytes.length - (int) r.offset()));
      r.commit();
    }
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
  }

  @Test
  void flushBehindFsyncsTheDataFileWhileAPutIsStillWriting() throws IOException {
    Env e = envelope(14, 600_000);
    for (long every : new long[] {0, 64 * 1024}) {
      store.close();
      store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store-" + every)).clock(clock)
          .fileOpener(faults).flushBehindBytes(every).build());
      java.util.concurrent.atomic.AtomicInteger forces = new java.util.concurrent.atomic.AtomicInteger();
      faults.forceFaultOn = p -> {
        if (named(p, ".part")) {
          forces.incrementAndGet();
        }
        return false;
      };
      store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
      faults.reset();
      if (every == 0) {
        assertEquals(1, forces.get(), "without flush behind a put fsyncs its data file once, at commit");
      } else {
        assertTrue(forces.get() >= 2, "flush behind every 64 KiB of a 600 KB put: " + forces.get() + " fsyncs");
      }
      assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
    }
  }

  @Test
  void aPutCreatesNoUploadJournalAtAnySize() throws IOException {
    // 100 KB: hashed and written on the caller's thread; 5 MB: on two threads (UploadImpl.putAll).
    for (Env e : new Env[] {envelope(21, 100_000), envelope(22, 5_000_000)}) {
      faults.recordOpens = true;
      store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
      faults.recordOpens = false;
      List<Path> journals = faults.opened.stream().filter(p -> named(p, FileCustodyStore.JOURNAL_SUFFIX))
          .collect(Collectors.toList());
      assertEquals(List.of(), journals, "a put nobody will resume needs no journal");
      assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
    }
    reopenDirty(); // the footers the puts wrote without a journal are what recovery reads
    assertEquals(2, store.list().size());
  }

  @Test
  void aPutOfMorePiecesThanItKeepsInMemoryWritesItsTableToTheFooter() throws IOException {
    // 4 KiB chunks, 17 MB: over 4,096 pieces, so the table leaves memory before the commit.
    Env e = envelope(23, 17_000_000);
    store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
    assertEquals(List.of(), files(FileCustodyStore.PARTIAL_DIR, ""));
    reopenDirty();
    assertTrue(store.contains(e.fingerprint), "the footer proves the blob at open");
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
  }

  @Test
  void aFailingSharedDirectoryFsyncFailsEveryCommitItCovers() throws Exception {
    Env first = envelope(25, 20_000);
    store.put(first.custody("p"), CustodyStoreContractTest.in(first.bytes)); // the group exists
    Path group = FileCustodyStore.listDirectory(store.groupsDir).get(0);
    // Hold the first commit's directory fsync until the other commits wait for one, then fail them all.
    faults.forceBlockOn = p -> p.equals(group);
    faults.forceFaultOn = p -> p.equals(group);
    java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<Env> envs = new ArrayList<>();
      List<java.util.concurrent.Future<?>> puts = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Env e = envelope(26 + i, 20_000 + i);
        envs.add(e);
        puts.add(threads.submit(() -> store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes))));
      }
      assertTrue(faults.forcesBlocked.tryAcquire(30, java.util.concurrent.TimeUnit.SECONDS));
      Thread.sleep(200); // let the other commits reach their wait; if some are late, they fail alone
      faults.releaseForces.countDown();
      for (java.util.concurrent.Future<?> f : puts) {
        java.util.concurrent.ExecutionException ex = assertThrows(java.util.concurrent.ExecutionException.class,
            () -> f.get(30, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(Reason.IO_ERROR, ((StoreException) ex.getCause()).reason(), ex.getCause().getMessage());
      }
      for (Env e : envs) {
        assertFalse(store.contains(e.fingerprint), "a commit whose directory fsync failed is not visible");
      }
      assertEquals(List.of(group.resolve(first.fingerprint.toHex() + FileCustodyStore.BLOB_SUFFIX)),
          files(FileCustodyStore.GROUPS_DIR, ".blob"), "every failed commit's rename was undone");
      assertEquals(List.of(), files(FileCustodyStore.PARTIAL_DIR, ""));
      faults.reset();
      for (Env e : envs) {
        store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
      }
      reopenDirty();
      for (Env e : envs) {
        assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
      }
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void aFailingDirectoryFsyncOnCommitUndoesTheRename() throws IOException {
    Env e = envelope(4, 50_000);
    Upload u = store.begin(e.custody("p"));
    u.write(ByteBuffer.wrap(e.bytes));
    faults.forceFaultOn = p -> p.getParent().getFileName().toString().equals(FileCustodyStore.GROUPS_DIR);
    StoreException ex = assertThrows(StoreException.class, u::commit);
    assertEquals(Reason.IO_ERROR, ex.reason());
    assertFalse(store.contains(e.fingerprint));
    assertEquals(List.of(), files(FileCustodyStore.GROUPS_DIR, ".blob"));
    u.close();
    faults.reset();
    try (Upload r = store.resume(e.fingerprint)) {
      r.write(ByteBuffer.wrap(e.bytes, (int) r.offset(), e.bytes.length - (int) r.offset()));
      r.commit();
    }
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
  }

  @Test
  void aFailingFsyncOfAStateChangeKeepsTheOldState() throws IOException {
    Env e = envelope(5, 5000);
    store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
    faults.forceFaultOn = p -> named(p, "states.log");
    assertThrows(StoreException.class, () -> store.transition(e.fingerprint, BlobState.DELIVERED));
    assertEquals(BlobState.HELD, store.stat(e.fingerprint).state());
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
    faults.reset();
    store.transition(e.fingerprint, BlobState.DELIVERED);
    reopenDirty();
    assertEquals(BlobState.DELIVERED, store.stat(e.fingerprint).state());
  }

  @Test
  void aTornStateLogEntryIsIgnoredAndTheLogStaysAppendable() throws IOException {
    Env e = envelope(6, 5000);
    store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
    store.transition(e.fingerprint, BlobState.FORWARDING);
    Path log = files(FileCustodyStore.GROUPS_DIR, "states.log").get(0);
    // A whole entry of zeros (the size was extended, the data never written) and half an entry: as from a
    // crash mid-append. Both must be cut away, or an entry appended after them would be unreadable.
    Files.write(log, new byte[StoreFormat.STATE_ENTRY_BYTES + 30], StandardOpenOption.APPEND);
    reopenDirty();
    assertEquals(BlobState.FORWARDING, store.stat(e.fingerprint).state());
    store.transition(e.fingerprint, BlobState.HELD);
    reopenDirty();
    assertEquals(BlobState.HELD, store.stat(e.fingerprint).state());
  }

  @Test
  void aTornUploadJournalResumesFromAnEarlierPiece() throws IOException {
    Env e = envelope(7, 100_000);
    try (Upload u = store.begin(e.custody("p"))) {
      u.write(ByteBuffer.wrap(e.bytes, 0, 80_000));
      u.checkpoint();
    }
    Path journal = files(FileCustodyStore.PARTIAL_DIR, ".pieces").get(0);
    try (RandomAccessFile raf = new RandomAccessFile(journal.toFile(), "rw")) {
      raf.setLength(raf.length() - 25); // tear the last entry
    }
    reopenDirty();
    long resumedAt;
    try (Upload r = store.resume(e.fingerprint)) {
      resumedAt = r.offset();
      assertTrue(resumedAt > 60_000 && resumedAt < 80_000, "resumed at " + resumedAt);
      r.write(ByteBuffer.wrap(e.bytes, (int) resumedAt, e.bytes.length - (int) resumedAt));
      r.commit();
    }
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
  }

  @Test
  void lostDataUnderAJournaledPieceIsFoundOnResume() throws IOException {
    Env e = envelope(8, 100_000);
    try (Upload u = store.begin(e.custody("p"))) {
      u.write(ByteBuffer.wrap(e.bytes, 0, 80_000));
      u.checkpoint();
    }
    // As if a power cut lost the last data pages though the journal survived: zero the tail.
    Path part = files(FileCustodyStore.PARTIAL_DIR, ".part").get(0);
    try (RandomAccessFile raf = new RandomAccessFile(part.toFile(), "rw")) {
      raf.seek(raf.length() - 2000);
      raf.write(new byte[2000]);
    }
    reopenDirty();
    try (Upload r = store.resume(e.fingerprint)) {
      long at = r.offset();
      assertTrue(at < 80_000 - 2000, "resumed at " + at);
      r.write(ByteBuffer.wrap(e.bytes, (int) at, e.bytes.length - (int) at));
      r.commit();
    }
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
  }

  @Test
  void aTornBlobFileIsQuarantinedAtEveryCutPoint() throws IOException {
    Env e = envelope(9, 20_000);
    SplittableRandom r = new SplittableRandom(9);
    for (int i = 0; i < 25; i++) {
      store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
      Path blob = files(FileCustodyStore.GROUPS_DIR, ".blob").get(0);
      long length = Files.size(blob);
      long cut = i == 0 ? length - 1 : r.nextLong(0, length);
      try (RandomAccessFile raf = new RandomAccessFile(blob.toFile(), "rw")) {
        raf.setLength(cut);
      }
      if (i % 2 == 0) {
        reopenDirty();
        assertNull(store.stat(e.fingerprint), "cut at " + cut);
      } else {
        StoreException ex = assertThrows(StoreException.class, () -> readAll(store.open(e.fingerprint)));
        assertEquals(Reason.CORRUPT, ex.reason(), "cut at " + cut);
        assertNull(store.stat(e.fingerprint));
      }
      assertEquals(0, store.usage().blobCount());
    }
  }

  @Test
  void everyRandomBitFlipIsDetectedAndNoWrongByteIsServed() throws IOException {
    SplittableRandom r = new SplittableRandom(11);
    List<Env> envs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Env e = envelope(100 + i, 1000 + 9000 * i);
      envs.add(e);
      store.put(e.custody("peer-" + i), CustodyStoreContractTest.in(e.bytes));
    }
    int detected = 0;
    for (int flip = 0; flip < 300; flip++) {
      Env e = envs.get(r.nextInt(envs.size()));
      Path blob = store.blobPath(indexEntry(e));
      long at;
      try (RandomAccessFile raf = new RandomAccessFile(blob.toFile(), "rw")) {
        at = r.nextLong(0, raf.length());
        raf.seek(at);
        int b = raf.read();
        raf.seek(at);
        raf.write(b ^ (1 << r.nextInt(8)));
      }
      if (flip % 3 == 0) {
        reopenDirty();
      }
      byte[] served = new byte[e.bytes.length];
      int n = 0;
      try (ReadableByteChannel ch = store.open(e.fingerprint)) {
        ByteBuffer buf = ByteBuffer.wrap(served);
        while (ch.read(buf) >= 0 && buf.hasRemaining()) {
          n = buf.position();
        }
        n = buf.position();
        fail("flip at " + at + " of " + blob + " was not detected");
      } catch (StoreException ex) {
        assertTrue(ex.reason() == Reason.CORRUPT || ex.reason() == Reason.NOT_FOUND, ex.getMessage());
        detected++;
      }
      // Whatever was handed out before the error is a prefix of the true bytes.
      assertArrayEquals(Arrays.copyOf(e.bytes, n), Arrays.copyOf(served, n));
      assertFalse(store.contains(e.fingerprint));
      store.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes)); // restore for the next round
    }
    assertEquals(300, detected);
  }

  private io.crowdbackup.engine.store.index.IndexEntry indexEntry(Env e) throws IOException {
    // Reach the entry through a listing: the test lives in the store's package, not the index's.
    long group = Math.floorDiv(store.stat(e.fingerprint).expiresAtEpochSecond(), 3600) * 3600;
    return new io.crowdbackup.engine.store.index.IndexEntry(e.fingerprint, 0, group, e.bytes.length, 0, 0,
        BlobState.HELD, io.crowdbackup.api.store.BlobKind.CUSTODY, "", "");
  }
}
