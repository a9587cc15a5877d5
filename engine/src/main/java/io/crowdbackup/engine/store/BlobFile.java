package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreFormat.*;

import io.crowdbackup.engine.store.StoreFormat.FormatProblem;
import io.crowdbackup.engine.store.StoreFormat.RecordHeader;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * A committed blob file: record header, envelope bytes, footer (piece table, effective expiry, locator,
 * trailer). {@link #read} checks everything but the envelope bytes: both checksums, that the piece lengths
 * add up to the envelope length, and that the piece digests hash to the fingerprint in the header. That
 * makes the footer trustworthy for serving: each piece is then checked against its digest as it is read.
 */
final class BlobFile {
  /** Largest piece a v1 envelope can have: a record of a 4 MiB chunk (length, encoding, chunk, tag). */
  static final int MAX_PIECE_BYTES = 4 + 1 + (1 << 22) + 16;

  final RecordHeader header;
  final long pieceCount;
  final long expiresAtEpochSecond;
  final String locator;
  final long fileLengthBytes;

  private BlobFile(RecordHeader header, long pieceCount, long expiresAtEpochSecond, String locator,
      long fileLengthBytes) {
    this.header = header;
    this.pieceCount = pieceCount;
    this.expiresAtEpochSecond = expiresAtEpochSecond;
    this.locator = locator;
    this.fileLengthBytes = fileLengthBytes;
  }

  /** File offset of the envelope's first byte. */
  long dataStart() {
    return header.encodedLength;
  }

  /** File offset of the footer's piece table. */
  long pieceTableStart() {
    return header.encodedLength + header.declaredLengthBytes + 8;
  }

  static RecordHeader readHeader(FileChannel ch, byte[] magic) throws IOException, FormatProblem {
    long size = ch.size();
    ByteBuffer hb = ByteBuffer.allocate((int) Math.min(size, MAX_HEADER_BYTES));
    StoreIo.readFully(ch, hb, 0);
    return RecordHeader.decode(magic, hb.array(), hb.position());
  }

  static BlobFile read(FileChannel ch) throws IOException, FormatProblem {
    long size = ch.size();
    RecordHeader h = readHeader(ch, BLOB_MAGIC);
    long footerStart = h.encodedLength + h.declaredLengthBytes;
    if (size < footerStart + 8 + FOOTER_TRAILER_BYTES) {
      throw new FormatProblem(false, "file is " + size + " bytes, expected more than " + (footerStart + 24)
          + " for a " + h.declaredLengthBytes + "-byte envelope (truncated?)");
    }
    ByteBuffer trailer = ByteBuffer.allocate(FOOTER_TRAILER_BYTES);
    StoreIo.readFully(ch, trailer, size - FOOTER_TRAILER_BYTES);
    byte[] t = trailer.array();
    if (!Arrays.equals(Arrays.copyOfRange(t, 8, 16), FOOTER_MAGIC)) {
      throw new FormatProblem(false, "misplaced footer (file truncated or torn?)");
    }
    long footerLength = getU32(t, 0) & 0xffff_ffffL;
    if (footerStart + footerLength != size) {
      throw new FormatProblem(false, "footer length " + footerLength + " does not end the file: header says the "
          + "envelope is " + h.declaredLengthBytes + " bytes, file is " + size + " bytes (truncated?)");
    }
    // One pass over the footer: CRC of its bytes, SHA-256 of the digests, sum of the piece lengths.
    CRC32 crc = new CRC32();
    MessageDigest outer = sha256();
    ByteBuffer buf = ByteBuffer.allocate(64 * 36);
    ByteBuffer countBuf = ByteBuffer.allocate(8);
    StoreIo.readFully(ch, countBuf, footerStart);
    crc.update(countBuf.array(), 0, 8);
    long pieceCount = countBuf.getLong(0);
    long tableBytes = footerLength - 8 - 8 - 2 - FOOTER_TRAILER_BYTES;
    if (pieceCount < 2 || tableBytes < pieceCount * FOOTER_PIECE_BYTES
        || pieceCount > h.declaredLengthBytes / 20 + 2) {
      throw new FormatProblem(false, "piece count " + pieceCount + " does not fit the footer");
    }
    long pos = footerStart + 8;
    long lengthSum = 0;
    long remainingPieces = pieceCount;
    while (remainingPieces > 0) {
      int n = (int) Math.min(remainingPieces, 64);
      ((Buffer) buf).clear().limit(n * FOOTER_PIECE_BYTES);
      StoreIo.readFully(ch, buf, pos);
      byte[] b = buf.array();
      crc.update(b, 0, n * FOOTER_PIECE_BYTES);
      for (int i = 0; i < n; i++) {
        outer.update(b, i * FOOTER_PIECE_BYTES, 32);
        lengthSum += getU32(b, i * FOOTER_PIECE_BYTES + 32) & 0xffff_ffffL;
      }
      pos += (long) n * FOOTER_PIECE_BYTES;
      remainingPieces -= n;
    }
    // Expiry, locator and the footer-length field; the CRC and magic follow.
    long restLength = footerLength - 8 - pieceCount * FOOTER_PIECE_BYTES - 4 - 8;
    if (restLength < 8 + 2 + 4 || restLength > 8 + 2 + MAX_LOCATOR_BYTES + 4) {
      throw new FormatProblem(false, "footer tail of " + restLength + " bytes is out of bounds");
    }
    ByteBuffer rest = ByteBuffer.allocate((int) restLength);
    StoreIo.readFully(ch, rest, pos);
    byte[] r = rest.array();
    crc.update(r, 0, r.length);
    int storedCrc = getU32(t, 4);
    if ((int) crc.getValue() != storedCrc) {
      throw new FormatProblem(false, "footer checksum failed (hardware problem or torn write?)");
    }
    ByteBuffer rb = ByteBuffer.wrap(r);
    long expires = rb.getLong();
    int locatorLength = rb.getShort() & 0xffff;
    if (locatorLength != r.length - 8 - 2 - 4) {
      throw new FormatProblem(false, "locator length " + locatorLength + " does not fit the footer");
    }
    String locator = new String(r, 10, locatorLength, StandardCharsets.UTF_8);
    if (lengthSum != h.declaredLengthBytes) {
      throw new FormatProblem(false, "piece lengths add up to " + lengthSum + " bytes, header says "
          + h.declaredLengthBytes);
    }
    if (!Arrays.equals(outer.digest(), h.fingerprint.toBytes())) {
      throw new FormatProblem(false, "piece digests do not hash to the fingerprint in the header");
    }
    return new BlobFile(h, pieceCount, expires, locator, size);
  }

  /** Footer bytes after the piece table: expiry, locator, footer length, CRC, magic. */
  static byte[] footerTail(long expiresAtEpochSecond, String locator, long pieceCount, CRC32 crcSoFar) {
    byte[] loc = locator.getBytes(StandardCharsets.UTF_8);
    long footerLength = 8 + pieceCount * FOOTER_PIECE_BYTES + 8 + 2 + loc.length + FOOTER_TRAILER_BYTES;
    ByteBuffer b = ByteBuffer.allocate(8 + 2 + loc.length + FOOTER_TRAILER_BYTES);
    b.putLong(expiresAtEpochSecond).putShort((short) loc.length).put(loc).putInt((int) footerLength);
    crcSoFar.update(b.array(), 0, b.position());
    b.putInt((int) crcSoFar.getValue()).put(FOOTER_MAGIC);
    return b.array();
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }
}
