package io.crowdbackup.api;

import java.util.Objects;

/** A receipt or release was refused. The blob it names stays where it is. */
public class ReceiptException extends CrowdBackupException {
  private static final long serialVersionUID = 1L;

  /** Why it was refused. */
  public enum Reason {
    /** Not the receipt encoding: wrong magic, wrong length or an undefined kind. */
    RECEIPT_MALFORMED,
    /** A receipt format version newer than this reader understands. */
    RECEIPT_VERSION_TOO_NEW,
    /** A receipt format version older than any this reader supports. */
    RECEIPT_VERSION_TOO_OLD,
    /** It names another envelope. */
    WRONG_FINGERPRINT,
    /** Its signer is not the key the envelope's header names for that kind. */
    WRONG_SIGNER,
    /** A release where a receipt was required, or the reverse. */
    WRONG_KIND,
    /** The Ed25519 signature does not verify. */
    BAD_SIGNATURE
  }

  private final Reason reason;

  public ReceiptException(Reason reason, String message) {
    super(reason + ": " + message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  @Override
  public Reason reason() {
    return reason;
  }
}
