package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeException.Reason;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.EnvelopeScan;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.security.DigestException;
import java.security.MessageDigest;

/**
 * The holder's keyless check of an envelope as its bytes arrive: header bounds, record framing, length,
 * and the fingerprint. A push parser: {@link #update} takes bytes in any slices, {@link #finish} says
 * whether what arrived is one complete envelope and returns its fingerprint. Memory: piece 0 (at most
 * {@link HeaderCodec#MAX_PIECE0_BYTES}) and a few counters, whatever the envelope's size; no allocation
 * depends on a length read from the stream.
 *
 * <p>It cannot check chunk tags (that needs the destination's key): an envelope whose framing is intact
 * but whose ciphertext was altered passes here with a different fingerprint, which is why a holder always
 * compares the result with the fingerprint it was offered.
 */
public final class EnvelopeScanner implements EnvelopeScan {
  /** Told of each piece as it completes: what a resumable upload persists. */
  public interface PieceListener {
    /**
     * @param index 0 for the header, i for record i - 1
     * @param offset envelope offset of the piece's first byte
     * @param length piece length in bytes
     * @param digest the piece's SHA-256 (valid only during the call)
     */
    void onPiece(long index, long offset, int length, byte[] digest) throws IOException;
  }

  private static final PieceListener IGNORE = (i, o, l, d) -> { };

  private final PieceListener listener;
  private final FingerprintAccumulator fingerprint = new FingerprintAccumulator();
  private final MessageDigest pieceDigest = FingerprintAccumulator.Sha256.newDigest();
  private final byte[] digest = new byte[32];
  private final byte[] lengthField = new byte[RECORD_LENGTH_FIELD_BYTES];

  private byte[] piece0 = new byte[PRELUDE_BYTES + HEADER_LENGTH_FIELD_BYTES];
  private int piece0Filled;
  private EnvelopeHeader header;
  private long position;
  private long pieceIndex;
  private long pieceStart;
  private int lengthFilled;
  private long recordRemaining;
  private int recordLength;
  private long finalStart;
  private int maxCiphertext;

  public EnvelopeScanner() {
    this(IGNORE);
  }

  public EnvelopeScanner(PieceListener listener) {
    this.listener = listener == null ? IGNORE : listener;
  }

  /**
   * Carries on a scan that stopped at a piece boundary, given the header bytes and the digests of every
   * piece after piece 0 so far (replayed, not recomputed: nothing stored is re-read).
   *
   * @param piece0 the envelope's first piece, exactly
   * @param recordDigests digests of records 0..n-1, 32 bytes each, concatenated
   * @param recordCount n
   * @param offset the envelope offset where record n starts
   */
  public static EnvelopeScanner resume(byte[] piece0, byte[] recordDigests, long recordCount, long offset,
      PieceListener listener) throws IOException {
    // Compare without multiplying: recordCount comes from disk and recordCount * 32 can overflow.
    if (recordCount < 0 || recordDigests.length % 32 != 0 || recordDigests.length / 32 != recordCount) {
      throw new IllegalArgumentException(
          "recordDigests holds " + recordDigests.length + " bytes, expected 32 for each of " + recordCount
              + " records");
    }
    EnvelopeScanner s = new EnvelopeScanner(listener);
    s.header = HeaderCodec.decode(piece0);
    s.piece0 = piece0.clone();
    s.piece0Filled = piece0.length;
    s.fingerprint.addPieceDigest(FingerprintAccumulator.Sha256.newDigest().digest(piece0));
    for (long i = 0; i < recordCount; i++) {
      s.fingerprint.addPieceDigest(recordDigests, (int) (i * 32));
    }
    s.afterHeader();
    if (offset < piece0.length || offset > s.finalStart + FINAL_RECORD_BYTES) {
      throw new IllegalArgumentException("resume offset " + offset + " lies outside the envelope's records");
    }
    s.position = offset;
    s.pieceStart = offset;
    s.pieceIndex = recordCount + 1;
    return s;
  }

  /** Scans a whole envelope from a channel; the channel must end where the envelope does. */
  public static Fingerprint scan(ReadableByteChannel in) throws IOException {
    EnvelopeScanner s = new EnvelopeScanner();
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    while (in.read(buf) >= 0) {
      ((Buffer) buf).flip();
      s.update(buf);
      ((Buffer) buf).clear();
    }
    return s.finish();
  }

  /** The header, once its bytes have arrived; {@code null} before. */
  @Override
  public EnvelopeHeader header() {
    return header;
  }

  /** Bytes consumed so far. */
  @Override
  public long position() {
    return position;
  }

  /** Whether the scanner is at a piece boundary (a safe point to persist and resume from). */
  public boolean atPieceBoundary() {
    return header != null && position == pieceStart && lengthFilled == 0;
  }

  /** A copy of piece 0, once complete. */
  public byte[] piece0() {
    if (header == null) {
      throw new IllegalStateException("header not complete yet");
    }
    return piece0.clone();
  }

  /** Consumes all of {@code src}. */
  @Override
  public void update(ByteBuffer src) throws IOException {
    while (src.hasRemaining()) {
      if (header == null) {
        readHeaderBytes(src);
      } else if (position >= finalStart + FINAL_RECORD_BYTES) {
        throw new EnvelopeException(Reason.TRAILING_DATA,
            "bytes follow the final chunk at offset " + header.envelopeLengthBytes());
      } else if (recordRemaining == 0) {
        readLengthBytes(src);
      } else {
        int n = (int) Math.min(recordRemaining, src.remaining());
        ByteBuffer slice = src.duplicate();
        ((Buffer) slice).limit(slice.position() + n);
        pieceDigest.update(slice);
        ((Buffer) src).position(src.position() + n);
        position += n;
        recordRemaining -= n;
        if (recordRemaining == 0) {
          completePiece(RECORD_LENGTH_FIELD_BYTES + recordLength);
        }
      }
    }
  }

  public void update(byte[] b, int off, int len) throws IOException {
    update(ByteBuffer.wrap(b, off, len));
  }

  private void readHeaderBytes(ByteBuffer src) throws IOException {
    int n = Math.min(src.remaining(), piece0.length - piece0Filled);
    src.get(piece0, piece0Filled, n);
    piece0Filled += n;
    position += n;
    if (piece0.length == PRELUDE_BYTES + HEADER_LENGTH_FIELD_BYTES) {
      HeaderCodec.checkPrelude(piece0, piece0Filled);
      if (piece0Filled == piece0.length) {
        int body = HeaderCodec.checkHeaderLength(piece0);
        piece0 = java.util.Arrays.copyOf(piece0, piece0.length + body + HEADER_MAC_BYTES);
      }
    } else if (piece0Filled == piece0.length) {
      header = HeaderCodec.decode(piece0);
      pieceDigest.update(piece0);
      afterHeader();
      completePiece(piece0.length);
    }
  }

  private void afterHeader() {
    finalStart = header.envelopeLengthBytes() - FINAL_RECORD_BYTES;
    maxCiphertext = maxDataCiphertextBytes(header.chunkSizeBytes());
  }

  private void readLengthBytes(ByteBuffer src) throws IOException {
    while (lengthFilled < RECORD_LENGTH_FIELD_BYTES && src.hasRemaining()) {
      lengthField[lengthFilled++] = src.get();
      position++;
    }
    if (lengthFilled < RECORD_LENGTH_FIELD_BYTES) {
      return;
    }
    lengthFilled = 0;
    int ct = ((lengthField[0] & 0xff) << 24) | ((lengthField[1] & 0xff) << 16) | ((lengthField[2] & 0xff) << 8)
        | (lengthField[3] & 0xff);
    long start = position - RECORD_LENGTH_FIELD_BYTES;
    if (start == finalStart) {
      if (ct != FINAL_RECORD_CIPHERTEXT_BYTES) {
        throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "final record at offset " + start + " declares "
            + ct + " bytes, expected " + FINAL_RECORD_CIPHERTEXT_BYTES);
      }
    } else {
      if (ct < MIN_DATA_CIPHERTEXT_BYTES || ct > maxCiphertext
          || start + RECORD_LENGTH_FIELD_BYTES + (long) ct > finalStart) {
        throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "record " + (pieceIndex - 1) + " at offset " + start
            + " declares " + ct + " bytes; allowed " + MIN_DATA_CIPHERTEXT_BYTES + ".."
            + Math.min(maxCiphertext, finalStart - start - RECORD_LENGTH_FIELD_BYTES));
      }
      // Data counters run 0..2^32 - 2 so that the final chunk's counter still fits in 32 bits.
      if (pieceIndex - 1 >= 0xFFFF_FFFFL) {
        throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "more than 2^32 - 1 data chunks");
      }
    }
    recordLength = ct;
    recordRemaining = ct;
    pieceDigest.update(lengthField);
  }

  private void completePiece(int length) throws IOException {
    try {
      pieceDigest.digest(digest, 0, 32);
    } catch (DigestException e) {
      throw new IllegalStateException(e);
    }
    fingerprint.addPieceDigest(digest);
    listener.onPiece(pieceIndex, pieceStart, length, digest);
    pieceIndex++;
    pieceStart += length;
  }

  /**
   * Checks that a complete envelope arrived and returns its fingerprint.
   *
   * @throws EnvelopeException {@link Reason#TRUNCATED} or {@link Reason#MISSING_FINAL_CHUNK} if it did not
   */
  @Override
  public Fingerprint finish() throws EnvelopeException {
    if (header == null) {
      if (piece0Filled > 0 || piece0.length > PRELUDE_BYTES + HEADER_LENGTH_FIELD_BYTES) {
        throw new EnvelopeException(Reason.TRUNCATED, "stream ended after " + position + " bytes, inside the header");
      }
      throw new EnvelopeException(Reason.TRUNCATED, "stream is empty");
    }
    long end = finalStart + FINAL_RECORD_BYTES;
    if (position == end) {
      return fingerprint.finish();
    }
    if (recordRemaining == 0 && lengthFilled == 0) {
      throw new EnvelopeException(Reason.MISSING_FINAL_CHUNK, "stream ended at offset " + position
          + ", a chunk boundary before the final chunk (the header declares " + end + " bytes)");
    }
    throw new EnvelopeException(Reason.TRUNCATED, "stream ended at offset " + position
        + " inside a record (the header declares " + end + " bytes)");
  }
}
