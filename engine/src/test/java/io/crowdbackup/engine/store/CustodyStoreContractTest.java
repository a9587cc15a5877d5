package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreException.Reason;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.store.index.BlobIndex;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's behaviour, run once per index implementation (subclasses give the factory): every promise
 * of {@link io.crowdbackup.api.store.CustodyStore} that does not need a crash or a faulty disk.
 */
public abstract class CustodyStoreContractTest {
  @TempDir
  protected Path dir;
  protected MutableClock clock;
  protected FileCustodyStore store;

  protected abstract BlobIndex.Factory indexFactory();

  protected StoreConfig.Builder config() {
    return StoreConfig.newBuilder(dir.resolve("store")).indexFactory(indexFactory()).clock(clock);
  }

  @BeforeEach
  void openStore() throws IOException {
    clock = new MutableClock(NOW_EPOCH_SECOND);
    store = FileCustodyStore.open(config().build());
  }

  @AfterEach
  void closeStore() throws IOException {
    store.close();
  }

  protected void reopenClean() throws IOException {
    store.close();
    store = FileCustodyStore.open(config().build());
    assertTrue(store.openedClean());
  }

  /** As after kill -9: no clean marker, so the index is discarded and rebuilt from the data files. */
  protected void reopenDirty() throws IOException {
    store.close();
    Files.delete(dir.resolve("store").resolve(FileCustodyStore.CLEAN_FILE));
    store = FileCustodyStore.open(config().build());
    assertFalse(store.openedClean());
  }

  static ReadableByteChannel in(byte[] b) {
    return Channels.newChannel(new ByteArrayInputStream(b));
  }

  private static StoreException assertReason(Reason expected, ThrowingRunnable r) {
    StoreException e = assertThrows(StoreException.class, r::run);
    assertEquals(expected, e.reason(), e.getMessage());
    return e;
  }

  /** Bytes that are not the envelope promised are the envelope's rejection, with its own reason. */
  private EnvelopeException assertRejected(Set<EnvelopeException.Reason> expected, ThrowingRunnable r) {
    EnvelopeException e = assertThrows(EnvelopeException.class, r::run);
    assertTrue(expected.contains(e.reason()), e.getMessage());
    assertFalse(e.getMessage().contains(dir.toString()), "no local path: " + e.getMessage());
    return e;
  }

  interface ThrowingRunnable {
    void run() throws IOException;
  }

  private long filesUnder(String sub) throws IOException {
    Path p = dir.resolve("store").resolve(sub);
    try (Stream<Path> s = Files.walk(p)) {
      return s.filter(Files::isRegularFile).count();
    }
  }

  @Test
  void putStoresAndServesTheExactBytes() throws IOException {
    Env e = envelope(1, 50_000);
    BlobStat stat = store.put(e.custody("peer-1"), in(e.bytes));
    assertEquals(e.fingerprint, stat.fingerprint());
    assertEquals(e.bytes.length, stat.envelopeLengthBytes());
    assertEquals(BlobState.HELD, stat.state());
    assertEquals(BlobKind.CUSTODY, stat.kind());
    assertEquals("peer-1", stat.sourcePeer());
    assertEquals(e.locator, stat.locator());
    assertEquals(e.expiresAtEpochSecond, stat.expiresAtEpochSecond());
    assertTrue(store.contains(e.fingerprint));
    assertEquals(stat, store.stat(e.fingerprint));
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
    store.verify(e.fingerprint);
    assertEquals(new StoreUsage(e.bytes.length, 0, 0, 0, 1, 0), store.usage());
    assertEquals(0, filesUnder(FileCustodyStore.PARTIAL_DIR));
  }

  @Test
  void ownAndCustodyBlobsAreCountedApart() throws IOException {
    Env own = envelope(2, 1000);
    Env held = envelope(3, 2000);
    store.put(own.request().own().build(), in(own.bytes));
    store.put(held.custody("p"), in(held.bytes));
    StoreUsage u = store.usage();
    assertEquals(held.bytes.length, u.custodyHeldBytes());
    assertEquals(own.bytes.length, u.ownHeldBytes());
    assertEquals(BlobKind.OWN, store.stat(own.fingerprint).kind());
    assertEquals("", store.stat(own.fingerprint).sourcePeer());
  }

  @Test
  void aSecondPutOfTheSameFingerprintIsRefused() throws IOException {
    Env e = envelope(4, 1000);
    store.put(e.custody("a"), in(e.bytes));
    assertReason(Reason.DUPLICATE, () -> store.put(e.custody("b"), in(e.bytes)));
    assertEquals("a", store.stat(e.fingerprint).sourcePeer());
  }

  @Test
  void beginningAnUploadThatIsInProgressIsRefused() throws IOException {
    Env e = envelope(5, 1000);
    try (Upload u = store.begin(e.custody("a"))) {
      assertReason(Reason.DUPLICATE, () -> store.begin(e.custody("b")));
      assertEquals(e.fingerprint, u.fingerprint());
    }
  }

  @Test
  void aFingerprintMismatchLeavesNothing() throws IOException {
    Env e = envelope(6, 10_000);
    Env other = envelope(7, 10_000);
    UploadRequest lie = UploadRequest.newBuilder().fingerprint(other.fingerprint).declaredLengthBytes(e.bytes.length)
        .custodyFrom("liar").build();
    assertRejected(EnumSet.of(EnvelopeException.Reason.FINGERPRINT_MISMATCH), () -> store.put(lie, in(e.bytes)));
    assertFalse(store.contains(other.fingerprint));
    assertEquals(new StoreUsage(0, 0, 0, 0, 0, 0), store.usage());
    assertEquals(0, filesUnder(FileCustodyStore.PARTIAL_DIR));
    assertEquals(0, filesUnder(FileCustodyStore.GROUPS_DIR));
  }

  @Test
  void aMalformedEnvelopeIsRefusedWithItsReason() throws IOException {
    Env e = envelope(8, 1000);
    byte[] bad = e.bytes.clone();
    bad[0] ^= 1;
    assertRejected(EnumSet.of(EnvelopeException.Reason.BAD_MAGIC), () -> store.put(e.custody("p"), in(bad)));
    assertEquals(0, filesUnder(FileCustodyStore.PARTIAL_DIR));
  }

  @Test
  void aShortOrLongStreamOrWrongDeclaredLengthIsALengthMismatch() throws IOException {
    Env e = envelope(9, 9000);
    Set<EnvelopeException.Reason> cut = EnumSet.of(EnvelopeException.Reason.TRUNCATED,
        EnvelopeException.Reason.MISSING_FINAL_CHUNK, EnvelopeException.Reason.TRAILING_DATA,
        EnvelopeException.Reason.LENGTH_MISMATCH);
    assertRejected(cut, () -> store.put(e.custody("p"), in(Arrays.copyOf(e.bytes, e.bytes.length - 1))));
    assertRejected(cut, () -> store.put(e.custody("p"), in(Arrays.copyOf(e.bytes, e.bytes.length + 1))));
    UploadRequest wrong = UploadRequest.newBuilder().fingerprint(e.fingerprint).declaredLengthBytes(e.bytes.length + 100)
        .custodyFrom("p").build();
    assertRejected(EnumSet.of(EnvelopeException.Reason.LENGTH_MISMATCH), () -> store.put(wrong, in(e.bytes)));
    assertEquals(0, filesUnder(FileCustodyStore.PARTIAL_DIR));
    assertEquals(0, store.usage().blobCount());
  }

  @Test
  void anAlreadyExpiredEnvelopeIsRefused() throws IOException {
    Env e = envelope(10, 1000, false, NOW_EPOCH_SECOND - 1);
    assertSaysWhenInIso(assertReason(Reason.PAST_EXPIRY, () -> store.put(e.custody("p"), in(e.bytes))),
        e.expiresAtEpochSecond);
  }

  /** Refusals reach peers and the CLI: times in them are ISO instants, never bare epoch seconds. */
  private static void assertSaysWhenInIso(StoreException e, long epochSecond) {
    assertTrue(e.getMessage().contains(java.time.Instant.ofEpochSecond(epochSecond).toString()), e.getMessage());
    assertFalse(e.getMessage().contains(String.valueOf(epochSecond)), e.getMessage());
  }

  @Test
  void theRetentionCapShortensExpiry() throws IOException {
    Env e = envelope(11, 1000);
    BlobStat s = store.put(e.request().custodyFrom("p").expiresNoLaterThanEpochSecond(NOW_EPOCH_SECOND + 60).build(),
        in(e.bytes));
    assertEquals(NOW_EPOCH_SECOND + 60, s.expiresAtEpochSecond());
  }

  @Test
  void anUploadResumesFromItsDurableOffsetAfterClose() throws IOException {
    Env e = envelope(12, 100_000);
    long durable;
    int sent = 60_123;
    try (Upload u = store.begin(e.custody("p"))) {
      u.write(ByteBuffer.wrap(e.bytes, 0, sent));
      assertEquals(sent, u.offset());
      durable = u.checkpoint();
      assertTrue(durable <= sent && durable > sent - 4096 - 64, "durable " + durable);
    }
    assertEquals(e.bytes.length, store.usage().custodyReservedBytes());
    assertEquals(durable, store.uploads().get(0).durableOffsetBytes());
    try (Upload u = store.resume(e.fingerprint)) {
      assertEquals(durable, u.durableOffset());
      assertEquals(durable, u.offset());
      u.write(ByteBuffer.wrap(e.bytes, (int) durable, e.bytes.length - (int) durable));
      u.commit();
    }
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
    assertEquals(0, store.usage().custodyReservedBytes());
    assertEquals(0, filesUnder(FileCustodyStore.PARTIAL_DIR));
  }

  @Test
  void anUploadResumesAfterACrash() throws IOException {
    Env e = envelope(13, 100_000);
    Upload u = store.begin(e.custody("p"));
    u.write(ByteBuffer.wrap(e.bytes, 0, 70_000));
    long durable = u.checkpoint();
    u.write(ByteBuffer.wrap(e.bytes, 70_000, 5000)); // not checkpointed: may be lost
    reopenDirty();
    assertEquals(1, store.uploads().size());
    try (Upload r = store.resume(e.fingerprint)) {
      assertTrue(r.durableOffset() >= durable, r.durableOffset() + " < " + durable);
      r.write(ByteBuffer.wrap(e.bytes, (int) r.offset(), e.bytes.length - (int) r.offset()));
      r.commit();
    }
    assertArrayEquals(e.bytes, readAll(store.open(e.fingerprint)));
  }

  @Test
  void resumingAfterAnUploadIsGoneIsNotFound() throws IOException {
    Env e = envelope(14, 1000);
    assertReason(Reason.NOT_FOUND, () -> store.resume(e.fingerprint));
    Upload u = store.begin(e.custody("p"));
    u.abort();
    u.abort();
    assertReason(Reason.NOT_FOUND, () -> store.resume(e.fingerprint));
    assertEquals(0, filesUnder(FileCustodyStore.PARTIAL_DIR));
  }

  @Test
  void abandonedUploadsAreRemovedAfterTheirTime() throws IOException {
    store.close();
    store = FileCustodyStore.open(config().abandonedUploadAfterMillis(60_000).build());
    Env e = envelope(15, 10_000);
    try (Upload u = store.begin(e.custody("p"))) {
      u.write(ByteBuffer.wrap(e.bytes, 0, 5000));
    }
    store.dropExpired(clock.millis() / 1000);
    assertEquals(1, store.uploads().size());
    clock.advanceSeconds(61);
    store.dropExpired(clock.millis() / 1000);
    assertEquals(0, store.uploads().size());
    assertEquals(0, store.usage().custodyReservedBytes());
    assertEquals(0, filesUnder(FileCustodyStore.PARTIAL_DIR));
  }

  @Test
  void stateTransitionsAreDurableAndDeliveryFreesBytesAtOnce() throws IOException {
    Env e = envelope(16, 20_000);
    store.put(e.custody("p"), in(e.bytes));
    assertEquals(BlobState.FORWARDING, store.transition(e.fingerprint, BlobState.FORWARDING).state());
    reopenDirty();
    assertEquals(BlobState.FORWARDING, store.stat(e.fingerprint).state());
    assertEquals(BlobState.HELD, store.transition(e.fingerprint, BlobState.HELD).state());
    reopenClean();
    assertEquals(BlobState.HELD, store.stat(e.fingerprint).state());
    store.transition(e.fingerprint, BlobState.DELIVERED);
    assertEquals(new StoreUsage(0, 0, 0, 0, 0, 0), store.usage());
    assertFalse(store.contains(e.fingerprint));
    assertReason(Reason.NOT_FOUND, () -> store.open(e.fingerprint));
    assertSaysWhenInIso(assertReason(Reason.DELIVERED, () -> store.put(e.custody("p"), in(e.bytes))),
        store.stat(e.fingerprint).expiresAtEpochSecond());
    assertReason(Reason.ILLEGAL_STATE_TRANSITION, () -> store.transition(e.fingerprint, BlobState.HELD));
    reopenDirty();
    assertEquals(BlobState.DELIVERED, store.stat(e.fingerprint).state());
    assertReason(Reason.DELIVERED, () -> store.begin(e.custody("p")));
    assertEquals(0, store.usage().custodyHeldBytes());
    reopenClean();
    assertEquals(BlobState.DELIVERED, store.stat(e.fingerprint).state());
  }

  @Test
  void deleteForgetsABlobAndItsTombstoneDurably() throws IOException {
    Env a = envelope(17, 1000);
    Env b = envelope(18, 1000);
    store.put(a.custody("p"), in(a.bytes));
    store.put(b.custody("p"), in(b.bytes));
    store.transition(b.fingerprint, BlobState.DELIVERED);
    assertTrue(store.delete(a.fingerprint));
    assertTrue(store.delete(b.fingerprint));
    assertFalse(store.delete(a.fingerprint));
    reopenDirty();
    assertNull(store.stat(a.fingerprint));
    assertNull(store.stat(b.fingerprint));
    // A deleted fingerprint may be stored again, and its earlier state records do not apply to it.
    store.put(b.custody("q"), in(b.bytes));
    reopenDirty();
    assertEquals(BlobState.HELD, store.stat(b.fingerprint).state());
    assertEquals("q", store.stat(b.fingerprint).sourcePeer());
  }

  @Test
  void listsByLocatorSoonestFirstAndByState() throws IOException {
    Env a1 = envelope(19, 1000, false, NOW_EPOCH_SECOND + 9000);
    Env a2 = envelope(20, 1000, false, NOW_EPOCH_SECOND + 3000);
    Env b1 = envelope(21, 1000, true, NOW_EPOCH_SECOND + 5000);
    for (Env e : List.of(a1, a2, b1)) {
      store.put(e.custody("p"), in(e.bytes));
    }
    store.transition(a1.fingerprint, BlobState.FORWARDING);
    assertEquals(List.of(a2.fingerprint, a1.fingerprint),
        store.listByLocator(a1.locator).stream().map(BlobStat::fingerprint).collect(Collectors.toList()));
    assertEquals(List.of(b1.fingerprint),
        store.listByLocator(b1.locator).stream().map(BlobStat::fingerprint).collect(Collectors.toList()));
    assertEquals(List.of(a1.fingerprint),
        store.listByState(BlobState.FORWARDING).stream().map(BlobStat::fingerprint).collect(Collectors.toList()));
    assertEquals(2, store.listByState(BlobState.HELD).size());
    assertEquals(3, store.list().size());
  }

  @Test
  void expiredBlobsAreNeverServedAndDropWithTheirGroup() throws IOException {
    Env soon = envelope(22, 1000, false, NOW_EPOCH_SECOND + 100);
    Env later = envelope(23, 1000, false, NOW_EPOCH_SECOND + 7200 * 3);
    store.put(soon.custody("p"), in(soon.bytes));
    store.put(later.custody("p"), in(later.bytes));
    clock.advanceSeconds(100);
    assertEquals(BlobState.EXPIRED, store.stat(soon.fingerprint).state());
    assertFalse(store.contains(soon.fingerprint));
    assertSaysWhenInIso(assertReason(Reason.PAST_EXPIRY, () -> store.open(soon.fingerprint)), soon.expiresAtEpochSecond);
    assertEquals(1, store.dropExpired(clock.millis() / 1000));
    assertNull(store.stat(soon.fingerprint));
    assertEquals(later.bytes.length, store.usage().custodyHeldBytes());
    assertEquals(1, store.usage().blobCount());
    reopenDirty();
    assertNull(store.stat(soon.fingerprint));
    assertTrue(store.contains(later.fingerprint));
  }

  @Test
  void wholeExpiredGroupsAreRemovedFromDisk() throws IOException {
    for (int i = 0; i < 5; i++) {
      Env e = envelope(30 + i, 1000, false, NOW_EPOCH_SECOND + 10 + i);
      store.put(e.custody("p"), in(e.bytes));
    }
    Env tomb = envelope(40, 1000, false, NOW_EPOCH_SECOND + 20);
    store.put(tomb.custody("p"), in(tomb.bytes));
    store.transition(tomb.fingerprint, BlobState.DELIVERED);
    clock.advanceSeconds(3 * 3600);
    assertEquals(5, store.dropExpired(clock.millis() / 1000));
    assertNull(store.stat(tomb.fingerprint));
    assertEquals(0, filesUnder(FileCustodyStore.GROUPS_DIR));
    assertEquals(0, store.list().size());
  }

  @Test
  void aNarrowerGroupWidthAfterReopenNeverDropsABlobEarly() throws IOException {
    store.close();
    store = FileCustodyStore.open(config().expiryGroupSeconds(4 * 3600).build());
    long base = Math.floorDiv(NOW_EPOCH_SECOND, 4 * 3600) * 4 * 3600 + 4 * 3600; // a 4 h group ahead
    Env early = envelope(80, 1000, false, base + 600);
    Env late = envelope(81, 1000, false, base + 3 * 3600);
    store.put(early.custody("p"), in(early.bytes));
    store.put(late.custody("p"), in(late.bytes));
    store.close();
    store = FileCustodyStore.open(config().expiryGroupSeconds(3600).build());
    clock.setEpochSecond(base + 3600 + 1); // the old group is "whole" for a 1 h width, not for its blobs
    assertEquals(1, store.dropExpired(clock.millis() / 1000));
    assertNull(store.stat(early.fingerprint));
    assertArrayEquals(late.bytes, readAll(store.open(late.fingerprint)));
    reopenDirty();
    assertTrue(store.contains(late.fingerprint));
  }

  @Test
  void aSecondOpenOfTheSameDirectoryIsRefused() {
    StoreException e = assertReason(Reason.LOCKED_BY_OTHER_PROCESS, () -> FileCustodyStore.open(config().build()));
    assertTrue(e.path().endsWith("LOCK"), e.path());
  }

  @Test
  void aBitFlipIsDetectedBeforeServingAndQuarantined() throws IOException {
    Env e = envelope(50, 30_000);
    store.put(e.custody("p"), in(e.bytes));
    Path file = onlyBlobFile();
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      long at = 200 + 20_000; // inside the envelope, past its header
      raf.seek(at);
      int b = raf.read();
      raf.seek(at);
      raf.write(b ^ 0x10);
    }
    ReadableByteChannel ch = store.open(e.fingerprint);
    ByteBuffer buf = ByteBuffer.allocate(e.bytes.length);
    StoreException ex = assertReason(Reason.CORRUPT, () -> {
      while (ch.read(buf) >= 0) {
        // drain
      }
    });
    // Everything served before the failure was verified, so it is a prefix of the true bytes.
    buf.flip();
    byte[] served = new byte[buf.remaining()];
    buf.get(served);
    assertArrayEquals(Arrays.copyOf(e.bytes, served.length), served);
    assertTrue(served.length < 20_000, "served " + served.length);
    assertTrue(ex.getMessage().contains("quarantine"), ex.getMessage());
    assertNull(store.stat(e.fingerprint));
    assertEquals(0, store.usage().custodyHeldBytes());
    assertEquals(2, filesUnder(FileCustodyStore.QUARANTINE_DIR)); // the blob and the note saying why
    reopenDirty();
    assertNull(store.stat(e.fingerprint));
  }

  @Test
  void aDamagedFooterIsFoundByTheRebuildAndQuarantined() throws IOException {
    Env e = envelope(51, 30_000);
    Env ok = envelope(52, 30_000);
    store.put(e.custody("p"), in(e.bytes));
    Path file = onlyBlobFile();
    store.put(ok.custody("p"), in(ok.bytes));
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(raf.length() - 30);
      int b = raf.read();
      raf.seek(raf.length() - 30);
      raf.write(b ^ 1);
    }
    reopenDirty();
    assertNull(store.stat(e.fingerprint));
    assertTrue(store.contains(ok.fingerprint));
    assertEquals(ok.bytes.length, store.usage().custodyHeldBytes());
  }

  @Test
  void aTruncatedBlobFileIsNeverServed() throws IOException {
    Env e = envelope(53, 30_000);
    store.put(e.custody("p"), in(e.bytes));
    Path file = onlyBlobFile();
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(raf.length() - 100);
    }
    assertReason(Reason.CORRUPT, () -> store.open(e.fingerprint));
    assertNull(store.stat(e.fingerprint));
  }

  @Test
  void aRebuildFindsWhatTheIndexHeld() throws IOException {
    for (int i = 0; i < 20; i++) {
      Env e = envelope(60 + i, 500 + 700 * i, i % 2 == 0, NOW_EPOCH_SECOND + 1000 * (i + 1));
      store.put(i % 3 == 0 ? e.request().own().build() : e.custody("peer-" + (i % 4)), in(e.bytes));
      if (i % 5 == 1) {
        store.transition(e.fingerprint, BlobState.FORWARDING);
      }
      if (i % 7 == 2) {
        store.transition(e.fingerprint, BlobState.DELIVERED);
      }
    }
    List<BlobStat> before = sorted(store.list());
    StoreUsage usage = store.usage();
    reopenClean();
    assertEquals(before, sorted(store.list()));
    assertEquals(usage, store.usage());
    reopenDirty();
    assertEquals(before, sorted(store.list()));
    assertEquals(usage, store.usage());
  }

  @Test
  void anotherStoreVersionIsRefusedWithAClearReason() throws IOException {
    store.close();
    Path descriptor = dir.resolve("store").resolve(FileCustodyStore.STORE_FILE);
    byte[] b = Files.readAllBytes(descriptor);
    b[9] = 9;
    Files.write(descriptor, b);
    assertReason(Reason.UNSUPPORTED_FORMAT, () -> FileCustodyStore.open(config().build()));
    store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("other")).indexFactory(indexFactory()).build());
  }

  @Test
  void theListenerSeesEveryChangeAPolicyMustCount() throws IOException {
    List<String> events = new java.util.ArrayList<>();
    StoreListener listener = new StoreListener() {
      @Override
      public void uploadStarted(io.crowdbackup.api.store.UploadInfo u) {
        events.add("start " + u.request().declaredLengthBytes());
      }

      @Override
      public void uploadEnded(io.crowdbackup.api.store.UploadInfo u, UploadEnd how) {
        events.add("end " + how);
      }

      @Override
      public void blobAdded(BlobStat b) {
        events.add("add " + b.envelopeLengthBytes());
      }

      @Override
      public void blobRemoved(BlobStat b, Removal why) {
        events.add("remove " + why + " " + b.envelopeLengthBytes());
      }
    };
    store.close();
    store = FileCustodyStore.open(config().listener(listener).abandonedUploadAfterMillis(1000).build());
    Env a = envelope(70, 1000, false, NOW_EPOCH_SECOND + 10);
    Env b = envelope(71, 2000);
    Env c = envelope(72, 3000);
    Env d = envelope(73, 4000);
    int la = a.bytes.length;
    int lb = b.bytes.length;
    int lc = c.bytes.length;
    int ld = d.bytes.length;
    store.put(a.custody("p"), in(a.bytes));
    store.put(b.custody("p"), in(b.bytes));
    UploadRequest lie = UploadRequest.newBuilder().fingerprint(d.fingerprint).declaredLengthBytes(lc).custodyFrom("p")
        .build();
    assertThrows(EnvelopeException.class, () -> store.put(lie, in(c.bytes)));
    store.begin(d.custody("p")).close();
    store.transition(b.fingerprint, BlobState.DELIVERED);
    clock.advanceSeconds(3 * 3600);
    store.dropExpired(clock.millis() / 1000);
    assertEquals(List.of("start " + la, "end COMMITTED", "add " + la, "start " + lb, "end COMMITTED", "add " + lb,
        "start " + lc, "end ABORTED", "start " + ld, "remove DELIVERED " + lb, "remove EXPIRED " + la,
        "end ABANDONED"), events);
  }

  @Test
  void concurrentUploadsReadsAndDeletesKeepTheStoreConsistent() throws Exception {
    int threads = 4;
    int perThread = 12;
    List<List<Env>> work = new java.util.ArrayList<>();
    for (int t = 0; t < threads; t++) {
      List<Env> mine = new java.util.ArrayList<>();
      for (int i = 0; i < perThread; i++) {
        mine.add(envelope(1000 + t * 100 + i, 500 + 3000 * i));
      }
      work.add(mine);
    }
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    List<java.util.concurrent.Future<Long>> results = new java.util.ArrayList<>();
    for (int t = 0; t < threads; t++) {
      List<Env> mine = work.get(t);
      List<Env> theirs = work.get((t + 1) % threads);
      results.add(pool.submit(() -> {
        long kept = 0;
        for (int i = 0; i < mine.size(); i++) {
          Env e = mine.get(i);
          if (i % 2 == 0) {
            store.put(e.custody("p"), in(e.bytes));
          } else {
            try (Upload u = store.begin(e.custody("p"))) {
              u.write(ByteBuffer.wrap(e.bytes, 0, e.bytes.length / 2));
              u.checkpoint();
            }
            try (Upload u = store.resume(e.fingerprint)) {
              u.write(ByteBuffer.wrap(e.bytes, (int) u.offset(), e.bytes.length - (int) u.offset()));
              u.commit();
            }
          }
          Env other = theirs.get(i);
          if (store.contains(other.fingerprint)) {
            try {
              assertArrayEquals(other.bytes, readAll(store.open(other.fingerprint)));
            } catch (StoreException ex) {
              assertEquals(Reason.NOT_FOUND, ex.reason(), ex.getMessage()); // its owner deleted it meanwhile
            }
          }
          if (i % 3 == 0) {
            assertTrue(store.delete(e.fingerprint));
          } else {
            kept += e.bytes.length;
          }
        }
        return kept;
      }));
    }
    long expected = 0;
    for (java.util.concurrent.Future<Long> f : results) {
      expected += f.get();
    }
    pool.shutdown();
    assertEquals(expected, store.usage().custodyHeldBytes());
    assertEquals(threads * (perThread - perThread / 3), store.list().size());
    List<BlobStat> before = sorted(store.list());
    reopenDirty();
    assertEquals(before, sorted(store.list()));
    assertEquals(expected, store.usage().custodyHeldBytes());
  }

  @Test
  void aClosedStoreSaysSo() throws IOException {
    store.close();
    store.close();
    assertReason(Reason.CLOSED, () -> store.stat(envelope(1, 10).fingerprint));
  }

  private static List<BlobStat> sorted(List<BlobStat> l) {
    return l.stream().sorted(Comparator.comparing(BlobStat::fingerprint)).collect(Collectors.toList());
  }

  protected Path onlyBlobFile() throws IOException {
    try (Stream<Path> s = Files.walk(dir.resolve("store").resolve(FileCustodyStore.GROUPS_DIR))) {
      List<Path> blobs = s.filter(p -> p.toString().endsWith(".blob")).collect(Collectors.toList());
      assertEquals(1, blobs.size(), blobs.toString());
      return blobs.get(0);
    }
  }
}
