package io.crowdbackup.api.store;

import io.crowdbackup.api.CrowdBackupException;
import io.crowdbackup.api.EnvelopeException;
import java.io.IOException;
import java.util.Objects;

/**
 * A store operation failed. {@link #reason()} says why in a form a program can act on; {@link #path()}
 * names the file or directory involved (or {@code null} where none is); the message says what happened,
 * actual against expected, and what a person can do about it.
 *
 * <p>After any of these the store stays usable and consistent: a failed write leaves no visible blob, a
 * failed read serves no byte it has not verified.
 */
public class StoreException extends CrowdBackupException {
  private static final long serialVersionUID = 1L;

  /** Why a store operation failed. */
  public enum Reason {
    /** A blob with this fingerprint is already stored (or an upload of it is in progress). */
    DUPLICATE,
    /** This fingerprint was delivered and is remembered until its expiry: do not store it again. */
    ALREADY_DELIVERED,
    /** The bytes hash to another fingerprint than the one promised. Nothing was stored. */
    FINGERPRINT_MISMATCH,
    /** The bytes are not a well-formed envelope; {@link #envelopeReason()} says how. Nothing was stored. */
    MALFORMED,
    /** The stream is longer or shorter than the declared length, or the header declares another length. */
    LENGTH_MISMATCH,
    /** No blob or upload with this fingerprint. */
    NOT_FOUND,
    /** The blob's expiry has passed; it is never served. */
    EXPIRED,
    /** The requested state change is not allowed from the blob's current state. */
    ILLEGAL_STATE_TRANSITION,
    /**
     * The stored bytes failed verification (bit rot, a torn write, tampering on disk). The blob was moved to
     * quarantine and is no longer listed; no unverified byte was served.
     */
    CORRUPT,
    /** The store directory is locked by another process (or another store instance in this process). */
    LOCKED_BY_OTHER_PROCESS,
    /** The file system is full. The store stays consistent; free space or lower the quota. */
    DISK_FULL,
    /** The operating system denied access to a store file or directory. */
    PERMISSION_DENIED,
    /** The store directory holds files of a store format this version does not read. */
    UNSUPPORTED_FORMAT,
    /** Any other input/output failure; the cause says which. */
    IO_ERROR,
    /**
     * A symbolic link stands where the store keeps a file or folder of its own. The store never follows
     * links inside its folder; the path names the link.
     */
    UNSAFE_LINK,
    /** The store was closed. */
    CLOSED
  }

  private final Reason reason;
  private final String path;
  private final EnvelopeException.Reason envelopeReason;

  public StoreException(Reason reason, String path, String message) {
    this(reason, path, message, null);
  }

  public StoreException(Reason reason, String path, String message, Throwable cause) {
    super(format(reason, path, message), cause);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.path = path;
    this.envelopeReason = cause instanceof EnvelopeException ? ((EnvelopeException) cause).reason() : null;
  }

  private static String format(Reason reason, String path, String message) {
    return reason + (path == null ? "" : " [" + path + "]") + ": " + message;
  }

  @Override
  public Reason reason() {
    return reason;
  }

  /** The file or directory involved, or {@code null}. */
  public String path() {
    return path;
  }

  /** For {@link Reason#MALFORMED}: why the envelope was rejected; otherwise {@code null}. */
  public EnvelopeException.Reason envelopeReason() {
    return envelopeReason;
  }
}
