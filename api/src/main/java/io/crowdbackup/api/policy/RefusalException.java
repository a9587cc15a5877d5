package io.crowdbackup.api.policy;

import io.crowdbackup.api.CrowdBackupException;
import java.util.Objects;

/**
 * An offer was refused; {@link #refusal()} says why and what would be accepted. Nothing was stored or
 * reserved.
 *
 * <p>A refusal is an expected answer, not a fault, so the exception records no stack trace: refusing a
 * flood of offers stays cheap.
 */
public final class RefusalException extends CrowdBackupException {
  private static final long serialVersionUID = 1L;

  private final transient Refusal refusal;

  public RefusalException(Refusal refusal) {
    this(refusal, null);
  }

  /**
   * A refusal with the local failure behind it: the cause (which may name this device's files) is for the
   * local log only; what travels to the peer is {@link #refusal()}.
   */
  public RefusalException(Refusal refusal, Throwable localCause) {
    super(Objects.requireNonNull(refusal, "refusal").reason() + ": " + refusal.message(), localCause);
    this.refusal = refusal;
  }

  /** No stack trace: a refusal is an answer, and refusing a flood of offers must stay cheap. */
  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }

  public Refusal refusal() {
    return refusal;
  }

  /** Shorthand for {@code refusal().reason()}. */
  @Override
  public Refusal.Reason reason() {
    return refusal.reason();
  }
}
