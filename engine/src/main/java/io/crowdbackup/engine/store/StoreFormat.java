package io.crowdbackup.engine.store;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.UploadRequest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Byte layouts of the store's files ({@code docs/store-format.md} is the normative description). Every
 * file starts with an 8-byte magic and a version; every header, footer and log entry carries a CRC-32 of
 * its own bytes. Envelope bytes carry none: each piece is covered by its SHA-256 digest in the footer.
 *
 * <p>CRC-32 rather than CRC-32C: java.util.zip.CRC32C is absent from Android API level 26, and these
 * checksums guard only small metadata (the content has SHA-256).
 */
final class StoreFormat {
  private StoreFormat() {}

  static final int VERSION = 1;

  static final byte[] STORE_MAGIC = ascii("CRWDSTOR");
  static final byte[] BLOB_MAGIC = ascii("CRWDBLOB");
  static final byte[] JOURNAL_MAGIC = ascii("CRWDJRNL");
  static final byte[] FOOTER_MAGIC = ascii("BOLBDWRC");
  static final byte[] STATE_LOG_MAGIC = ascii("CRWDSLOG");
  static final byte[] CLEAN_MAGIC = ascii("CRWDCLEN");

  /** Digest (32) + u32 piece length. */
  static final int FOOTER_PIECE_BYTES = 36;
  /** Digest (32) + u32 piece length + u32 CRC. */
  static final int JOURNAL_ENTRY_BYTES = 40;
  /** footerLength u32 + CRC u32 + magic. */
  static final int FOOTER_TRAILER_BYTES = 16;
  /** fingerprint, blobId, state, kind, envelope length, expiry, CRC. */
  static final int STATE_ENTRY_BYTES = 32 + 8 + 1 + 1 + 8 + 8 + 4;
  static final int STATE_LOG_HEADER_BYTES = 16;
  /** State code in a state-log entry for "forget this fingerprint" (a delete of a tombstone). */
  static final int STATE_CODE_DELETED = 0xff;
  static final int MAX_HEADER_BYTES = 8 + 2 + 2 + 32 + 8 * 4 + 1 + 1 + UploadRequest.MAX_PEER_BYTES + 4;
  static final int MAX_LOCATOR_BYTES = 1024;

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  static int crc(byte[] b, int off, int len) {
    CRC32 c = new CRC32();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  /** The record header at the start of a partial upload, its journal, and a committed blob file. */
  static final class RecordHeader {
    final Fingerprint fingerprint;
    final long blobId;
    final long declaredLengthBytes;
    final long expiresNoLaterThanEpochSecond;
    final long startedAtEpochMillis;
    final BlobKind kind;
    final String sourcePeer;
    final int encodedLength;

    RecordHeader(Fingerprint fingerprint, long blobId, long declaredLengthBytes, long expiresNoLaterThanEpochSecond,
        long startedAtEpochMillis, BlobKind kind, String sourcePeer) {
      this.fingerprint = fingerprint;
      this.blobId = blobId;
      this.declaredLengthBytes = declaredLengthBytes;
      this.expiresNoLaterThanEpochSecond = expiresNoLaterThanEpochSecond;
      this.startedAtEpochMillis = startedAtEpochMillis;
      this.kind = kind;
      this.sourcePeer = sourcePeer;
      this.encodedLength = 8 + 2 + 2 + 32 + 8 * 4 + 1 + 1 + sourcePeer.getBytes(StandardCharsets.UTF_8).length + 4;
    }

    /** Whether {@code other} describes the same record (every field; the magic says only which file). */
    boolean sameRecordAs(RecordHeader other) {
      return java.util.Arrays.equals(encode(BLOB_MAGIC), other.encode(BLOB_MAGIC));
    }

    UploadRequest toRequest() {
      UploadRequest.Builder b = UploadRequest.newBuilder().fingerprint(fingerprint)
          .declaredLengthBytes(declaredLengthBytes).expiresNoLaterThanEpochSecond(expiresNoLaterThanEpochSecond);
      return (kind == BlobKind.OWN ? b.own() : b.custodyFrom(sourcePeer)).build();
    }

    byte[] encode(byte[] magic) {
      byte[] peer = sourcePeer.getBytes(StandardCharsets.UTF_8);
      ByteBuffer b = ByteBuffer.allocate(encodedLength);
      b.put(magic).putShort((short) VERSION).putShort((short) encodedLength);
      b.put(fingerprint.toBytes()).putLong(blobId).putLong(declaredLengthBytes)
          .putLong(expiresNoLaterThanEpochSecond).putLong(startedAtEpochMillis);
      b.put((byte) kind.ordinal()).put((byte) peer.length).put(peer);
      b.putInt(crc(b.array(), 0, b.position()));
      return b.array();
    }

    /**
     * Decodes a header from the first bytes of a file.
     *
     * @param bytes at least the header (up to {@link #MAX_HEADER_BYTES} bytes of the file start)
     * @param length how many bytes of {@code bytes} are valid
     * @return the header
     * @throws FormatProblem naming what is wrong
     */
    static RecordHeader decode(byte[] magic, byte[] bytes, int length) throws FormatProblem {
      if (length < 12) {
        throw new FormatProblem(false, "file is " + length + " bytes, shorter than a record header (truncated?)");
      }
      ByteBuffer b = ByteBuffer.wrap(bytes, 0, length);
      byte[] m = new byte[8];
      b.get(m);
      if (!java.util.Arrays.equals(m, magic)) {
        throw new FormatProblem(false, "magic is not " + new String(magic, StandardCharsets.US_ASCII));
      }
      int version = b.getShort() & 0xffff;
      if (version != VERSION) {
        throw new FormatProblem(true, "store format version " + version + ", this code reads " + VERSION);
      }
      int headerLength = b.getShort() & 0xffff;
      if (headerLength > length || headerLength > MAX_HEADER_BYTES || headerLength < 8 + 2 + 2 + 32 + 32 + 2 + 4) {
        throw new FormatProblem(false, "header length " + headerLength + " out of bounds (truncated?)");
      }
      int stored = ByteBuffer.wrap(bytes, headerLength - 4, 4).getInt();
      if (stored != crc(bytes, 0, headerLength - 4)) {
        throw new FormatProblem(false, "header checksum failed (hardware problem or torn write?)");
      }
      byte[] fp = new byte[32];
      b.get(fp);
      long blobId = b.getLong();
      long declared = b.getLong();
      long cap = b.getLong();
      long started = b.getLong();
      int kind = b.get();
      int peerLength = b.get() & 0xff;
      if (kind < 0 || kind >= BlobKind.values().length || 8 + 2 + 2 + 32 + 32 + 2 + peerLength + 4 != headerLength
          || declared <= 0) {
        throw new FormatProblem(false, "header fields out of bounds");
      }
      byte[] peer = new byte[peerLength];
      b.get(peer);
      RecordHeader h = new RecordHeader(Fingerprint.of(fp), blobId, declared, cap, started,
          BlobKind.values()[kind], new String(peer, StandardCharsets.UTF_8));
      // A header must describe a request the API would accept, or every later uploads()/request() call
      // would throw from UploadRequest's checks (fuzz finding F9): refuse it here, as a format problem.
      try {
        h.toRequest();
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new FormatProblem(false, "header fields out of bounds: " + e.getMessage());
      }
      return h;
    }
  }

  /** A file did not match its format. {@code versionProblem} tells "other version" apart from "corrupt". */
  /** Why a file was found bad, for its quarantine note: the exception's message (ours always have one). */
  static String why(Exception e) {
    return java.util.Objects.toString(e.getMessage(), e.getClass().getSimpleName());
  }

  static final class FormatProblem extends Exception {
    private static final long serialVersionUID = 1L;
    final boolean versionProblem;

    FormatProblem(boolean versionProblem, String message) {
      super(message);
      this.versionProblem = versionProblem;
    }
  }

  static void putU32(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  static int getU32(byte[] b, int off) {
    return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
  }
}
