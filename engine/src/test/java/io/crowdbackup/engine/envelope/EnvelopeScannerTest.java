package io.crowdbackup.engine.envelope;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SigningKeyPair;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The holder's keyless scanner: the fingerprint does not depend on how the bytes are sliced, the pieces it
 * reports are exactly the envelope's, and a scan resumed from any piece boundary with the recorded digests
 * gives the same fingerprint without seeing the earlier bytes.
 */
class EnvelopeScannerTest {
  static final int CHUNK = 4096;
  static final DestinationKeyPair DEST = TestEnvelopes.destination(1, "https://home.example/inbox");
  static final SigningKeyPair SOURCE = TestEnvelopes.source(3);

  static byte[] envelope;
  static Fingerprint sealedFingerprint;
  static EnvelopeLayout layout;

  @BeforeAll
  static void seal() throws IOException {
    SealRequest request = TestEnvelopes.request(DEST, SOURCE).chunkSizeBytes(CHUNK).build();
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(31, 1)) {
      TestEnvelopes.Sealed s = TestEnvelopes.sealWithResult(sealer, request,
          TestEnvelopes.plaintext(31, 5 * CHUNK + 333, false));
      envelope = s.bytes;
      sealedFingerprint = s.result.fingerprint();
    }
    layout = EnvelopeLayout.of(envelope);
  }

  /** Fingerprint per the spec, from the layout: SHA-256 over the SHA-256 of every piece. */
  static Fingerprint specFingerprint(byte[] e, EnvelopeLayout l) throws Exception {
    MessageDigest outer = MessageDigest.getInstance("SHA-256");
    outer.update(MessageDigest.getInstance("SHA-256").digest(l.piece0(e)));
    for (int i = 0; i < l.recordCount(); i++) {
      outer.update(MessageDigest.getInstance("SHA-256").digest(l.record(e, i)));
    }
    return Fingerprint.of(outer.digest());
  }

  @Test
  void fingerprintMatchesTheSpecAndTheSealer() throws Exception {
    assertEquals(specFingerprint(envelope, layout), sealedFingerprint);
    assertEquals(sealedFingerprint, EnvelopeScanner.scan(Channels.newChannel(new ByteArrayInputStream(envelope))));
  }

  @ParameterizedTest(name = "slices of {0} bytes")
  @ValueSource(ints = {1, 2, 3, 7, 31, 237, 238, 239, 4117, 4118, 65536})
  void fixedSliceSizesGiveTheSameFingerprint(int slice) throws IOException {
    EnvelopeScanner s = new EnvelopeScanner();
    for (int off = 0; off < envelope.length; off += slice) {
      s.update(envelope, off, Math.min(slice, envelope.length - off));
    }
    assertEquals(sealedFingerprint, s.finish());
    assertEquals(envelope.length, s.position());
  }

  @Test
  void randomSliceSizesAndBufferKindsGiveTheSameFingerprint() throws IOException {
    SplittableRandom random = new SplittableRandom(5);
    for (int round = 0; round < 50; round++) {
      EnvelopeScanner s = new EnvelopeScanner();
      int off = 0;
      while (off < envelope.length) {
        int n = Math.min(envelope.length - off, random.nextInt(1, round % 2 == 0 ? 16 : 9000));
        ByteBuffer b;
        switch (random.nextInt(3)) {
          case 0:
            b = ByteBuffer.wrap(envelope, off, n);
            break;
          case 1:
            b = ByteBuffer.allocateDirect(n).put(envelope, off, n).flip();
            break;
          default:
            // A heap buffer whose array offset is not zero.
            byte[] padded = new byte[n + 10];
            System.arraycopy(envelope, off, padded, 10, n);
            b = ByteBuffer.wrap(padded).position(10).slice();
        }
        s.update(b);
        assertFalse(b.hasRemaining(), "update consumes the whole buffer");
        off += n;
      }
      assertEquals(sealedFingerprint, s.finish(), "round " + round);
    }
  }

  @Test
  void emptyUpdatesChangeNothing() throws IOException {
    EnvelopeScanner s = new EnvelopeScanner();
    s.update(new byte[0], 0, 0);
    for (int i = 0; i < envelope.length; i++) {
      s.update(envelope, i, 1);
      s.update(ByteBuffer.allocate(0));
    }
    assertEquals(sealedFingerprint, s.finish());
  }

  /** One reported piece. */
  static final class Piece {
    final long index;
    final long offset;
    final int length;
    final byte[] digest;

    Piece(long index, long offset, int length, byte[] digest) {
      this.index = index;
      this.offset = offset;
      this.length = length;
      this.digest = digest.clone();
    }
  }

  static List<Piece> scanPieces(byte[] e, int slice) throws IOException {
    List<Piece> pieces = new ArrayList<>();
    EnvelopeScanner s = new EnvelopeScanner((i, o, l, d) -> pieces.add(new Piece(i, o, l, d)));
    for (int off = 0; off < e.length; off += slice) {
      s.update(e, off, Math.min(slice, e.length - off));
    }
    s.finish();
    return pieces;
  }

  @ParameterizedTest(name = "slices of {0} bytes")
  @ValueSource(ints = {1, 13, 4096, 1 << 20})
  void piecesAreContiguousAndTheirDigestsAreTheBytes(int slice) throws Exception {
    List<Piece> pieces = scanPieces(envelope, slice);
    assertEquals(layout.recordCount() + 1, pieces.size(), "header, data records, final record");
    long expectedOffset = 0;
    MessageDigest outer = MessageDigest.getInstance("SHA-256");
    for (int i = 0; i < pieces.size(); i++) {
      Piece p = pieces.get(i);
      assertEquals(i, p.index);
      assertEquals(expectedOffset, p.offset, "piece " + i + " starts where the previous ended");
      int expectedLength = i == 0 ? layout.piece0Length : layout.recordLength[i - 1];
      assertEquals(expectedLength, p.length, "piece " + i + " length");
      byte[] bytes = Arrays.copyOfRange(envelope, (int) p.offset, (int) p.offset + p.length);
      assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(bytes), p.digest, "piece " + i + " digest");
      outer.update(p.digest);
      expectedOffset += p.length;
    }
    assertEquals(envelope.length, expectedOffset);
    assertEquals(sealedFingerprint, Fingerprint.of(outer.digest()));
  }

  @Test
  void atPieceBoundaryIsTrueExactlyAtPieceBoundaries() throws IOException {
    java.util.Set<Long> boundaries = new java.util.HashSet<>();
    boundaries.add((long) layout.piece0Length);
    for (int i = 0; i < layout.recordCount(); i++) {
      boundaries.add(layout.recordStart[i] + layout.recordLength[i]);
    }
    EnvelopeScanner s = new EnvelopeScanner();
    assertFalse(s.atPieceBoundary(), "no header yet");
    assertNull(s.header());
    for (int i = 0; i < envelope.length; i++) {
      s.update(envelope, i, 1);
      long pos = i + 1;
      assertEquals(boundaries.contains(pos), s.atPieceBoundary(), "at offset " + pos);
      if (pos >= layout.piece0Length) {
        assertArrayEquals(layout.piece0(envelope), s.piece0());
        assertEquals(envelope.length, s.header().envelopeLengthBytes());
      } else {
        assertThrows(IllegalStateException.class, s::piece0);
      }
    }
  }

  @Test
  void resumingFromEveryPieceBoundaryGivesTheSameFingerprint() throws IOException {
    List<Piece> pieces = scanPieces(envelope, 4096);
    byte[] piece0 = layout.piece0(envelope);
    // Resume after piece 0 and after each record, up to and including the end.
    for (int recordsDone = 0; recordsDone <= layout.recordCount(); recordsDone++) {
      ByteArrayOutputStream digests = new ByteArrayOutputStream();
      for (int r = 0; r < recordsDone; r++) {
        digests.writeBytes(pieces.get(r + 1).digest);
      }
      long offset = recordsDone == 0 ? piece0.length : pieces.get(recordsDone).offset + pieces.get(recordsDone).length;
      List<Piece> later = new ArrayList<>();
      EnvelopeScanner s = EnvelopeScanner.resume(piece0, digests.toByteArray(), recordsDone, offset,
          (i, o, l, d) -> later.add(new Piece(i, o, l, d)));
      assertTrue(s.atPieceBoundary(), "resumed at a boundary");
      assertEquals(offset, s.position());
      // Only the bytes after the boundary, in odd slices.
      for (long off = offset; off < envelope.length; off += 1001) {
        s.update(envelope, (int) off, (int) Math.min(1001, envelope.length - off));
      }
      assertEquals(sealedFingerprint, s.finish(), "resumed after " + recordsDone + " records");
      assertEquals(pieces.size() - 1 - recordsDone, later.size(), "pieces reported after resuming");
      for (Piece p : later) {
        Piece original = pieces.get((int) p.index);
        assertEquals(original.offset, p.offset);
        assertEquals(original.length, p.length);
        assertArrayEquals(original.digest, p.digest);
      }
    }
  }

  @Test
  void resumingWithAWrongDigestGivesAnotherFingerprint() throws IOException {
    List<Piece> pieces = scanPieces(envelope, 4096);
    byte[] digests = EnvelopeLayout.concat(pieces.get(1).digest, pieces.get(2).digest);
    digests[40] ^= 1;
    EnvelopeScanner s = EnvelopeScanner.resume(layout.piece0(envelope), digests, 2, layout.recordStart[2], null);
    s.update(envelope, (int) layout.recordStart[2], envelope.length - (int) layout.recordStart[2]);
    assertNotEquals(sealedFingerprint, s.finish());
  }

  @Test
  void resumeRefusesInconsistentArguments() throws IOException {
    byte[] piece0 = layout.piece0(envelope);
    assertThrows(IllegalArgumentException.class, () -> EnvelopeScanner.resume(piece0, new byte[31], 1,
        layout.recordStart[1], null));
    assertThrows(IllegalArgumentException.class, () -> EnvelopeScanner.resume(piece0, new byte[0], 0,
        piece0.length - 1, null));
    assertThrows(IllegalArgumentException.class, () -> EnvelopeScanner.resume(piece0, new byte[0], 0,
        envelope.length + 1L, null));
    byte[] badHeader = piece0.clone();
    badHeader[0] ^= 1;
    EnvelopeException e = assertThrows(EnvelopeException.class,
        () -> EnvelopeScanner.resume(badHeader, new byte[0], 0, piece0.length, null));
    assertEquals(EnvelopeException.Reason.BAD_MAGIC, e.reason());
  }

  @Test
  void aResumedScanStillRejectsTrailingDataAndTruncation() throws IOException {
    List<Piece> pieces = scanPieces(envelope, 4096);
    byte[] piece0 = layout.piece0(envelope);
    byte[] d = pieces.get(1).digest;
    EnvelopeScanner s = EnvelopeScanner.resume(piece0, d, 1, layout.recordStart[1], null);
    s.update(envelope, (int) layout.recordStart[1], envelope.length - (int) layout.recordStart[1]);
    assertEquals(EnvelopeException.Reason.TRAILING_DATA,
        assertThrows(EnvelopeException.class, () -> s.update(new byte[1], 0, 1)).reason());

    EnvelopeScanner cut = EnvelopeScanner.resume(piece0, d, 1, layout.recordStart[1], null);
    cut.update(envelope, (int) layout.recordStart[1], 10);
    assertEquals(EnvelopeException.Reason.TRUNCATED, assertThrows(EnvelopeException.class, cut::finish).reason());
  }
}
