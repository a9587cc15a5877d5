package io.crowdbackup.engine.custody;

import java.io.IOException;
import java.util.Objects;

/**
 * A custody operation other than an offer was refused (offers are refused with a
 * {@link io.crowdbackup.api.policy.RefusalException}). {@link #reason()} is what a program acts on; the
 * message names the blob and gives actual against expected.
 */
public final class CustodyException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Why. */
  public enum Reason {
    /** No custody blob with bytes under this fingerprint (never held, delivered, evicted or quarantined). */
    NOT_FOUND,
    /** The blob's custody expiry has passed: it is never served. */
    EXPIRED,
    /** Forward-once: a blob leaves only towards the locator in its own header. */
    WRONG_LOCATOR,
    /** A forward of this blob is already in progress; a blob has at most one at a time. */
    ALREADY_FORWARDING,
    /** The forward handle was already finished (delivered, failed or closed). */
    FORWARD_FINISHED,
    /** The custodian was closed. */
    CLOSED,
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

  public Reason reason() {
    return reason;
  }
}
