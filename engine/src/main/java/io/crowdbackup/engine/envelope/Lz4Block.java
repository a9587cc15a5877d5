package io.crowdbackup.engine.envelope;

/**
 * Decodes one LZ4 block under the rules of {@code docs/envelope-format.md} §8, which pin the LZ4 block
 * format's end-of-block conditions so that two openers accept exactly the same blocks: the block ends with
 * a sequence of literals only; if it has a match, the last match starts at least 12 bytes and ends at
 * least 5 bytes before the end of the decoded block; a match offset is 1..(bytes decoded so far) (offset 0
 * is refused, where a lenient decoder copies whatever the output buffer held). Bounds-checked on every
 * length: the input is untrusted even after authentication, because anyone with the card can seal.
 */
final class Lz4Block {
  /** The last 5 decoded bytes of a block that has a match are literals. */
  static final int LAST_LITERALS = 5;
  /** The last match starts at least 12 bytes before the end of the decoded block. */
  static final int LAST_MATCH_START_DISTANCE = 12;
  static final int MIN_MATCH = 4;

  /** Why a block was refused; the caller turns it into {@code BAD_COMPRESSION} naming the chunk. */
  static final class MalformedBlockException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedBlockException(String message) {
      super(message, null, false, false);
    }
  }

  private Lz4Block() {}

  /**
   * Decodes {@code src[off .. off + len)} into {@code dst[0 ..)}, at most {@code maxOut} bytes, and returns
   * the decoded length.
   */
  static int decode(byte[] src, int off, int len, byte[] dst, int maxOut) throws MalformedBlockException {
    final int end = off + len;
    int s = off;
    int d = 0;
    int lastMatchStart = -1;
    int lastMatchEnd = -1;
    while (true) {
      if (s >= end) {
        throw new MalformedBlockException(lastMatchEnd < 0 ? "the block is empty (not even a token)"
            : "the block ends after a match at decoded byte " + lastMatchEnd
                + "; its last sequence must be literals only");
      }
      int token = src[s++] & 0xff;
      int literals = token >>> 4;
      if (literals == 15) {
        int b;
        do {
          if (s >= end) {
            throw new MalformedBlockException("the block ends inside a literal length at input byte " + (s - off));
          }
          b = src[s++] & 0xff;
          literals += b;
          // Literals are copied from the input: a run longer than the input left is malformed whatever follows.
          if (literals > end - s) {
            throw new MalformedBlockException("a literal run of at least " + literals + " bytes at input byte "
                + (s - off) + " is longer than the " + (end - s) + " input bytes left");
          }
        } while (b == 255);
      }
      if (literals > end - s) {
        throw new MalformedBlockException("a literal run of " + literals + " bytes at input byte " + (s - off)
            + " is longer than the " + (end - s) + " input bytes left");
      }
      if (literals > maxOut - d) {
        throw new MalformedBlockException("decodes to more than " + maxOut + " bytes");
      }
      System.arraycopy(src, s, dst, d, literals);
      s += literals;
      d += literals;
      if (s == end) {
        break;
      }
      if (end - s < 2) {
        throw new MalformedBlockException("the block ends inside a match offset at input byte " + (s - off));
      }
      int offset = (src[s] & 0xff) | ((src[s + 1] & 0xff) << 8);
      s += 2;
      if (offset == 0) {
        throw new MalformedBlockException("a match at decoded byte " + d + " has offset 0 (invalid in LZ4)");
      }
      if (offset > d) {
        throw new MalformedBlockException("a match at decoded byte " + d + " has offset " + offset
            + ", before the start of the block");
      }
      int matchLength = token & 15;
      if (matchLength == 15) {
        int b;
        do {
          if (s >= end) {
            throw new MalformedBlockException("the block ends inside a match length at input byte " + (s - off));
          }
          b = src[s++] & 0xff;
          matchLength += b;
          if (matchLength > maxOut) {
            throw new MalformedBlockException("decodes to more than " + maxOut + " bytes");
          }
        } while (b == 255);
      }
      matchLength += MIN_MATCH;
      if (matchLength > maxOut - d) {
        throw new MalformedBlockException("decodes to more than " + maxOut + " bytes");
      }
      lastMatchStart = d;
      int from = d - offset;
      if (offset >= matchLength) {
        System.arraycopy(dst, from, dst, d, matchLength);
      } else {
        // Overlapping copy: each byte may be one this match just wrote (a run).
        for (int i = 0; i < matchLength; i++) {
          dst[d + i] = dst[from + i];
        }
      }
      d += matchLength;
      lastMatchEnd = d;
    }
    if (lastMatchEnd >= 0) {
      if (d - lastMatchEnd < LAST_LITERALS) {
        throw new MalformedBlockException("the last match ends " + (d - lastMatchEnd) + " bytes before the end of"
            + " the " + d + "-byte block; the last " + LAST_LITERALS + " bytes must be literals");
      }
      if (d - lastMatchStart < LAST_MATCH_START_DISTANCE) {
        throw new MalformedBlockException("the last match starts " + (d - lastMatchStart) + " bytes before the end"
            + " of the " + d + "-byte block; it must start at least " + LAST_MATCH_START_DISTANCE + " before");
      }
    }
    return d;
  }
}
