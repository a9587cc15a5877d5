package io.crowdbackup.engine.custody;

import static io.crowdbackup.engine.custody.CustodyFixture.HOME_A;
import static io.crowdbackup.engine.custody.CustodyFixture.SOURCE;
import static io.crowdbackup.engine.custody.CustodyFixture.START_EPOCH_MILLIS;
import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.TransferCancelledException;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import io.crowdbackup.engine.policy.ManualTimeSource;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Custodian#sealOwn}: a phone seals straight into its own store. The blob is filed under the
 * fingerprint of the bytes on disk, opens to the plaintext, and is accounted as putOwn accounts; a seal
 * that fails or is cancelled leaves no file and no reservation.
 */
class SealOwnTest {
  @TempDir
  Path dir;

  private Custodian open() throws IOException {
    return CustodyFixture.open(dir, CustodyFixture.policy(new ManualTimeSource(START_EPOCH_MILLIS), 1 << 20));
  }

  private static SealRequest request(Compression compression) {
    return TestEnvelopes.request(HOME_A, SOURCE).name("IMG_0001.txt").mediaType("text/plain").chunkSizeBytes(4096)
        .compression(compression).build();
  }

  private static ReadableByteChannel channel(byte[] b) {
    return Channels.newChannel(new ByteArrayInputStream(b));
  }

  private Path storeDir() {
    return dir.resolve("store");
  }

  /** Every file under the store's partial and spool folders: what a seal must not leave. */
  private List<Path> leftovers() throws IOException {
    List<Path> out = new ArrayList<>();
    for (String d : new String[] {"partial", "spool"}) {
      try (Stream<Path> s = Files.list(storeDir().resolve(d))) {
        out.addAll(s.collect(Collectors.toList()));
      }
    }
    return out;
  }

  /** The stored blob's bytes hash to its name and open to {@code plain}. */
  private static void assertStoredAndOpens(Custodian c, BlobStat s, byte[] plain) throws IOException {
    assertEquals(BlobKind.OWN, s.kind());
    assertEquals(BlobState.HELD, s.state());
    assertEquals(HOME_A.card().locator(), s.locator());
    try (ReadableByteChannel in = c.openOwn(s.fingerprint(), "peer")) {
      assertEquals(s.fingerprint(), Envelopes.fingerprint(in), "the name is the fingerprint of the bytes on disk");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ReadableByteChannel in = c.openOwn(s.fingerprint(), "peer")) {
      OpenResult r = Envelopes.opener(HOME_A).open(in, Channels.newChannel(out), s.fingerprint());
      assertEquals(plain.length, r.metadata().plaintextLengthBytes());
    }
    assertArrayEquals(plain, out.toByteArray());
  }

  @Test
  void aFileChannelAndStreamSealedIntoTheStoreAreFiledUnderTheFingerprintOfTheirBytes() throws Exception {
    byte[] text = TestEnvelopes.plaintext(1, 150_000, true);
    byte[] random = TestEnvelopes.plaintext(2, 70_001, false);
    Path file = Files.write(dir.resolve("IMG_0001.txt"), text);
    List<BlobStat> sealed = new ArrayList<>();
    try (Custodian c = open(); EnvelopeSealer sealer = Envelopes.sealer()) {
      BlobStat fromFile = c.sealOwn(sealer, request(Compression.ON), file, Transfer.create());
      assertTrue(fromFile.envelopeLengthBytes() < text.length / 4, "the file's compression was honoured: "
          + fromFile.envelopeLengthBytes());
      assertStoredAndOpens(c, fromFile, text);
      BlobStat fromChannel = c.sealOwn(sealer, request(Compression.OFF), channel(random), random.length,
          Transfer.create());
      assertStoredAndOpens(c, fromChannel, random);
      BlobStat fromStream = c.sealOwnStream(sealer, request(Compression.ON), channel(text), Transfer.create());
      assertTrue(fromStream.envelopeLengthBytes() < text.length / 4, "compressed: " + fromStream.envelopeLengthBytes());
      assertStoredAndOpens(c, fromStream, text);
      sealed.add(fromFile);
      sealed.add(fromChannel);
      sealed.add(fromStream);
      assertEquals(sealed.size(), c.ownEnvelopes().size());
      StoreUsage u = c.storeUsage();
      assertEquals(sealed.stream().mapToLong(BlobStat::envelopeLengthBytes).sum(), u.ownHeldBytes(),
          "own bytes held, as putOwn counts them");
      assertEquals(0, u.ownReservedBytes());
      assertEquals(0, u.uploadCount());
      assertEquals(0, c.stats().heldBytes() + c.stats().reservedBytes(), "no quota: own envelopes are not custody");
      assertEquals(List.of(), leftovers(), "no partial file and no spool left");
    }
    // The store's own checks at a rebuild (record header, footer, piece digests, name) take them as they are.
    Files.deleteIfExists(storeDir().resolve("CLEAN"));
    try (Custodian c = open()) {
      assertEquals(0, c.stats().quarantinedCount());
      for (BlobStat s : sealed) {
        assertEquals(BlobState.HELD, c.stat(s.fingerprint()).state());
      }
      assertStoredAndOpens(c, c.stat(sealed.get(1).fingerprint()), random);
    }
  }

  @Test
  void anEnvelopeOfMoreThan4096PiecesMovesItsPieceTableToTheFooterOnTheWay() throws Exception {
    // 4 KiB chunks, 24 MB: about 5,900 pieces, more than the 4,096 kept in memory.
    byte[] plain = TestEnvelopes.plaintext(3, 24_000_000, false);
    try (Custodian c = open(); EnvelopeSealer sealer = Envelopes.sealer()) {
      BlobStat s = c.sealOwn(sealer, request(Compression.OFF), channel(plain), plain.length, Transfer.create());
      assertStoredAndOpens(c, s, plain);
    }
    Files.deleteIfExists(storeDir().resolve("CLEAN"));
    try (Custodian c = open()) {
      assertEquals(0, c.stats().quarantinedCount(), "the footer checks out at a rebuild");
      assertEquals(1, c.ownEnvelopes().size());
    }
  }

  @Test
  void whileSealingTheEnvelopeCountsAsAnOwnUploadAndACancelledSealLeavesNothing() throws Exception {
    byte[] plain = TestEnvelopes.plaintext(4, 400_000, false);
    Path file = Files.write(dir.resolve("IMG_0002.txt"), plain);
    try (Custodian c = open(); EnvelopeSealer sealer = Envelopes.sealer()) {
      List<StoreUsage> seen = new ArrayList<>();
      List<Integer> partialFiles = new ArrayList<>();
      Transfer[] t = new Transfer[1];
      t[0] = Transfer.create((done, total) -> {
        assertEquals(plain.length, total, "progress against the plaintext's length");
        seen.add(c.storeUsage());
        try {
          partialFiles.add(leftovers().size());
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        if (done >= 200_000) {
          t[0].cancel();
        }
      });
      assertThrows(TransferCancelledException.class, () -> c.sealOwn(sealer, request(Compression.OFF), file, t[0]));
      assertTrue(t[0].bytesDone() >= 200_000 && t[0].bytesDone() < plain.length, "stopped at " + t[0].bytesDone());
      StoreUsage during = seen.get(seen.size() - 1);
      assertEquals(1, during.uploadCount(), "an own upload in progress: " + during);
      assertTrue(during.ownReservedBytes() > plain.length, "its envelope length, once declared: " + during);
      assertEquals(1, partialFiles.get(partialFiles.size() - 1), "one file, in the store's partial folder");
      assertEquals(List.of(), leftovers(), "the file is gone");
      assertEquals(new StoreUsage(0, 0, 0, 0, 0, 0), c.storeUsage(), "nothing held or reserved");
      assertEquals(List.of(), c.list());

      // A stream cancelled while it spools (its first read cancels): the spool goes too.
      Transfer[] cancelled = new Transfer[1];
      cancelled[0] = Transfer.create((done, total) -> cancelled[0].cancel());
      assertThrows(TransferCancelledException.class,
          () -> c.sealOwnStream(sealer, request(Compression.ON), channel(plain), cancelled[0]));
      assertTrue(cancelled[0].bytesDone() > 0 && cancelled[0].bytesDone() < plain.length);
      assertEquals(List.of(), leftovers(), "no spool and no partial file");
      assertEquals(new StoreUsage(0, 0, 0, 0, 0, 0), c.storeUsage());

      // Afterwards the same file seals in full.
      assertStoredAndOpens(c, c.sealOwn(sealer, request(Compression.OFF), file, Transfer.create()), plain);
    }
  }

  /** Bytes this thread has passed to write() so far, every file and pipe ({@code /proc/thread-self/io}). */
  private static long threadWrittenBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/thread-self/io"))) {
      if (line.startsWith("wchar:")) {
        return Long.parseLong(line.substring(6).trim());
      }
    }
    throw new IllegalStateException("no wchar in /proc/thread-self/io");
  }

  /**
   * Every file under {@code root}, and the names in the JVM's temporary folder that could be a seal's
   * (other processes share that folder, so only names of ours count there).
   */
  private static java.util.Set<Path> files(Path root) throws IOException {
    java.util.Set<Path> out = new java.util.HashSet<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(Files::isRegularFile).forEach(out::add);
    }
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      s.filter(p -> p.getFileName().toString().matches("(?i).*(crowdbackup|seal|spool|\\.cbe).*")).forEach(out::add);
    }
    return out;
  }

  private java.util.Set<Path> newFiles(java.util.Set<Path> before) throws IOException {
    java.util.Set<Path> now = files(dir);
    now.removeAll(before);
    return now;
  }

  /** A transfer that adds to {@code during}, at each progress report, the files made since {@code before}. */
  private Transfer watchingNewFiles(java.util.Set<Path> before, java.util.Set<Path> during) {
    return Transfer.create((done, total) -> {
      try {
        during.addAll(newFiles(before));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /**
   * The point of sealing into the store: every byte of the envelope is written once. All writes of a seal
   * run on the calling thread (a one-thread sealer, the store's upload), so this thread's write() total
   * covers every file written; it is the envelope plus the store's record header and footer, and the only
   * files are the store's own. Sealing to a temporary file and then {@code putOwn} writes it twice.
   */
  @Test
  void sealOwnWritesTheEnvelopeOnceAndOnlyIntoTheStore() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/thread-self/io")), "Linux only");
    byte[] plain = TestEnvelopes.plaintext(6, 2_000_000, false);
    Path file = Files.write(dir.resolve("IMG_0003.jpg"), plain);
    SealRequest request = TestEnvelopes.request(HOME_A, SOURCE).chunkSizeBytes(65_536).build();
    Path store = storeDir();
    try (Custodian c = open(); EnvelopeSealer sealer = Envelopes.sealer()) {
      java.util.Set<Path> before = files(dir);
      java.util.Set<Path> during = new java.util.HashSet<>();
      Transfer watching = watchingNewFiles(before, during);
      long written = threadWrittenBytes();
      BlobStat s = c.sealOwn(sealer, request, file, watching);
      long sealOwnBytes = threadWrittenBytes() - written;
      long envelope = s.envelopeLengthBytes();
      long footer = 8 + (envelope / 65_536 + 3) * 36 + 16 + 10 + 64;
      assertTrue(sealOwnBytes >= envelope && sealOwnBytes <= envelope + 82 + footer, "sealOwn wrote " + sealOwnBytes
          + " bytes for a " + envelope + "-byte envelope");
      assertEquals(1, during.size(), "one file while sealing: " + during);
      assertTrue(during.iterator().next().startsWith(store.resolve("partial")), during.toString());
      for (Path p : newFiles(before)) {
        assertTrue(p.startsWith(store), "a file outside the store folder: " + p);
      }

      // The way it was done before: a temporary envelope, then putOwn. The same measure sees two writes.
      Path temp = Files.createTempFile(dir, "seal-", ".cbe");
      written = threadWrittenBytes();
      io.crowdbackup.api.SealResult r;
      try (java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(temp,
          java.nio.file.StandardOpenOption.WRITE)) {
        r = sealer.seal(request, file, out);
        out.force(true);
      }
      try (ReadableByteChannel in = java.nio.channels.FileChannel.open(temp)) {
        c.putOwn(r.fingerprint(), r.envelopeLengthBytes(), in);
      }
      long twiceBytes = threadWrittenBytes() - written;
      assertTrue(twiceBytes >= 2 * r.envelopeLengthBytes(), "the old way wrote " + twiceBytes);
      System.out.printf("sealOwn wrote %d bytes for a %d-byte envelope (%.4fx); seal to a file + putOwn wrote %d"
          + " (%.4fx)%n", sealOwnBytes, envelope, (double) sealOwnBytes / envelope, twiceBytes,
          (double) twiceBytes / r.envelopeLengthBytes());
    }
  }

  /**
   * A stream of unknown length is spooled first (the header carries the exact length): the spool, in the
   * store's own spool folder, and then the envelope, once. Nothing is written outside the store folder.
   */
  @Test
  void aStreamOfUnknownLengthSpoolsInsideTheStoreAndWritesTheEnvelopeOnce() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/thread-self/io")), "Linux only");
    byte[] plain = TestEnvelopes.plaintext(7, 2_000_000, false);
    SealRequest request = TestEnvelopes.request(HOME_A, SOURCE).chunkSizeBytes(65_536).build();
    Path store = storeDir();
    try (Custodian c = open(); EnvelopeSealer sealer = Envelopes.sealer()) {
      java.util.Set<Path> before = files(dir);
      java.util.Set<Path> during = new java.util.HashSet<>();
      Transfer watching = watchingNewFiles(before, during);
      long written = threadWrittenBytes();
      BlobStat s = c.sealOwnStream(sealer, request, channel(plain), watching);
      long bytes = threadWrittenBytes() - written;
      long envelope = s.envelopeLengthBytes();
      assertTrue(bytes >= envelope && bytes <= 2 * envelope + 8192, "wrote " + bytes + " for " + envelope);
      assertTrue(during.stream().anyMatch(p -> p.startsWith(store.resolve("spool"))), "spooled in the store: "
          + during);
      for (Path p : during) {
        assertTrue(p.startsWith(store), "a file outside the store folder: " + p);
      }
      assertEquals(List.of(), leftovers());
      System.out.printf("sealOwnStream wrote %d bytes for a %d-byte envelope (%.4fx: spool + envelope)%n", bytes,
          envelope, (double) bytes / envelope);
    }
  }

  @Test
  void aSealThatFailsLeavesNoFileAndNoReservation() throws Exception {
    byte[] plain = TestEnvelopes.plaintext(5, 100_000, false);
    try (Custodian c = open(); EnvelopeSealer sealer = Envelopes.sealer()) {
      // The plaintext ends before the length promised: the sealer refuses, half an envelope was written.
      EnvelopeException e = assertThrows(EnvelopeException.class, () -> c.sealOwn(sealer, request(Compression.OFF),
          channel(plain), plain.length + 50_000, Transfer.create()));
      assertEquals(EnvelopeException.Reason.PLAINTEXT_LENGTH_MISMATCH, e.reason());
      assertEquals(List.of(), leftovers());
      assertEquals(new StoreUsage(0, 0, 0, 0, 0, 0), c.storeUsage());
      // An envelope that expired already (custody time) is refused by the store before it is kept.
      SealRequest expired = TestEnvelopes.request(HOME_A, SOURCE).expiresAtEpochSecond(START_EPOCH_MILLIS / 1000 - 1)
          .build();
      io.crowdbackup.api.store.StoreException x = assertThrows(io.crowdbackup.api.store.StoreException.class,
          () -> c.sealOwn(sealer, expired, channel(plain), plain.length, Transfer.create()));
      assertEquals(io.crowdbackup.api.store.StoreException.Reason.PAST_EXPIRY, x.reason(), x.getMessage());
      assertEquals(List.of(), leftovers());
      assertEquals(new StoreUsage(0, 0, 0, 0, 0, 0), c.storeUsage());
    }
  }
}
