package io.crowdbackup.engine.envelope;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where the pieces of a well-formed envelope lie, found by walking its framing directly from the spec (not
 * with the engine's parsers, so tests can compare the engine against it): piece 0, then each record as
 * u32 ciphertext length and ciphertext. Test-only; trusts its input.
 */
final class EnvelopeLayout {
  /** Offsets of the public header fields, from docs/envelope-format.md. */
  static final int MAGIC = 0;
  static final int VERSION = 6;
  static final int HEADER_LENGTH = 8;
  static final int SUITE = 10;
  static final int CHUNK_LOG2 = 11;
  static final int ENVELOPE_LENGTH = 12;
  static final int EXPIRES = 20;
  static final int EPHEMERAL_KEY = 28;
  static final int SALT = 60;
  static final int RECEIPT_KEY = 92;
  static final int RELEASE_KEY = 124;
  static final int LOCATOR_LENGTH = 156;
  static final int LOCATOR = 158;

  final int piece0Length;
  final int locatorLength;
  /** Start offset of each record, the final record last. */
  final long[] recordStart;
  /** Length of each record including its 4-byte length field. */
  final int[] recordLength;

  private EnvelopeLayout(int piece0Length, int locatorLength, long[] recordStart, int[] recordLength) {
    this.piece0Length = piece0Length;
    this.locatorLength = locatorLength;
    this.recordStart = recordStart;
    this.recordLength = recordLength;
  }

  static EnvelopeLayout of(byte[] envelope) {
    int body = u16(envelope, HEADER_LENGTH);
    int piece0 = 10 + body + 32;
    int locatorLength = u16(envelope, LOCATOR_LENGTH);
    List<long[]> records = new ArrayList<>();
    long pos = piece0;
    while (pos < envelope.length) {
      int ct = (int) u32(envelope, (int) pos);
      records.add(new long[] {pos, 4 + ct});
      pos += 4 + ct;
    }
    if (pos != envelope.length) {
      throw new IllegalArgumentException("not a well-formed envelope: framing ends at " + pos);
    }
    long[] starts = new long[records.size()];
    int[] lengths = new int[records.size()];
    for (int i = 0; i < starts.length; i++) {
      starts[i] = records.get(i)[0];
      lengths[i] = (int) records.get(i)[1];
    }
    return new EnvelopeLayout(piece0, locatorLength, starts, lengths);
  }

  int recordCount() {
    return recordStart.length;
  }

  /** Data records only (the final record excluded). */
  int dataRecordCount() {
    return recordStart.length - 1;
  }

  long macStart() {
    return piece0Length - 32;
  }

  /** The record holding {@code offset}, or -1 inside piece 0. */
  int recordAt(long offset) {
    for (int i = recordStart.length - 1; i >= 0; i--) {
      if (offset >= recordStart[i]) {
        return i;
      }
    }
    return -1;
  }

  /** Offsets where the envelope may end at a piece boundary without being complete. */
  long[] boundariesBeforeFinal() {
    long[] b = new long[recordStart.length];
    b[0] = piece0Length;
    for (int i = 1; i < b.length; i++) {
      b[i] = recordStart[i];
    }
    return b;
  }

  byte[] piece0(byte[] envelope) {
    return Arrays.copyOf(envelope, piece0Length);
  }

  byte[] record(byte[] envelope, int i) {
    return Arrays.copyOfRange(envelope, (int) recordStart[i], (int) recordStart[i] + recordLength[i]);
  }

  static int u16(byte[] b, int off) {
    return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
  }

  static long u32(byte[] b, int off) {
    return ((long) (b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8)
        | (b[off + 3] & 0xff);
  }

  /** Concatenates byte arrays. */
  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int o = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }
}
