package io.crowdbackup.api;

import java.util.Objects;

/**
 * An envelope was rejected. {@link #reason()} says why in a form a program can act on; the message says
 * it to a person, with the actual and expected values where there are any.
 *
 * <p>Towards an untrusted peer, the reason is safe to report: every reason is derived from bytes the peer
 * itself sent, never from a secret.
 */
public class EnvelopeException extends CrowdBackupException {
  private static final long serialVersionUID = 1L;

  /** Why an envelope was rejected. */
  public enum Reason {
    /** The first bytes are not the envelope magic: not an envelope at all. */
    BAD_MAGIC,
    /** The format version is newer than this reader understands; upgrade the reader. */
    VERSION_TOO_NEW,
    /** The format version is older than any this reader supports. */
    VERSION_TOO_OLD,
    /** The cipher suite identifier is not one this version defines. */
    UNSUPPORTED_SUITE,
    /** The declared header length exceeds the format's bound. */
    HEADER_TOO_LARGE,
    /** A header or metadata field is outside its documented bounds. */
    FIELD_OUT_OF_BOUNDS,
    /** The stream ended before the envelope did. */
    TRUNCATED,
    /** A chunk record declares a length its position does not allow. */
    BAD_RECORD_LENGTH,
    /** A chunk failed authentication: altered, reordered, duplicated, or from another envelope. */
    BAD_CHUNK_TAG,
    /** The envelope's last record is not a final chunk: it was cut short at a chunk boundary. */
    MISSING_FINAL_CHUNK,
    /** Bytes follow the final chunk. */
    TRAILING_DATA,
    /** The envelope's length differs from the length its header or the caller declared. */
    LENGTH_MISMATCH,
    /** The envelope's fingerprint differs from the one expected. */
    FINGERPRINT_MISMATCH,
    /** The envelope is addressed to another destination key. */
    NOT_FOR_THIS_KEY,
    /** The header names this key but its authentication code does not verify: the header was altered. */
    HEADER_AUTHENTICATION_FAILED,
    /** An authenticated chunk holds an LZ4 block that does not decode to a valid chunk. */
    BAD_COMPRESSION,
    /** The encrypted metadata is malformed. */
    BAD_METADATA,
    /** The decrypted content disagrees with its own metadata (its plaintext length). */
    PLAINTEXT_MISMATCH,
    /** The plaintext source yielded a different number of bytes than the caller declared. */
    PLAINTEXT_LENGTH_MISMATCH,
    /** A relay envelope was expected and this is not one, or the reverse. */
    WRONG_CONTENT_KIND,
    /**
     * Sealing side: not even one chunk at the requested chunk size fits in the heap the sealer may take;
     * the message says which chunk size would fit. Refused before any byte is read or written.
     */
    NOT_ENOUGH_MEMORY
  }

  private final Reason reason;

  public EnvelopeException(Reason reason, String message) {
    super(reason + ": " + message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public EnvelopeException(Reason reason, String message, Throwable cause) {
    super(reason + ": " + message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Why the envelope was rejected. */
  @Override
  public Reason reason() {
    return reason;
  }
}
