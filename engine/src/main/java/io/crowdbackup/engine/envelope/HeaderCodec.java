package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeException.Reason;
import io.crowdbackup.api.EnvelopeHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Encodes and decodes the prelude and public header (piece 0 of an envelope). Decoding is the holder's
 * keyless check: every length is bounded before it is used, and at most {@link #MAX_PIECE0_BYTES} are
 * ever buffered.
 */
final class HeaderCodec {
  /** Largest possible piece 0: prelude, length field, largest header body, MAC. */
  static final int MAX_PIECE0_BYTES =
      PRELUDE_BYTES + HEADER_LENGTH_FIELD_BYTES + MAX_HEADER_BODY_BYTES + HEADER_MAC_BYTES;
  static final int MAC_OFFSET_FROM_END = HEADER_MAC_BYTES;

  private HeaderCodec() {}

  /** Piece 0 without its MAC (the MAC is computed over these bytes and appended). */
  static byte[] encodeWithoutMac(
      int chunkSizeBytes,
      long envelopeLengthBytes,
      long expiresAtEpochSecond,
      byte[] ephemeralKey,
      byte[] salt,
      byte[] receiptKey,
      byte[] releaseKey,
      String locator) {
    byte[] loc = locator.getBytes(StandardCharsets.UTF_8);
    int body = FIXED_HEADER_BODY_BYTES + loc.length;
    ByteBuffer b = ByteBuffer.allocate(PRELUDE_BYTES + HEADER_LENGTH_FIELD_BYTES + body);
    b.put(MAGIC).putShort((short) VERSION).putShort((short) body);
    b.put((byte) SUITE_X25519_HKDF_SHA256_AES256GCM);
    b.put((byte) Integer.numberOfTrailingZeros(chunkSizeBytes));
    b.putLong(envelopeLengthBytes).putLong(expiresAtEpochSecond);
    b.put(ephemeralKey).put(salt).put(receiptKey).put(releaseKey);
    b.putShort((short) loc.length).put(loc);
    return b.array();
  }

  /** Length of piece 0 for a locator. */
  static int piece0Length(String locator) {
    return PRELUDE_BYTES + HEADER_LENGTH_FIELD_BYTES + FIXED_HEADER_BODY_BYTES
        + locator.getBytes(StandardCharsets.UTF_8).length + HEADER_MAC_BYTES;
  }

  /**
   * Reads piece 0 from a channel: exactly its bytes, no more. Returns them; {@link #decode} gives the
   * header.
   */
  static byte[] readPiece0(ReadableByteChannel in) throws IOException {
    ByteBuffer start = ByteBuffer.allocate(PRELUDE_BYTES + HEADER_LENGTH_FIELD_BYTES);
    int got = IoUtil.readFully(in, start);
    checkPrelude(start.array(), got);
    if (got < start.capacity()) {
      throw new EnvelopeException(Reason.TRUNCATED,
          "stream ended after " + got + " bytes, inside the prelude (" + start.capacity() + " bytes)");
    }
    int bodyLength = checkHeaderLength(start.array());
    byte[] piece0 = Arrays.copyOf(start.array(), start.capacity() + bodyLength + HEADER_MAC_BYTES);
    ByteBuffer rest = ByteBuffer.wrap(piece0, start.capacity(), piece0.length - start.capacity());
    int restGot = IoUtil.readFully(in, rest);
    if (rest.hasRemaining()) {
      throw new EnvelopeException(Reason.TRUNCATED, "stream ended " + (start.capacity() + restGot)
          + " bytes in, inside the " + piece0.length + "-byte header");
    }
    return piece0;
  }

  /** Checks magic and version on however many bytes are present (a prefix is enough to reject). */
  static void checkPrelude(byte[] bytes, int length) throws EnvelopeException {
    int m = Math.min(length, MAGIC.length);
    for (int i = 0; i < m; i++) {
      if (bytes[i] != MAGIC[i]) {
        throw new EnvelopeException(Reason.BAD_MAGIC,
            "byte " + i + " is 0x" + Integer.toHexString(bytes[i] & 0xff) + ", expected 0x"
                + Integer.toHexString(MAGIC[i]) + " of magic \"CRWDBK\": not an envelope");
      }
    }
    if (length >= PRELUDE_BYTES) {
      int version = ((bytes[6] & 0xff) << 8) | (bytes[7] & 0xff);
      if (version > VERSION) {
        throw new EnvelopeException(Reason.VERSION_TOO_NEW,
            "format version " + version + ", this reader supports " + VERSION + " (upgrade the reader)");
      }
      if (version == VERSION_1) {
        throw new EnvelopeException(Reason.VERSION_TOO_OLD, "format version 1 (its metadata carried the"
            + " plaintext SHA-256; never deployed, no longer read), this reader supports " + VERSION
            + ": seal the file again");
      }
      if (version < VERSION) {
        throw new EnvelopeException(Reason.VERSION_TOO_OLD,
            "format version " + version + ", this reader supports " + VERSION);
      }
    }
  }

  /** Returns the bounded header body length from a prelude + length field. */
  static int checkHeaderLength(byte[] start) throws EnvelopeException {
    int bodyLength = ((start[8] & 0xff) << 8) | (start[9] & 0xff);
    if (bodyLength > MAX_HEADER_BODY_BYTES) {
      throw new EnvelopeException(Reason.HEADER_TOO_LARGE,
          "header body declares " + bodyLength + " bytes, at most " + MAX_HEADER_BODY_BYTES + " allowed");
    }
    if (bodyLength < MIN_HEADER_BODY_BYTES) {
      throw new EnvelopeException(Reason.FIELD_OUT_OF_BOUNDS,
          "header body declares " + bodyLength + " bytes, at least " + MIN_HEADER_BODY_BYTES + " required");
    }
    return bodyLength;
  }

  /** Decodes and bounds-checks a complete piece 0 (as returned by {@link #readPiece0}). */
  static EnvelopeHeader decode(byte[] piece0) throws EnvelopeException {
    checkPrelude(piece0, piece0.length);
    if (piece0.length < PRELUDE_BYTES + HEADER_LENGTH_FIELD_BYTES) {
      throw new EnvelopeException(Reason.TRUNCATED, "header is only " + piece0.length + " bytes");
    }
    int bodyLength = checkHeaderLength(piece0);
    int expected = PRELUDE_BYTES + HEADER_LENGTH_FIELD_BYTES + bodyLength + HEADER_MAC_BYTES;
    if (piece0.length != expected) {
      throw new EnvelopeException(Reason.TRUNCATED,
          "header is " + piece0.length + " bytes, its length field requires " + expected);
    }
    ByteBuffer b = ByteBuffer.wrap(piece0, PRELUDE_BYTES + HEADER_LENGTH_FIELD_BYTES, bodyLength);
    int suite = b.get() & 0xff;
    if (suite != SUITE_X25519_HKDF_SHA256_AES256GCM) {
      throw new EnvelopeException(Reason.UNSUPPORTED_SUITE,
          "suite " + suite + ", format v" + VERSION + " defines only " + SUITE_X25519_HKDF_SHA256_AES256GCM);
    }
    int chunkLog2 = b.get() & 0xff;
    if (chunkLog2 < MIN_CHUNK_SIZE_LOG2 || chunkLog2 > MAX_CHUNK_SIZE_LOG2) {
      throw new EnvelopeException(Reason.FIELD_OUT_OF_BOUNDS, "chunk size exponent " + chunkLog2
          + ", expected " + MIN_CHUNK_SIZE_LOG2 + ".." + MAX_CHUNK_SIZE_LOG2);
    }
    int chunkSizeBytes = 1 << chunkLog2;
    long envelopeLength = b.getLong();
    long minLength = (long) expected + FINAL_RECORD_BYTES;
    if (envelopeLength < minLength || envelopeLength > MAX_ENVELOPE_BYTES) {
      throw new EnvelopeException(Reason.FIELD_OUT_OF_BOUNDS, "envelope length " + envelopeLength
          + ", expected " + minLength + ".." + MAX_ENVELOPE_BYTES);
    }
    long recordSpace = envelopeLength - minLength;
    long minRecord = RECORD_LENGTH_FIELD_BYTES + MIN_DATA_CIPHERTEXT_BYTES;
    if (recordSpace > 0 && recordSpace < minRecord) {
      throw new EnvelopeException(Reason.FIELD_OUT_OF_BOUNDS, "envelope length " + envelopeLength + " leaves "
          + recordSpace + " bytes for data records, which is neither 0 nor at least " + minRecord);
    }
    long expires = b.getLong();
    if (expires < 0 || expires > MAX_EXPIRES_AT_EPOCH_SECOND) {
      throw new EnvelopeException(Reason.FIELD_OUT_OF_BOUNDS,
          "expiry " + expires + ", expected 0.." + MAX_EXPIRES_AT_EPOCH_SECOND + " (epoch seconds)");
    }
    byte[] eph = new byte[32];
    byte[] salt = new byte[32];
    byte[] receiptKey = new byte[32];
    byte[] releaseKey = new byte[32];
    b.get(eph).get(salt).get(receiptKey).get(releaseKey);
    int locLength = b.getShort() & 0xffff;
    if (locLength != bodyLength - FIXED_HEADER_BODY_BYTES) {
      throw new EnvelopeException(Reason.FIELD_OUT_OF_BOUNDS, "locator length " + locLength
          + " disagrees with header length " + bodyLength + " (expected " + (bodyLength - FIXED_HEADER_BODY_BYTES)
          + "); the format has no fields after the locator");
    }
    String locator = decodeLocator(piece0, b.position(), locLength);
    return new EnvelopeHeader(VERSION, suite, chunkSizeBytes, envelopeLength, expires, locator,
        receiptKey, releaseKey, eph, salt, piece0.length);
  }

  /** The edge-whitespace set of envelope-format.md §16, as {@code DestinationCard} applies it. */
  static boolean isEdgeWhitespace(char c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c);
  }

  private static String decodeLocator(byte[] bytes, int offset, int length) throws EnvelopeException {
    String s;
    try {
      s = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes, offset, length))
          .toString();
    } catch (CharacterCodingException e) {
      throw new EnvelopeException(Reason.FIELD_OUT_OF_BOUNDS, "locator is not valid UTF-8", e);
    }
    for (int i = 0; i < s.length(); i++) {
      if (Character.isISOControl(s.charAt(i))) {
        throw new EnvelopeException(Reason.FIELD_OUT_OF_BOUNDS, "locator has a control character at index " + i);
      }
    }
    // No card can carry such a locator (DestinationCard and the key files refuse it, spec §16), so no
    // sealer writes one: a header that has it names a destination nobody can be.
    if (isEdgeWhitespace(s.charAt(0)) || isEdgeWhitespace(s.charAt(s.length() - 1))) {
      throw new EnvelopeException(Reason.FIELD_OUT_OF_BOUNDS, "locator starts or ends with whitespace");
    }
    return s;
  }
}
