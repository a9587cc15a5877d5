package io.crowdbackup.engine.custody;

import io.crowdbackup.api.CrowdBackupException;
import java.util.Objects;

/**
 * A custody operation other than an offer was refused for a custody reason (offers are refused with a
 * {@link io.crowdbackup.api.policy.RefusalException}; a blob that is not there, has expired, or a closed
 * custodian is the store's {@link io.crowdbackup.api.store.StoreException} NOT_FOUND, PAST_EXPIRY or CLOSED,
 * whichever layer notices). {@link #reason()} is what a program acts on; the
 * message names the blob and gives actual against expected.
 */
public final class CustodyException extends CrowdBackupException {
  private static final long serialVersionUID = 1L;

  /** Why. */
  public enum Reason {
    /** Forward-once: a blob leaves only towards the locator in its own header. */
    WRONG_LOCATOR,
    /** A forward of this blob is already in progress; a blob has at most one at a time. */
    ALREADY_FORWARDING,
    /** The forward handle was already finished (delivered, failed or closed). */
    FORWARD_FINISHED,
    /** The custody clock file exists but is unreadable or damaged; deleting it restarts custody time. */
    CLOCK_FILE_DAMAGED
  }

  private final Reason reason;

  public CustodyException(Reason reason, String message) {
    super(reason + ": " + message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public CustodyException(Reason reason, String message, Throwable cause) {
    super(reason + ": " + message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  @Override
  public Reason reason() {
    return reason;
  }
}
