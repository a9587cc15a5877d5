package io.crowdbackup.api.policy;

import java.util.Objects;

/**
 * An offer was refused; {@link #refusal()} says why and what would be accepted. Nothing was stored or
 * reserved.
 *
 * <p>A refusal is an expected answer, not a fault, so the exception records no stack trace: refusing a
 * flood of offers stays cheap.
 */
public final class RefusalException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient Refusal refusal;

  public RefusalException(Refusal refusal) {
    super(Objects.requireNonNull(refusal, "refusal").reason() + ": " + refusal.message(), null, false, false);
    this.refusal = refusal;
  }

  public Refusal refusal() {
    return refusal;
  }

  /** Shorthand for {@code refusal().reason()}. */
  public Refusal.Reason reason() {
    return refusal.reason();
  }
}
