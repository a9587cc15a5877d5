package io.crowdbackup.api.store;

import io.crowdbackup.api.CrowdBackupException;
import io.crowdbackup.api.EnvelopeException;
import java.io.IOException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A store operation failed. {@link #reason()} says why in a form a program can act on; {@link #path()}
 * names the file or directory involved (or {@code null} where none is); the message says what happened,
 * actual against expected, and what a person can do about it.
 *
 * <p>After any of these the store stays usable and consistent: a failed write leaves no visible blob, a
 * failed read serves no byte it has not verified.
 *
 * <p>No reason here is spelled like another concern's: where a custodian reports the same condition to a
 * peer it uses the refusal's name ({@code ALREADY_DELIVERED}, {@code EXPIRED}); this one names the blob's
 * state in the store.
 *
 * <p>Bytes that are not the envelope promised (malformed, another length, another fingerprint) are the
 * envelope's concern: the store removes the upload and throws the {@link EnvelopeException} with its own
 * reason ({@code FINGERPRINT_MISMATCH}, {@code LENGTH_MISMATCH}, {@code TRUNCATED}, …), not one of these.
 */
public class StoreException extends CrowdBackupException {
  private static final long serialVersionUID = 1L;

  /** Why a store operation failed. */
  public enum Reason {
    /** A blob with this fingerprint is already stored (or an upload of it is in progress). */
    DUPLICATE,
    /**
     * This fingerprint is in state {@link BlobState#DELIVERED}: remembered until its expiry, not stored
     * again. (A custodian tells a peer offering it the refusal {@code ALREADY_DELIVERED}.)
     */
    DELIVERED,
    /** No blob or upload with this fingerprint. */
    NOT_FOUND,
    /**
     * The blob's expiry (or, for an upload, its envelope's) has passed: it is never served nor stored. (A
     * custodian tells a peer offering such an envelope the refusal {@code EXPIRED}.)
     */
    PAST_EXPIRY,
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
  private final @Nullable String path;

  public StoreException(Reason reason, @Nullable String path, String message) {
    this(reason, path, message, null);
  }

  public StoreException(Reason reason, @Nullable String path, String message, @Nullable Throwable cause) {
    super(format(reason, path, message), cause);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.path = path;
  }

  private static String format(Reason reason, @Nullable String path, String message) {
    return reason + (path == null ? "" : " [" + path + "]") + ": " + message;
  }

  @Override
  public Reason reason() {
    return reason;
  }

  /** The file or directory involved, or {@code null}. */
  public @Nullable String path() {
    return path;
  }
}
