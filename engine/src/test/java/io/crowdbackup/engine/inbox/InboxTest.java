package io.crowdbackup.engine.inbox;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.TransferCancelledException;
import io.crowdbackup.engine.envelope.StreamingSealer;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import io.crowdbackup.engine.policy.ManualTimeSource;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class InboxTest {
  static final int CHUNK = 4096;
  static final DestinationKeyPair DEST = TestEnvelopes.destination(11, "https://home.example/inbox");
  static final DestinationKeyPair RELAY = TestEnvelopes.destination(12, "https://relay.example/in");
  static final DestinationKeyPair OTHER = TestEnvelopes.destination(13, "https://other.example/in");
  static final SigningKeyPair SOURCE = TestEnvelopes.source(14);
  static final long NOW = 1_750_000_000L;

  @TempDir Path tmp;
  Path inboxDir;
  Path envelopes;
  long seed;

  @BeforeEach
  void dirs() throws IOException {
    inboxDir = tmp.resolve("inbox");
    envelopes = Files.createDirectories(tmp.resolve("envelopes"));
  }

  Inbox open(DestinationKeyPair keys, Inbox.Mode mode) throws IOException {
    return Inbox.newBuilder().directory(inboxDir).keys(keys).mode(mode).time(new ManualTimeSource((NOW) * 1000L)).open();
  }

  Inbox open() throws IOException {
    return open(DEST, Inbox.Mode.DESTINATION);
  }

  /** Seals {@code plaintext} under {@code name} into a file; returns the envelope path. */
  Path seal(String name, byte[] plaintext, DestinationKeyPair relay) throws IOException {
    SealRequest.Builder b = TestEnvelopes.request(DEST, SOURCE).chunkSizeBytes(CHUNK).name(name);
    if (relay != null) {
      b.relay(relay.card());
    }
    byte[] bytes;
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(++seed, 1)) {
      bytes = TestEnvelopes.seal(sealer, b.build(), plaintext);
    }
    Path p = envelopes.resolve("e" + seed + ".cbe");
    Files.write(p, bytes);
    return p;
  }

  Path seal(String name, byte[] plaintext) throws IOException {
    return seal(name, plaintext, null);
  }

  static byte[] data(int seed, int length) {
    return TestEnvelopes.plaintext(seed, length, false);
  }

  static Fingerprint fingerprintOf(Path envelope) throws IOException {
    try (FileChannel ch = FileChannel.open(envelope)) {
      return Envelopes.fingerprint(ch);
    }
  }

  static EnvelopeHeader headerOf(Path envelope) throws IOException {
    try (FileChannel ch = FileChannel.open(envelope)) {
      return Envelopes.readHeader(ch);
    }
  }

  /** Every file under {@code dir}, with its bytes' hash code: a cheap picture of "what was written". */
  static Map<String, String> snapshot(Path dir) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (Files.isRegularFile(p)) {
          byte[] b = Files.readAllBytes(p);
          m.put(dir.relativize(p).toString(), b.length + ":" + java.util.Arrays.hashCode(b));
        }
      }
    }
    return m;
  }

  /** Names in the inbox folder other than its hidden state folder. */
  static String[] visibleNames(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(Inbox.STATE_DIR)).sorted()
          .toArray(String[]::new);
    }
  }

  @Test
  void deliversUnderTheSanitisedNameWithAReceiptThatVerifies() throws Exception {
    byte[] plaintext = data(1, 3 * CHUNK + 5);
    Path env = seal("../../etc/passwd", plaintext);
    try (Inbox inbox = open()) {
      Delivery d = inbox.deliver(env);
      assertEquals(Delivery.Outcome.DELIVERED, d.outcome());
      assertEquals(inboxDir.resolve("passwd"), d.file());
      assertArrayEquals(plaintext, Files.readAllBytes(d.file()));
      assertEquals("../../etc/passwd", d.metadata().name());
      assertEquals(fingerprintOf(env), d.fingerprint());
      assertEquals(NOW, d.receipt().signedAtEpochSecond());
      Receipts.verify(Receipts.decode(d.receiptBytes()), Receipt.Kind.RECEIPT, d.fingerprint(), headerOf(env));
      assertArrayEquals(new String[] {"passwd"}, visibleNames(inboxDir));
      assertFalse(Files.exists(tmp.resolve("etc")));
      assertEquals(1, inbox.deliveredCount());
    }
  }

  @Test
  void aClashGetsADistinctNameAndNothingIsOverwritten() throws Exception {
    Files.createDirectories(inboxDir);
    Files.write(inboxDir.resolve("photo.jpg"), new byte[] {42});
    byte[] a = data(2, 100);
    byte[] b = data(3, 200);
    try (Inbox inbox = open()) {
      Delivery da = inbox.deliver(seal("photo.jpg", a));
      Delivery db = inbox.deliver(seal("dir/photo.jpg", b));
      assertEquals("photo (2).jpg", da.file().getFileName().toString());
      assertEquals("photo (3).jpg", db.file().getFileName().toString());
      assertArrayEquals(a, Files.readAllBytes(da.file()));
      assertArrayEquals(b, Files.readAllBytes(db.file()));
    }
    assertArrayEquals(new byte[] {42}, Files.readAllBytes(inboxDir.resolve("photo.jpg")));
  }

  @Test
  void aDuplicateGetsTheSameReceiptAndWritesNothing() throws Exception {
    Path env = seal("photo.jpg", data(4, 2 * CHUNK));
    Fingerprint fp = fingerprintOf(env);
    Delivery first;
    try (Inbox inbox = Inbox.newBuilder().directory(inboxDir).keys(DEST).time(new ManualTimeSource((NOW) * 1000L)).open()) {
      first = inbox.deliver(env);
    }
    Map<String, String> before = snapshot(inboxDir);
    // Later, after a restart, with a clock that would sign a different receipt.
    try (Inbox inbox = Inbox.newBuilder().directory(inboxDir).keys(DEST).time(new ManualTimeSource((NOW + 999) * 1000L)).open()) {
      assertTrue(inbox.recovery().clean(), inbox.recovery().toString());
      Delivery byPath = inbox.deliver(env);
      Delivery byStreamWithHint = inbox.deliver(Channels.newChannel(Files.newInputStream(env)), fp);
      Delivery byStream = inbox.deliver(Channels.newChannel(Files.newInputStream(env)), null);
      for (Delivery d : new Delivery[] {byPath, byStreamWithHint, byStream}) {
        assertEquals(Delivery.Outcome.DUPLICATE, d.outcome());
        assertArrayEquals(first.receiptBytes(), d.receiptBytes());
        assertEquals(first.file(), d.file());
        assertNull(d.metadata());
      }
      assertEquals(fp, inbox.receiptFor(fp).fingerprint());
    }
    assertEquals(before, snapshot(inboxDir));
  }

  @Test
  void aHintedDuplicateWhoseBytesDifferIsRejected() throws Exception {
    Path env = seal("a.txt", data(5, 100));
    Path other = seal("a.txt", data(6, 100));
    try (Inbox inbox = open()) {
      Fingerprint fp = inbox.deliver(env).fingerprint();
      Map<String, String> before = snapshot(inboxDir);
      EnvelopeException e = assertThrows(EnvelopeException.class,
          () -> inbox.deliver(Channels.newChannel(Files.newInputStream(other)), fp));
      assertEquals(EnvelopeException.Reason.FINGERPRINT_MISMATCH, e.reason());
      assertEquals(before, snapshot(inboxDir));
    }
  }

  /**
   * Offsets to flip: header body, a middle data chunk's ciphertext, the last data chunk, the final chunk; on
   * the delivering thread alone and on worker threads (which verify chunks ahead of the one being written).
   */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"header,1", "firstChunk,1", "middleChunk,1", "lastDataChunk,1",
      "finalChunk,1", "header,4", "firstChunk,4", "middleChunk,4", "lastDataChunk,4", "finalChunk,4"})
  void aTamperedEnvelopeLeavesNoFileAndNoTemporaryFile(String where, int threads) throws Exception {
    byte[] plaintext = data(7, 24 * CHUNK);
    byte[] bytes = Files.readAllBytes(seal("photo.jpg", plaintext));
    int header = headerOf(envelopes.resolve("e" + seed + ".cbe")).encodedLengthBytes();
    int offset;
    switch (where) {
      case "header": offset = 70; break; // inside the salt: the header MAC fails
      case "firstChunk": offset = header + 100; break;
      case "middleChunk": offset = bytes.length / 2; break;
      case "lastDataChunk": offset = bytes.length - 532 - 50; break;
      default: offset = bytes.length - 100; break;
    }
    bytes[offset] ^= 0x01;
    Path bad = envelopes.resolve("bad.cbe");
    Files.write(bad, bytes);
    try (Inbox inbox = Inbox.newBuilder().directory(inboxDir).keys(DEST).openingThreads(threads)
        .time(new ManualTimeSource(NOW * 1000L)).open()) {
      Map<String, String> before = snapshot(inboxDir);
      EnvelopeException byPath = assertThrows(EnvelopeException.class, () -> inbox.deliver(bad));
      // The stream path writes the verified chunks before the bad one to the temporary file: it must go.
      EnvelopeException byStream = assertThrows(EnvelopeException.class,
          () -> inbox.deliver(Channels.newChannel(new ByteArrayInputStream(bytes)), null));
      assertEquals(byPath.reason(), byStream.reason());
      assertTrue(byPath.reason() == EnvelopeException.Reason.BAD_CHUNK_TAG
          || byPath.reason() == EnvelopeException.Reason.HEADER_AUTHENTICATION_FAILED
          || byPath.reason() == EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS
          || byPath.reason() == EnvelopeException.Reason.MISSING_FINAL_CHUNK, byPath.toString());
      assertEquals(before, snapshot(inboxDir));
      assertEquals(0, visibleNames(inboxDir).length);
      assertEquals(0, inbox.deliveredCount());
    }
  }

  @Test
  void workerThreadsDeliverConcurrentlyAndAreStoppedByCloseOnlyOnceNoDeliveryUsesThem() throws Exception {
    byte[][] plaintexts = {data(21, 30 * CHUNK + 17), data(22, 25 * CHUNK), data(23, 3)};
    Path[] sealed = new Path[plaintexts.length];
    for (int i = 0; i < plaintexts.length; i++) {
      sealed[i] = seal("f" + i + ".bin", plaintexts[i]);
    }
    Inbox inbox = Inbox.newBuilder().directory(inboxDir).keys(DEST).openingThreads(3)
        .time(new ManualTimeSource(NOW * 1000L)).open();
    java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(3);
    try {
      java.util.List<java.util.concurrent.Future<Delivery>> done = new java.util.ArrayList<>();
      for (Path p : sealed) {
        done.add(callers.submit(() -> inbox.deliver(p)));
      }
      for (int i = 0; i < sealed.length; i++) {
        assertArrayEquals(plaintexts[i], Files.readAllBytes(done.get(i).get(60, java.util.concurrent.TimeUnit.SECONDS)
            .file()));
      }
      inbox.close();
      assertEquals(io.crowdbackup.api.store.StoreException.Reason.CLOSED,
          assertThrows(io.crowdbackup.api.store.StoreException.class, () -> inbox.deliver(sealed[0])).reason());
    } finally {
      callers.shutdownNow();
      inbox.close();
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Inbox.newBuilder().openingThreads(0));
    assertEquals("openingThreads must be 1..256, was 0", e.getMessage());
  }

  /** Closed mid-delivery, the inbox leaves the worker threads running until that delivery is done with them. */
  @Test
  void aDeliveryOnWorkerThreadsThatTheInboxIsClosedUnderFailsClosedAndDoesNotHang() throws Exception {
    byte[] bytes = Files.readAllBytes(seal("big.bin", data(24, 40 * CHUNK)));
    java.util.concurrent.CountDownLatch halfway = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
    java.io.InputStream slow = new ByteArrayInputStream(bytes) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        if (pos >= bytes.length / 2 && halfway.getCount() > 0) {
          halfway.countDown();
          try {
            closed.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return super.read(b, off, Math.min(len, 4096));
      }
    };
    Inbox inbox = Inbox.newBuilder().directory(inboxDir).keys(DEST).openingThreads(2)
        .time(new ManualTimeSource(NOW * 1000L)).open();
    java.util.concurrent.ExecutorService caller = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      java.util.concurrent.Future<Delivery> d = caller.submit(() -> inbox.deliver(Channels.newChannel(slow), null));
      assertTrue(halfway.await(60, java.util.concurrent.TimeUnit.SECONDS));
      inbox.close();
      closed.countDown();
      java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
          () -> d.get(60, java.util.concurrent.TimeUnit.SECONDS));
      assertEquals(io.crowdbackup.api.store.StoreException.Reason.CLOSED,
          ((io.crowdbackup.api.store.StoreException) e.getCause()).reason(), e.getCause().toString());
      assertEquals(0, visibleNames(inboxDir).length);
    } finally {
      closed.countDown();
      caller.shutdownNow();
    }
  }

  @Test
  void aTruncatedEnvelopeOrAnotherKeysEnvelopeLeavesNothing() throws Exception {
    byte[] bytes = Files.readAllBytes(seal("photo.jpg", data(8, 3 * CHUNK)));
    Path cut = envelopes.resolve("cut.cbe");
    Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 600));
    try (Inbox inbox = open(OTHER, Inbox.Mode.DESTINATION)) {
      assertEquals(EnvelopeException.Reason.TRUNCATED,
          assertThrows(EnvelopeException.class, () -> inbox.deliver(cut)).reason());
      assertEquals(EnvelopeException.Reason.NOT_FOR_THIS_KEY,
          assertThrows(EnvelopeException.class, () -> inbox.deliver(envelopes.resolve("e" + seed + ".cbe"))).reason());
      assertEquals(0, visibleNames(inboxDir).length);
    }
  }

  /** A kill after each step of a delivery, then a restart and a re-delivery. */
  @ParameterizedTest
  @EnumSource(Inbox.Step.class)
  void aCrashAtAnyStepLeavesNoFileOrACompleteOneAndReDeliveryIsRecognised(Inbox.Step crashAfter) throws Exception {
    byte[] plaintext = data(9, 4 * CHUNK + 1);
    Path env = seal("photo.jpg", plaintext);
    Inbox crashing = Inbox.newBuilder().directory(inboxDir).keys(DEST).time(new ManualTimeSource((NOW) * 1000L))
        .stepHook(step -> {
          if (step == crashAfter) {
            throw new Error("simulated kill after " + step);
          }
        }).open();
    assertThrows(Error.class, () -> crashing.deliver(env));
    crashing.close(); // releases the lock as the dying process would; cleans nothing

    // Whatever the crash left, no partial file is ever visible under a final name.
    for (String name : visibleNames(inboxDir)) {
      if (!name.startsWith(AtomicFiles.TEMP_PREFIX)) {
        assertArrayEquals(plaintext, Files.readAllBytes(inboxDir.resolve(name)), name);
      }
    }
    try (Inbox inbox = open()) {
      Inbox.Recovery r = inbox.recovery();
      boolean published = crashAfter.compareTo(Inbox.Step.PUBLISHED) >= 0;
      assertEquals(crashAfter == Inbox.Step.TEMP_WRITTEN || crashAfter == Inbox.Step.PENDING_APPENDED ? 1 : 0,
          r.tempFilesRemoved(), r.toString());
      assertEquals(crashAfter == Inbox.Step.PENDING_APPENDED ? 1 : 0, r.pendingAborted(), r.toString());
      assertEquals(crashAfter == Inbox.Step.PUBLISHED || crashAfter == Inbox.Step.FOLDER_SYNCED ? 1 : 0,
          r.pendingCompleted(), r.toString());
      assertArrayEquals(published ? new String[] {"photo.jpg"} : new String[0], visibleNames(inboxDir));

      Delivery again = inbox.deliver(env);
      assertEquals(published ? Delivery.Outcome.DUPLICATE : Delivery.Outcome.DELIVERED, again.outcome());
      assertEquals(inboxDir.resolve("photo.jpg"), again.file());
      assertArrayEquals(plaintext, Files.readAllBytes(again.file()));
      Receipts.verify(again.receipt(), Receipt.Kind.RECEIPT, fingerprintOf(env), headerOf(env));
      assertArrayEquals(new String[] {"photo.jpg"}, visibleNames(inboxDir));
    }
  }

  @Test
  void aFileChangedAfterACrashIsNotTakenForThePublishedOne() throws Exception {
    byte[] plaintext = data(10, 2 * CHUNK);
    Path env = seal("photo.jpg", plaintext);
    Inbox crashing = Inbox.newBuilder().directory(inboxDir).keys(DEST).time(new ManualTimeSource((NOW) * 1000L))
        .stepHook(step -> {
          if (step == Inbox.Step.PUBLISHED) {
            throw new Error("simulated kill");
          }
        }).open();
    assertThrows(Error.class, () -> crashing.deliver(env));
    crashing.close();
    // The published file is damaged before the restart (a tool, a user, a lost page).
    Files.write(inboxDir.resolve("photo.jpg"), new byte[] {1, 2, 3}, StandardOpenOption.TRUNCATE_EXISTING);
    try (Inbox inbox = open()) {
      assertEquals(1, inbox.recovery().pendingAborted());
      Delivery d = inbox.deliver(env);
      assertEquals(Delivery.Outcome.DELIVERED, d.outcome());
      assertEquals("photo (2).jpg", d.file().getFileName().toString());
      assertArrayEquals(plaintext, Files.readAllBytes(d.file()));
      assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(inboxDir.resolve("photo.jpg")));
    }
  }

  @Test
  void concurrentDeliveriesOfOneEnvelopeGiveOneFileAndOneReceipt() throws Exception {
    byte[] plaintext = data(23, 6 * CHUNK);
    Path env = seal("same.bin", plaintext);
    Path other = seal("same.bin", data(24, 6 * CHUNK)); // same name, different envelope
    int threads = 6;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try (Inbox inbox = open()) {
      java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
      java.util.List<java.util.concurrent.Future<Delivery>> futures = new java.util.ArrayList<>();
      for (int i = 0; i < threads; i++) {
        Path which = i % 3 == 2 ? other : env;
        boolean byStream = i % 2 == 0;
        futures.add(pool.submit(() -> {
          start.await();
          return byStream ? inbox.deliver(Channels.newChannel(Files.newInputStream(which)), null)
              : inbox.deliver(which);
        }));
      }
      start.countDown();
      java.util.Map<Fingerprint, java.util.Set<String>> receipts = new java.util.HashMap<>();
      java.util.Map<Fingerprint, Integer> delivered = new java.util.HashMap<>();
      for (java.util.concurrent.Future<Delivery> f : futures) {
        Delivery d = f.get();
        receipts.computeIfAbsent(d.fingerprint(), k -> new java.util.HashSet<>())
            .add(io.crowdbackup.engine.envelope.Hex.of(d.receiptBytes()));
        if (d.outcome() == Delivery.Outcome.DELIVERED) {
          delivered.merge(d.fingerprint(), 1, Integer::sum);
        }
      }
      assertEquals(2, receipts.size());
      receipts.values().forEach(set -> assertEquals(1, set.size(), "one receipt per envelope"));
      assertEquals(java.util.Map.of(fingerprintOf(env), 1, fingerprintOf(other), 1), delivered);
      assertEquals(2, inbox.deliveredCount());
    } finally {
      pool.shutdownNow();
    }
    assertArrayEquals(new String[] {"same (2).bin", "same.bin"}, visibleNames(inboxDir));
  }

  @Test
  void aFailedFolderSyncStopsTheInboxUntilItIsReopened() throws Exception {
    byte[] plaintext = data(20, 2 * CHUNK);
    Path env = seal("photo.jpg", plaintext);
    Path other = seal("other.jpg", data(21, 10));
    try (Inbox failing = Inbox.newBuilder().directory(inboxDir).keys(DEST).time(new ManualTimeSource((NOW) * 1000L))
        .stepHook(step -> {
          if (step == Inbox.Step.PUBLISHED) {
            throw new StoreException(StoreException.Reason.IO_ERROR, inboxDir.toString(),
                "simulated: fsync failed (EIO)");
          }
        }).open()) {
      StoreException first = assertThrows(StoreException.class, () -> failing.deliver(env));
      assertTrue(first.getMessage().contains("EIO"), first.getMessage());
      // The file is published but its DONE record is not written: this instance refuses to go on.
      StoreException next = assertThrows(StoreException.class, () -> failing.deliver(other));
      assertEquals(StoreException.Reason.IO_ERROR, next.reason());
      assertTrue(next.getMessage().contains("reopen"), next.getMessage());
    }
    try (Inbox inbox = open()) {
      assertEquals(1, inbox.recovery().pendingCompleted());
      assertEquals(Delivery.Outcome.DUPLICATE, inbox.deliver(env).outcome());
      assertEquals(Delivery.Outcome.DELIVERED, inbox.deliver(other).outcome());
      assertArrayEquals(new String[] {"other.jpg", "photo.jpg"}, visibleNames(inboxDir));
    }
  }

  @Test
  void aLedgerCutInsideItsHeaderIsStartedAfresh() throws Exception {
    Path state = Files.createDirectories(inboxDir.resolve(Inbox.STATE_DIR));
    Files.write(state.resolve(DeliveryLedger.FILE_NAME), new byte[] {'C', 'B', 'D'});
    try (Inbox inbox = open()) {
      assertEquals(0, inbox.deliveredCount());
      inbox.deliver(seal("a.bin", data(22, 10)));
    }
    try (Inbox inbox = open()) {
      assertEquals(1, inbox.deliveredCount());
    }
  }

  @Test
  void leftoverTemporaryFilesAreRemovedOnOpenAndOtherFilesKept() throws Exception {
    Files.createDirectories(inboxDir);
    Files.write(inboxDir.resolve(AtomicFiles.TEMP_PREFIX + "1" + AtomicFiles.TEMP_SUFFIX), new byte[10]);
    Files.write(inboxDir.resolve(AtomicFiles.TEMP_PREFIX + "2" + AtomicFiles.TEMP_SUFFIX), new byte[0]);
    Files.write(inboxDir.resolve("notes.txt"), new byte[] {1});
    try (Inbox inbox = open()) {
      assertEquals(2, inbox.recovery().tempFilesRemoved());
      assertArrayEquals(new String[] {"notes.txt"}, visibleNames(inboxDir));
    }
  }

  @Test
  void aTornLastLedgerRecordIsCutAndEarlierDeliveriesAreRemembered() throws Exception {
    Path e1 = seal("one.bin", data(11, 100));
    Path e2 = seal("two.bin", data(12, 100));
    Delivery d1;
    Delivery d2;
    try (Inbox inbox = open()) {
      d1 = inbox.deliver(e1);
      d2 = inbox.deliver(e2);
    }
    Path ledger = inboxDir.resolve(Inbox.STATE_DIR).resolve(DeliveryLedger.FILE_NAME);
    long size = Files.size(ledger);
    // Tear the last record (e2's DONE) in half: e2 is then PENDING with its file in place.
    try (FileChannel ch = FileChannel.open(ledger, StandardOpenOption.WRITE)) {
      ch.truncate(size - 20);
    }
    try (Inbox inbox = open()) {
      assertEquals(DeliveryLedger.RECORD_HEADER_BYTES + 33 - 20, inbox.recovery().tornLedgerBytes());
      assertEquals(1, inbox.recovery().pendingCompleted());
      assertArrayEquals(d1.receiptBytes(), inbox.deliver(e1).receiptBytes());
      assertArrayEquals(d2.receiptBytes(), inbox.deliver(e2).receiptBytes());
      assertEquals(2, inbox.deliveredCount());
    }
    // Zeros appended (a file system that extended the file but lost the data) are a torn tail too.
    Files.write(ledger, new byte[100], StandardOpenOption.APPEND);
    try (Inbox inbox = open()) {
      assertEquals(100, inbox.recovery().tornLedgerBytes());
      assertEquals(2, inbox.deliveredCount());
    }
  }

  @Test
  void moreGarbageThanOneTornRecordIsReportedNotRepaired() throws Exception {
    try (Inbox inbox = open()) {
      inbox.deliver(seal("one.bin", data(13, 100)));
    }
    Path ledger = inboxDir.resolve(Inbox.STATE_DIR).resolve(DeliveryLedger.FILE_NAME);
    byte[] before = Files.readAllBytes(ledger);
    byte[] garbage = new byte[DeliveryLedger.MAX_TORN_BYTES + 1];
    java.util.Arrays.fill(garbage, (byte) 0x5a);
    Files.write(ledger, garbage, StandardOpenOption.APPEND);
    InboxException e = assertThrows(InboxException.class, this::open);
    assertEquals(InboxException.Reason.LEDGER_CORRUPT, e.reason());
    assertTrue(e.getMessage().contains(DeliveryLedger.FILE_NAME), e.getMessage());
    assertEquals(before.length + garbage.length, Files.size(ledger), "left as is for inspection");
    // And the failed open released the lock.
    Files.write(ledger, before);
    try (Inbox inbox = open()) {
      assertEquals(1, inbox.deliveredCount());
    }
  }

  /** /dev/full fails every write with ENOSPC, as a full disk does: no fake exception text. */
  @Test
  void aFullDiskIsDiskFullNamingTheInboxFolderAndLeavesNothing() throws Exception {
    Path devFull = Path.of("/dev/full");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(devFull), "needs /dev/full (Linux)");
    Path env = seal("full.bin", data(31, 3 * CHUNK));
    StoreException e;
    try (Inbox inbox = Inbox.newBuilder().directory(inboxDir).keys(DEST).time(new ManualTimeSource((NOW) * 1000L))
        .fileOpener((path, options) -> FileChannel.open(devFull, StandardOpenOption.WRITE)).open()) {
      e = assertThrows(StoreException.class, () -> inbox.deliver(env));
    }
    assertEquals(StoreException.Reason.DISK_FULL, e.reason(), e.getMessage());
    assertEquals(inboxDir.toString(), e.path(), "the folder the user gave, not a temporary file");
    assertFalse(e.getMessage().contains(AtomicFiles.TEMP_PREFIX), e.getMessage());
    assertArrayEquals(new String[0], visibleNames(inboxDir), "no temporary or partial file is left");
    try (Inbox inbox = open()) {
      assertEquals(Delivery.Outcome.DELIVERED, inbox.deliver(env).outcome(), "nothing was recorded");
    }
  }

  @Test
  void aSecondInboxOnTheSameFolderIsRefused() throws Exception {
    try (Inbox inbox = open()) {
      StoreException e = assertThrows(StoreException.class, this::open);
      assertEquals(StoreException.Reason.LOCKED_BY_OTHER_PROCESS, e.reason());
    }
    open().close();
  }

  @Test
  void relayUnwrapsAndQueuesTheInnerEnvelopeUnchangedForTheDestination() throws Exception {
    byte[] plaintext = data(14, 3 * CHUNK + 7);
    Path outer = seal("holiday.mp4", plaintext, RELAY);
    Fingerprint outerFp = fingerprintOf(outer);
    Path outbox = tmp.resolve("outbox");
    Delivery relayed;
    try (Inbox relay = Inbox.newBuilder().directory(outbox).keys(RELAY).mode(Inbox.Mode.RELAY)
        .time(new ManualTimeSource((NOW) * 1000L)).open()) {
      relayed = relay.deliver(outer);
      assertEquals(Delivery.Outcome.RELAYED, relayed.outcome());
      assertEquals(outerFp, relayed.fingerprint());
      assertEquals(DEST.card().locator(), relayed.nextHopLocator());
      assertEquals(outbox.resolve(relayed.innerFingerprint().toHex() + ".cbe"), relayed.file());
      assertEquals(relayed.innerFingerprint(), fingerprintOf(relayed.file()));
      // The relay's receipt is for the outer envelope, signed by the key its header names.
      Receipts.verify(relayed.receipt(), Receipt.Kind.RECEIPT, outerFp, headerOf(outer));
      assertEquals(Delivery.Outcome.DUPLICATE, relay.deliver(outer).outcome());
      // An envelope that is not a relay envelope is refused by a relay, leaving nothing.
      Path direct = seal("x.bin", data(15, 10));
      EnvelopeException e = assertThrows(EnvelopeException.class, () -> relay.deliver(direct));
      assertEquals(EnvelopeException.Reason.NOT_FOR_THIS_KEY, e.reason());
    }
    try (Stream<Path> s = Files.list(outbox)) {
      assertEquals(2, s.count(), "the queued envelope and the state folder");
    }
    try (Inbox dest = open()) {
      Delivery d = dest.deliver(relayed.file());
      assertEquals(Delivery.Outcome.DELIVERED, d.outcome());
      assertEquals(relayed.innerFingerprint(), d.fingerprint());
      assertEquals("holiday.mp4", d.file().getFileName().toString());
      assertArrayEquals(plaintext, Files.readAllBytes(d.file()));
    }
  }

  @Test
  void eachModeRefusesTheOtherContentKindAndWritesNothing() throws Exception {
    Path outer = seal("a.bin", data(16, 100), RELAY);
    // The relay's key used as a destination: the outer layer opens, but holds an envelope, not a file.
    try (Inbox wrongMode = open(RELAY, Inbox.Mode.DESTINATION)) {
      EnvelopeException e = assertThrows(EnvelopeException.class, () -> wrongMode.deliver(outer));
      assertEquals(EnvelopeException.Reason.WRONG_CONTENT_KIND, e.reason());
      assertEquals(0, visibleNames(inboxDir).length);
    }
    Path direct = seal("b.bin", data(17, 100));
    try (Inbox relayForDest = open(DEST, Inbox.Mode.RELAY)) {
      EnvelopeException e = assertThrows(EnvelopeException.class, () -> relayForDest.deliver(direct));
      assertEquals(EnvelopeException.Reason.WRONG_CONTENT_KIND, e.reason());
      assertEquals(0, visibleNames(inboxDir).length);
    }
  }

  @Test
  void aRelayCrashBetweenPublishAndLedgerIsSettledOnRestart() throws Exception {
    Path outer = seal("a.bin", data(18, 2 * CHUNK), RELAY);
    Path outbox = tmp.resolve("outbox");
    Inbox crashing = Inbox.newBuilder().directory(outbox).keys(RELAY).mode(Inbox.Mode.RELAY)
        .time(new ManualTimeSource((NOW) * 1000L)).stepHook(step -> {
          if (step == Inbox.Step.PUBLISHED) {
            throw new Error("simulated kill");
          }
        }).open();
    assertThrows(Error.class, () -> crashing.deliver(outer));
    crashing.close();
    try (Inbox relay = Inbox.newBuilder().directory(outbox).keys(RELAY).mode(Inbox.Mode.RELAY).open()) {
      assertEquals(1, relay.recovery().pendingCompleted());
      Delivery d = relay.deliver(outer);
      assertEquals(Delivery.Outcome.DUPLICATE, d.outcome());
      assertEquals(NOW, d.receipt().signedAtEpochSecond());
      assertEquals(fingerprintOf(d.file()), fingerprintOf(d.file())); // present and well-formed
    }
  }

  @Test
  void progressCoversBothPasses() throws Exception {
    Path env = seal("p.bin", data(19, 10 * CHUNK));
    long size = Files.size(env);
    long[] last = new long[2];
    try (Inbox inbox = open()) {
      inbox.deliver(env, Transfer.create((done, total) -> {
        assertTrue(done >= last[0] && done <= total);
        last[0] = done;
        last[1] = total;
      }));
    }
    assertEquals(2 * size, last[0]);
    assertEquals(2 * size, last[1]);
  }

  @Test
  void aDeliveryCancelledFromAnotherThreadPublishesNothingAndLeavesNoTemporaryFile() throws Exception {
    Path env = seal("c.bin", data(23, 40 * CHUNK));
    long size = Files.size(env);
    try (Inbox inbox = open()) {
      // Cancelled by another thread once the second pass (the one that writes) is under way.
      java.util.concurrent.CountDownLatch writing = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.CountDownLatch cancelled = new java.util.concurrent.CountDownLatch(1);
      Transfer t = Transfer.create((done, total) -> {
        if (done > size + 2 * CHUNK && writing.getCount() > 0) {
          writing.countDown();
          try {
            cancelled.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      });
      Thread canceller = new Thread(() -> {
        try {
          writing.await();
        } catch (InterruptedException e) {
          return;
        }
        t.cancel();
        cancelled.countDown();
      });
      canceller.start();
      assertThrows(TransferCancelledException.class, () -> inbox.deliver(env, t));
      canceller.join();
      assertTrue(t.isCancelled());
      assertEquals(0, inbox.deliveredCount());
      assertArrayEquals(new String[0], visibleNames(inboxDir), "nothing published");
      try (java.util.stream.Stream<Path> all = Files.list(inboxDir)) {
        assertTrue(all.noneMatch(p -> p.getFileName().toString().startsWith(AtomicFiles.TEMP_PREFIX)),
            "no temporary file left");
      }
      // The same envelope is delivered normally afterwards.
      assertEquals(Delivery.Outcome.DELIVERED, inbox.deliver(env).outcome());
    }
  }
}
