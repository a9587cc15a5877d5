package io.crowdbackup.engine.envelope;

import java.nio.charset.StandardCharsets;

/**
 * Constants of envelope format v2. {@code docs/envelope-format.md} is the normative description; every
 * number here appears there with its meaning.
 */
public final class EnvelopeFormat {
  private EnvelopeFormat() {}

  /** "CRWDBK": the first six bytes of every envelope. */
  static final byte[] MAGIC = "CRWDBK".getBytes(StandardCharsets.US_ASCII);
  /** The only format version this code reads and writes. */
  public static final int VERSION = 2;
  /**
   * Format v1 (its metadata carried the plaintext SHA-256). Never deployed, so not read: refused as
   * {@code VERSION_TOO_OLD} with a message naming it, with no second code path to keep.
   */
  static final int VERSION_1 = 1;
  /** The only suite (v1 and v2): X25519, HKDF-SHA-256, AES-256-GCM in STREAM chunks, SHA-256 fingerprint. */
  public static final int SUITE_X25519_HKDF_SHA256_AES256GCM = 1;

  /** Magic (6) + version (2). */
  static final int PRELUDE_BYTES = 8;
  /** The u16 header-length field after the prelude. */
  static final int HEADER_LENGTH_FIELD_BYTES = 2;
  /** suite, chunk-size exponent, envelope length, expiry, four 32-byte keys/salt, locator length. */
  static final int FIXED_HEADER_BODY_BYTES = 1 + 1 + 8 + 8 + 32 * 4 + 2;
  static final int MAX_LOCATOR_BYTES = 1024;
  static final int MIN_HEADER_BODY_BYTES = FIXED_HEADER_BODY_BYTES + 1;
  static final int MAX_HEADER_BODY_BYTES = FIXED_HEADER_BODY_BYTES + MAX_LOCATOR_BYTES;
  static final int HEADER_MAC_BYTES = 32;

  static final int MIN_CHUNK_SIZE_LOG2 = 12;
  static final int MAX_CHUNK_SIZE_LOG2 = 22;

  /** Largest envelope the format allows: 1 TiB. */
  public static final long MAX_ENVELOPE_BYTES = 1L << 40;
  /** Latest expiry accepted: 9999-12-31T23:59:59Z. */
  static final long MAX_EXPIRES_AT_EPOCH_SECOND = io.crowdbackup.api.SealRequest.MAX_EXPIRES_AT_EPOCH_SECOND;

  static final int RECORD_LENGTH_FIELD_BYTES = 4;
  static final int TAG_BYTES = 16;
  static final int NONCE_PREFIX_BYTES = 7;
  static final int NONCE_BYTES = 12;

  /** First plaintext byte of a data chunk stored as is. */
  static final int ENCODING_RAW = 0;
  /** First plaintext byte of a data chunk stored as one LZ4 block. */
  static final int ENCODING_LZ4 = 1;
  /** First plaintext byte of the final chunk, which carries the metadata. */
  static final int ENCODING_METADATA = 2;

  /** Plaintext bytes of the final (metadata) chunk, padding included: fixed, so it leaks no name length. */
  static final int METADATA_PLAINTEXT_BYTES = 512;
  static final int FINAL_RECORD_CIPHERTEXT_BYTES = METADATA_PLAINTEXT_BYTES + TAG_BYTES;
  static final int FINAL_RECORD_BYTES = RECORD_LENGTH_FIELD_BYTES + FINAL_RECORD_CIPHERTEXT_BYTES;
  /** Smallest data-record ciphertext: encoding byte, one plaintext byte (or LZ4 token), tag. */
  static final int MIN_DATA_CIPHERTEXT_BYTES = 1 + 1 + TAG_BYTES;

  static final byte[] INFO_HEADER_MAC = "crowdbackup v2 header mac".getBytes(StandardCharsets.US_ASCII);
  static final byte[] INFO_PAYLOAD = "crowdbackup v2 payload".getBytes(StandardCharsets.US_ASCII);

  /** Largest data-record ciphertext for a chunk size. */
  static int maxDataCiphertextBytes(int chunkSizeBytes) {
    return 1 + chunkSizeBytes + TAG_BYTES;
  }

  /** Envelope length when no chunk is compressed. */
  public static long uncompressedEnvelopeLength(int headerBytes, int chunkSizeBytes, long plaintextLengthBytes) {
    long fullChunks = plaintextLengthBytes / chunkSizeBytes;
    long tail = plaintextLengthBytes % chunkSizeBytes;
    long dataRecords = fullChunks + (tail > 0 ? 1 : 0);
    long perRecordOverhead = RECORD_LENGTH_FIELD_BYTES + 1 + TAG_BYTES;
    return headerBytes + plaintextLengthBytes + dataRecords * perRecordOverhead + FINAL_RECORD_BYTES;
  }

  /** Number of data chunks for a plaintext length. */
  static long dataChunkCount(int chunkSizeBytes, long plaintextLengthBytes) {
    return (plaintextLengthBytes + chunkSizeBytes - 1) / chunkSizeBytes;
  }
}
