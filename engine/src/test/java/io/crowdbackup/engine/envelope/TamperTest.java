package io.crowdbackup.engine.envelope;

import static io.crowdbackup.api.EnvelopeException.Reason.*;
import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeException.Reason;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SecretAccess;
import io.crowdbackup.api.SigningKeyPair;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Tampering with a sealed envelope is always detected, with the reason that names what was damaged, and no
 * plaintext of a damaged chunk is ever written. Samples: three data chunks of 4 KiB (two full, one short)
 * stored raw, the same with LZ4 on some chunks, a relay envelope, and an empty plaintext.
 */
class TamperTest {
  static final int CHUNK = 4096;
  static final DestinationKeyPair DEST = TestEnvelopes.destination(1, "https://home.example/inbox");
  static final DestinationKeyPair RELAY = TestEnvelopes.destination(2, "https://relay.example/in");
  static final DestinationKeyPair OTHER = TestEnvelopes.destination(4, "https://home.example/inbox");
  static final SigningKeyPair SOURCE = TestEnvelopes.source(3);

  /** The envelopes under attack. */
  enum Sample {
    RAW, LZ4, RELAY, EMPTY
  }

  /** A sealed sample: its bytes, who opens it, and what opening it writes. */
  static final class Sealed {
    final byte[] envelope;
    final DestinationKeyPair opener;
    final byte[] plaintext;
    final Fingerprint fingerprint;
    final EnvelopeLayout layout;
    /** Plaintext bytes written before each record is opened: chunks are written as they authenticate. */
    final long[] plaintextBeforeRecord;

    Sealed(byte[] envelope, DestinationKeyPair opener, byte[] plaintext, Fingerprint fingerprint) {
      this.envelope = envelope;
      this.opener = opener;
      this.plaintext = plaintext;
      this.fingerprint = fingerprint;
      this.layout = EnvelopeLayout.of(envelope);
      this.plaintextBeforeRecord = new long[layout.recordCount()];
      for (int i = 0; i < plaintextBeforeRecord.length; i++) {
        plaintextBeforeRecord[i] = Math.min((long) i * CHUNK, plaintext.length);
      }
    }
  }

  static final java.util.Map<Sample, Sealed> SAMPLES = new java.util.EnumMap<>(Sample.class);

  @TempDir
  static Path dir;

  @BeforeAll
  static void seal() throws IOException {
    byte[] raw = TestEnvelopes.plaintext(11, 2 * CHUNK + 100, false);
    SAMPLES.put(Sample.RAW, sealFile(1, raw, Compression.OFF, false));
    // Alternating compressible and random chunks, so both encodings (0 raw, 1 LZ4) appear.
    byte[] mixed = EnvelopeLayout.concat(TestEnvelopes.plaintext(0, CHUNK, true),
        TestEnvelopes.plaintext(12, CHUNK, false), TestEnvelopes.plaintext(0, CHUNK, true),
        TestEnvelopes.plaintext(0, 100, true));
    SAMPLES.put(Sample.LZ4, sealFile(2, mixed, Compression.ON, false));
    SAMPLES.put(Sample.RELAY, sealFile(3, TestEnvelopes.plaintext(13, CHUNK + 1, false), Compression.OFF, true));
    SAMPLES.put(Sample.EMPTY, sealFile(4, new byte[0], Compression.OFF, false));
    // The LZ4 sample must really hold compressed chunks, else it proves nothing about them.
    assertTrue(SAMPLES.get(Sample.LZ4).layout.recordLength[0] < CHUNK / 2, "chunk 0 should be LZ4");
    assertEquals(4 + 1 + CHUNK + 16, SAMPLES.get(Sample.LZ4).layout.recordLength[1], "chunk 1 should be raw");
  }

  private static Sealed sealFile(long seed, byte[] plaintext, Compression compression, boolean relay)
      throws IOException {
    Path file = dir.resolve("plain-" + seed);
    Files.write(file, plaintext);
    SealRequest.Builder rb = TestEnvelopes.request(DEST, SOURCE).chunkSizeBytes(CHUNK).compression(compression)
        .mediaType("text/plain");
    if (relay) {
      rb.relay(RELAY.card());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    io.crowdbackup.api.SealResult r;
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(seed, 1)) {
      r = sealer.seal(rb.build(), file, Channels.newChannel(out));
    }
    byte[] envelope = out.toByteArray();
    if (!relay) {
      return new Sealed(envelope, DEST, plaintext, r.fingerprint());
    }
    // The relay's plaintext is the inner envelope.
    ByteArrayOutputStream inner = new ByteArrayOutputStream();
    new StreamingOpener(RELAY).open(channel(envelope), Channels.newChannel(inner));
    return new Sealed(envelope, RELAY, inner.toByteArray(), r.fingerprint());
  }

  /** Parallel openers shared by the whole class: one pool per key, not thousands. */
  private static final java.util.Map<DestinationKeyPair, StreamingOpener> PARALLEL = new java.util.HashMap<>();

  private static synchronized StreamingOpener parallelOpener(DestinationKeyPair keys, int threads) {
    return PARALLEL.computeIfAbsent(keys, k -> new StreamingOpener(k, threads));
  }

  @org.junit.jupiter.api.AfterAll
  static synchronized void closeParallelOpeners() {
    PARALLEL.values().forEach(StreamingOpener::close);
    PARALLEL.clear();
  }

  static ReadableByteChannel channel(byte[] b) {
    return Channels.newChannel(new ByteArrayInputStream(b));
  }

  /**
   * Opens and returns the exception, asserting that what was written is exactly {@code expectedPrefix}; and
   * that a parallel opener (which reads ahead and verifies chunks on worker threads) fails the same way:
   * the same reason and message, the same bytes written.
   */
  static EnvelopeException openFails(Sealed s, byte[] envelope, long expectedPlaintextWritten, String what) {
    EnvelopeException one = openFails(s, envelope, expectedPlaintextWritten, what, 1);
    EnvelopeException parallel = openFails(s, envelope, expectedPlaintextWritten, what + " (3 threads)", 3);
    assertEquals(one.reason(), parallel.reason(), () -> what + ": parallel opener: " + parallel.getMessage());
    assertEquals(one.getMessage(), parallel.getMessage(), what);
    return one;
  }

  private static EnvelopeException openFails(Sealed s, byte[] envelope, long expectedPlaintextWritten, String what,
      int threads) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    EnvelopeException e;
    StreamingOpener opener = threads == 1 ? new StreamingOpener(s.opener) : parallelOpener(s.opener, threads);
    try {
      OpenResult r = opener.open(channel(envelope), Channels.newChannel(out));
      throw new AssertionError(what + ": opened successfully (fingerprint " + r.fingerprint() + ")");
    } catch (EnvelopeException ex) {
      e = ex;
    } catch (IOException | RuntimeException ex) {
      throw new AssertionError(what + ": failed without a typed EnvelopeException", ex);
    }
    byte[] written = out.toByteArray();
    assertEquals(expectedPlaintextWritten, written.length, () -> what + ": plaintext bytes written before " + e);
    assertArrayEquals(Arrays.copyOf(s.plaintext, written.length), written, what + ": written bytes are genuine");
    return e;
  }

  /** Reasons allowed for damage at {@code offset}: what the format says that region's damage is. */
  static Set<Reason> allowed(EnvelopeLayout l, long offset) {
    if (offset < EnvelopeLayout.VERSION) {
      return EnumSet.of(BAD_MAGIC);
    }
    if (offset < EnvelopeLayout.HEADER_LENGTH) {
      return EnumSet.of(VERSION_TOO_NEW, VERSION_TOO_OLD);
    }
    if (offset < EnvelopeLayout.SUITE) {
      // Too large, too small, or within bounds but then disagreeing with the locator length.
      return EnumSet.of(HEADER_TOO_LARGE, FIELD_OUT_OF_BOUNDS, TRUNCATED);
    }
    if (offset == EnvelopeLayout.SUITE) {
      return EnumSet.of(UNSUPPORTED_SUITE);
    }
    if (offset < EnvelopeLayout.EPHEMERAL_KEY) {
      // chunk size, envelope length, expiry: out of bounds, or in bounds and caught by the header MAC.
      return EnumSet.of(FIELD_OUT_OF_BOUNDS, HEADER_AUTHENTICATION_FAILED);
    }
    if (offset < EnvelopeLayout.SALT) {
      // A low-order point is refused before the MAC.
      return EnumSet.of(HEADER_AUTHENTICATION_FAILED, FIELD_OUT_OF_BOUNDS);
    }
    if (offset < EnvelopeLayout.RECEIPT_KEY) {
      return EnumSet.of(HEADER_AUTHENTICATION_FAILED);
    }
    if (offset < EnvelopeLayout.RELEASE_KEY) {
      return EnumSet.of(NOT_FOR_THIS_KEY);
    }
    if (offset < EnvelopeLayout.LOCATOR_LENGTH) {
      return EnumSet.of(HEADER_AUTHENTICATION_FAILED);
    }
    if (offset < EnvelopeLayout.LOCATOR) {
      return EnumSet.of(FIELD_OUT_OF_BOUNDS);
    }
    if (offset < l.macStart()) {
      // Invalid UTF-8 or a control character, else a different but valid locator that the MAC catches.
      return EnumSet.of(FIELD_OUT_OF_BOUNDS, HEADER_AUTHENTICATION_FAILED);
    }
    if (offset < l.piece0Length) {
      return EnumSet.of(HEADER_AUTHENTICATION_FAILED);
    }
    int record = l.recordAt(offset);
    boolean isFinal = record == l.recordCount() - 1;
    if (offset < l.recordStart[record] + 4) {
      // A data record's length may shrink to one that is in bounds; then its tag fails.
      return isFinal ? EnumSet.of(BAD_RECORD_LENGTH) : EnumSet.of(BAD_RECORD_LENGTH, BAD_CHUNK_TAG, TRUNCATED);
    }
    return EnumSet.of(BAD_CHUNK_TAG);
  }

  /** Header fields that are not keys: every one of the 255 possible changes is tried there. */
  static boolean exhaustiveField(long offset) {
    return offset < EnvelopeLayout.EPHEMERAL_KEY
        || (offset >= EnvelopeLayout.LOCATOR_LENGTH && offset < EnvelopeLayout.LOCATOR);
  }

  @ParameterizedTest
  @EnumSource(value = Sample.class)
  void everySingleByteChangeIsRejectedWithTheReasonOfItsRegion(Sample sample) throws IOException {
    Sealed s = SAMPLES.get(sample);
    EnvelopeLayout l = s.layout;
    int tried = 0;
    for (int offset = 0; offset < s.envelope.length; offset++) {
      int record = l.recordAt(offset);
      boolean recordBody = record >= 0 && offset >= l.recordStart[record] + 4;
      // Every value on the small non-key header fields; a low bit, a high bit and all bits elsewhere. In
      // ciphertext, where every change is just one more GCM tag check, one of the three per byte in turn.
      int[] cycle = {0x01, 0x80, 0xff};
      int[] masks = exhaustiveField(offset) ? range(1, 256)
          : recordBody ? new int[] {cycle[offset % 3]} : cycle;
      Set<Reason> allowed = allowed(l, offset);
      long writtenBefore = record < 0 ? 0 : s.plaintextBeforeRecord[record];
      for (int mask : masks) {
        byte[] t = s.envelope.clone();
        t[offset] ^= (byte) mask;
        String what = sample + " byte " + offset + " ^ 0x" + Integer.toHexString(mask);
        EnvelopeException e = openFails(s, t, writtenBefore, what);
        assertTrue(allowed.contains(e.reason()), () -> what + ": reason " + e.reason() + " not in " + allowed
            + " (" + e.getMessage() + ")");
        checkScanner(s, t, offset, what);
        tried++;
      }
    }
    assertTrue(tried > s.envelope.length);
  }

  /**
   * The holder's keyless scan: damage to the framing (prelude, lengths) is refused; damage anywhere else
   * passes the framing but changes the fingerprint, which is how a holder catches it.
   */
  private static void checkScanner(Sealed s, byte[] t, int offset, String what) throws IOException {
    EnvelopeLayout l = s.layout;
    int record = l.recordAt(offset);
    boolean framing = offset < EnvelopeLayout.EPHEMERAL_KEY
        || (offset >= EnvelopeLayout.LOCATOR_LENGTH && offset < l.macStart())
        || (record >= 0 && offset < l.recordStart[record] + 4);
    Fingerprint fp;
    try {
      fp = EnvelopeScanner.scan(channel(t));
    } catch (EnvelopeException e) {
      if (!framing && record >= 0) {
        throw new AssertionError(what + ": scanner refused a ciphertext change that keeps the framing", e);
      }
      return;
    }
    if (record >= 0 && framing) {
      fail(what + ": scanner accepted a damaged record length");
    }
    assertNotEquals(s.fingerprint, fp, what + ": scanner gave the original fingerprint");
  }

  private static int[] range(int from, int to) {
    int[] r = new int[to - from];
    for (int i = 0; i < r.length; i++) {
      r[i] = from + i;
    }
    return r;
  }

  @ParameterizedTest
  @EnumSource(value = Sample.class)
  void truncationAtEveryOffsetIsRejected(Sample sample) throws IOException {
    Sealed s = SAMPLES.get(sample);
    EnvelopeLayout l = s.layout;
    Set<Long> boundaries = new java.util.HashSet<>();
    for (long b : l.boundariesBeforeFinal()) {
      boundaries.add(b);
    }
    for (int cut = 0; cut < s.envelope.length; cut++) {
      byte[] t = Arrays.copyOf(s.envelope, cut);
      int record = l.recordAt(cut);
      // Chunks before the cut authenticate and are written; the cut one never is.
      long written = record < 0 ? 0 : s.plaintextBeforeRecord[record];
      Reason expected = boundaries.contains((long) cut) ? MISSING_FINAL_CHUNK : TRUNCATED;
      String what = sample + " cut at " + cut;
      EnvelopeException e = openFails(s, t, written, what);
      assertEquals(expected, e.reason(), () -> what + ": " + e.getMessage());
      EnvelopeException scan = assertThrows(EnvelopeException.class, () -> EnvelopeScanner.scan(channel(t)), what);
      assertEquals(expected, scan.reason(), () -> what + " (scanner): " + scan.getMessage());
    }
  }

  @ParameterizedTest
  @EnumSource(value = Sample.class)
  void appendedBytesAreTrailingData(Sample sample) throws IOException {
    Sealed s = SAMPLES.get(sample);
    EnvelopeLayout l = s.layout;
    byte[][] tails = {
        {0}, new byte[100], l.record(s.envelope, l.recordCount() - 1), l.record(s.envelope, 0), s.envelope};
    for (byte[] tail : tails) {
      byte[] t = EnvelopeLayout.concat(s.envelope, tail);
      String what = sample + " + " + tail.length + " bytes";
      assertEquals(TRAILING_DATA, openFails(s, t, s.plaintext.length, what).reason(), what);
      assertEquals(TRAILING_DATA,
          assertThrows(EnvelopeException.class, () -> EnvelopeScanner.scan(channel(t)), what).reason(), what);
    }
  }

  @ParameterizedTest
  @EnumSource(value = Sample.class, names = {"RAW", "LZ4", "RELAY"})
  void reorderedAndDuplicatedChunksAreRejected(Sample sample) throws IOException {
    Sealed s = SAMPLES.get(sample);
    EnvelopeLayout l = s.layout;
    byte[] e = s.envelope;
    byte[] header = l.piece0(e);
    byte[][] r = new byte[l.recordCount()][];
    for (int i = 0; i < r.length; i++) {
      r[i] = l.record(e, i);
    }
    int fin = r.length - 1;
    // Swap data records 0 and 1.
    byte[] swapped01 = EnvelopeLayout.concat(header, r[1], r[0], join(r, 2, r.length));
    assertRejectedAtRecord(s, swapped01, 0, "records 1,0,...");
    if (fin >= 3) {
      byte[] swapped12 = EnvelopeLayout.concat(header, r[0], r[2], r[1], join(r, 3, r.length));
      assertRejectedAtRecord(s, swapped12, 1, "records 0,2,1,...");
    }
    // Record 1 replaced by a copy of record 0 (same length when both are full raw chunks).
    byte[] dupReplace = EnvelopeLayout.concat(header, r[0], r[0], join(r, 2, r.length));
    assertRejectedAtRecord(s, dupReplace, 1, "records 0,0,2,...");
    // Record 0 inserted twice: longer than the header says.
    byte[] dupInsert = EnvelopeLayout.concat(header, r[0], join(r, 0, r.length));
    assertRejectedAtRecord(s, dupInsert, 1, "records 0,0,1,...");
    // The final record moved before the last data record.
    byte[] finalFirst = EnvelopeLayout.concat(header, join(r, 0, fin - 1), r[fin], r[fin - 1]);
    EnvelopeException x = openFails(s, finalFirst, s.plaintextBeforeRecord[fin - 1], "final moved earlier");
    assertTrue(EnumSet.of(BAD_CHUNK_TAG, BAD_RECORD_LENGTH).contains(x.reason()), x.getMessage());
    // The final record dropped and a data record repeated in its place.
    byte[] noFinal = EnvelopeLayout.concat(header, join(r, 0, fin), r[fin - 1]);
    x = openFails(s, noFinal, s.plaintextBeforeRecord[fin], "final replaced by a data record");
    assertTrue(EnumSet.of(BAD_RECORD_LENGTH, BAD_CHUNK_TAG, MISSING_FINAL_CHUNK).contains(x.reason()),
        x.getMessage());
  }

  private static void assertRejectedAtRecord(Sealed s, byte[] t, int record, String what) {
    EnvelopeException e = openFails(s, t, s.plaintextBeforeRecord[record], s + " " + what);
    // Equal-length records fail their tag; a record of another length may first break the framing.
    assertTrue(EnumSet.of(BAD_CHUNK_TAG, BAD_RECORD_LENGTH).contains(e.reason()), () -> what + ": " + e.getMessage());
  }

  private static byte[] join(byte[][] records, int from, int to) {
    return EnvelopeLayout.concat(Arrays.copyOfRange(records, from, to));
  }

  @Test
  void rawRecordsOfEqualLengthFailTheirTagWhenMoved() throws IOException {
    Sealed s = SAMPLES.get(Sample.RAW);
    EnvelopeLayout l = s.layout;
    byte[] h = l.piece0(s.envelope);
    byte[] swapped = EnvelopeLayout.concat(h, l.record(s.envelope, 1), l.record(s.envelope, 0),
        Arrays.copyOfRange(s.envelope, (int) l.recordStart[2], s.envelope.length));
    assertEquals(BAD_CHUNK_TAG, openFails(s, swapped, 0, "swap").reason());
    byte[] dup = EnvelopeLayout.concat(h, l.record(s.envelope, 0), l.record(s.envelope, 0),
        Arrays.copyOfRange(s.envelope, (int) l.recordStart[2], s.envelope.length));
    assertEquals(BAD_CHUNK_TAG, openFails(s, dup, CHUNK, "duplicate").reason());
    // The keyless scanner cannot see this, but the fingerprint differs.
    assertNotEquals(s.fingerprint, EnvelopeScanner.scan(channel(swapped)));
    assertNotEquals(s.fingerprint, EnvelopeScanner.scan(channel(dup)));
  }

  @Test
  void headersSwappedBetweenTwoEnvelopesToTheSameDestinationAreRejected() throws IOException {
    byte[] plaintext = TestEnvelopes.plaintext(21, 2 * CHUNK + 5, false);
    SealRequest request = TestEnvelopes.request(DEST, SOURCE).chunkSizeBytes(CHUNK).build();
    byte[] a;
    byte[] b;
    try (StreamingSealer sa = TestEnvelopes.deterministicSealer(100, 1);
        StreamingSealer sb = TestEnvelopes.deterministicSealer(101, 1)) {
      a = TestEnvelopes.seal(sa, request, plaintext);
      b = TestEnvelopes.seal(sb, request, plaintext);
    }
    assertEquals(a.length, b.length);
    EnvelopeLayout la = EnvelopeLayout.of(a);
    Sealed sa = new Sealed(a, DEST, plaintext, EnvelopeScanner.scan(channel(a)));
    byte[] headerAbodyB = EnvelopeLayout.concat(la.piece0(a), Arrays.copyOfRange(b, la.piece0Length, b.length));
    byte[] headerBbodyA = EnvelopeLayout.concat(la.piece0(b), Arrays.copyOfRange(a, la.piece0Length, a.length));
    assertEquals(BAD_CHUNK_TAG, openFails(sa, headerAbodyB, 0, "header A + records B").reason());
    assertEquals(BAD_CHUNK_TAG, openFails(sa, headerBbodyA, 0, "header B + records A").reason());
    // Also when the header is swapped with one of another length (other locator length is not needed:
    // another plaintext length gives another envelope length).
    byte[] c;
    try (StreamingSealer sc = TestEnvelopes.deterministicSealer(102, 1)) {
      c = TestEnvelopes.seal(sc, request, Arrays.copyOf(plaintext, CHUNK + 7));
    }
    byte[] headerCbodyA = EnvelopeLayout.concat(la.piece0(c), Arrays.copyOfRange(a, la.piece0Length, a.length));
    EnvelopeException e = openFails(sa, headerCbodyA, 0, "header C + records A");
    assertTrue(EnumSet.of(BAD_CHUNK_TAG, BAD_RECORD_LENGTH).contains(e.reason()), e.getMessage());
  }

  @Test
  void anEnvelopeForAnotherKeyIsNotForThisKey() throws IOException {
    Sealed s = SAMPLES.get(Sample.RAW);
    Sealed asOther = new Sealed(s.envelope, OTHER, s.plaintext, s.fingerprint);
    assertEquals(NOT_FOR_THIS_KEY, openFails(asOther, s.envelope, 0, "opened by another key").reason());
    // A relay envelope is not for the final destination, and the reverse.
    Sealed relayed = SAMPLES.get(Sample.RELAY);
    assertEquals(NOT_FOR_THIS_KEY,
        openFails(new Sealed(relayed.envelope, DEST, relayed.plaintext, relayed.fingerprint), relayed.envelope, 0,
            "relay envelope opened by the destination").reason());
    assertEquals(NOT_FOR_THIS_KEY,
        openFails(new Sealed(s.envelope, RELAY, s.plaintext, s.fingerprint), s.envelope, 0,
            "direct envelope opened by the relay").reason());
  }

  @Test
  void aKeyPairWithTheRightReceiptKeyButAnotherAgreementKeyFailsTheHeaderMac() throws IOException {
    Sealed s = SAMPLES.get(Sample.RAW);
    SecretAccess a = SecretAccess.explicitly();
    DestinationKeyPair mixed = new DestinationKeyPair(
        new DestinationCard(DEST.card().locator(), OTHER.card().agreementKey(), DEST.card().receiptKey()),
        OTHER.agreementPrivateKey(a), DEST.receiptSigningSeed(a));
    assertEquals(HEADER_AUTHENTICATION_FAILED,
        openFails(new Sealed(s.envelope, mixed, s.plaintext, s.fingerprint), s.envelope, 0, "mixed keys").reason());
  }

  @ParameterizedTest
  @EnumSource(value = Sample.class)
  void anExpectedFingerprintIsEnforced(Sample sample) throws IOException {
    Sealed s = SAMPLES.get(sample);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    OpenResult ok = new StreamingOpener(s.opener).open(channel(s.envelope), Channels.newChannel(out), s.fingerprint);
    assertEquals(s.fingerprint, ok.fingerprint());
    assertArrayEquals(s.plaintext, out.toByteArray());
    ByteArrayOutputStream parallelOut = new ByteArrayOutputStream();
    OpenResult parallel = parallelOpener(s.opener, 3).open(channel(s.envelope), Channels.newChannel(parallelOut),
        s.fingerprint);
    assertEquals(ok.fingerprint(), parallel.fingerprint());
    assertEquals(ok.metadata(), parallel.metadata());
    assertArrayEquals(ok.plaintextSha256(), parallel.plaintextSha256());
    assertArrayEquals(s.plaintext, parallelOut.toByteArray());

    byte[] other = s.fingerprint.toBytes();
    other[31] ^= 1;
    EnvelopeException e = assertThrows(EnvelopeException.class, () -> new StreamingOpener(s.opener)
        .open(channel(s.envelope), Channels.newChannel(new ByteArrayOutputStream()), Fingerprint.of(other)));
    assertEquals(FINGERPRINT_MISMATCH, e.reason());
  }

  @Test
  void theOpenerNeverWritesPlaintextOfAChunkThatFailedAuthentication() throws IOException {
    for (Sample sample : new Sample[] {Sample.RAW, Sample.LZ4, Sample.RELAY}) {
      Sealed s = SAMPLES.get(sample);
      EnvelopeLayout l = s.layout;
      for (int record = 0; record < l.dataRecordCount(); record++) {
        // Damage the last byte of the tag and the first byte of the ciphertext.
        for (long offset : new long[] {l.recordStart[record] + 4, l.recordStart[record] + l.recordLength[record] - 1}) {
          byte[] t = s.envelope.clone();
          t[(int) offset] ^= 0x55;
          EnvelopeException e = openFails(s, t, s.plaintextBeforeRecord[record],
              sample + " record " + record + " offset " + offset);
          assertEquals(BAD_CHUNK_TAG, e.reason());
        }
      }
    }
  }

  @Test
  void theScannerRejectsFramingDamage() throws IOException {
    Sealed s = SAMPLES.get(Sample.RAW);
    EnvelopeLayout l = s.layout;
    assertEquals(s.fingerprint, EnvelopeScanner.scan(channel(s.envelope)));
    long[] badLengths = {0, 1, 17, 1 + CHUNK + 16 + 1, 0xFFFF_FFFFL, 0x8000_0000L};
    for (int record = 0; record < l.recordCount(); record++) {
      for (long bad : badLengths) {
        byte[] t = s.envelope.clone();
        int at = (int) l.recordStart[record];
        t[at] = (byte) (bad >>> 24);
        t[at + 1] = (byte) (bad >>> 16);
        t[at + 2] = (byte) (bad >>> 8);
        t[at + 3] = (byte) bad;
        String what = "record " + record + " length " + bad;
        EnvelopeException e = assertThrows(EnvelopeException.class, () -> EnvelopeScanner.scan(channel(t)), what);
        assertEquals(BAD_RECORD_LENGTH, e.reason(), what + ": " + e.getMessage());
        assertEquals(BAD_RECORD_LENGTH, openFails(s, t, s.plaintextBeforeRecord[record], what).reason(), what);
      }
    }
    // A data record one byte longer than the largest a 4 KiB chunk allows.
    byte[] t = s.envelope.clone();
    int over = 1 + CHUNK + 16 + 1;
    t[(int) l.recordStart[0] + 2] = (byte) (over >>> 8);
    t[(int) l.recordStart[0] + 3] = (byte) over;
    assertEquals(BAD_RECORD_LENGTH,
        assertThrows(EnvelopeException.class, () -> EnvelopeScanner.scan(channel(t))).reason());
  }
}
