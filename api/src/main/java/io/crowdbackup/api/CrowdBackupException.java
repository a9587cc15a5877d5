package io.crowdbackup.api;

import java.io.IOException;

/**
 * The one exception family of CrowdBackup: every refusal and failure the library reports on purpose is one
 * of these, so a front-end that forwards, stores or opens a blob catches this one type (it is an
 * {@link IOException}, so code that only cares "it failed" needs nothing more).
 *
 * <p>Each concern has its subclass and its own reason enum, and no reason name appears in two of them:
 * {@link EnvelopeException} (the format), {@link ReceiptException} (receipts and releases),
 * {@code RefusalException} (a holder's "no" to an offer, whose reasons travel to peers),
 * {@code StoreException} (the custody store), and in the engine the custodian's, the inbox's and the key
 * files'. {@link #reason()} is what a program switches on; the message is for a person and names the
 * resource and actual against expected.
 */
public abstract class CrowdBackupException extends IOException {
  private static final long serialVersionUID = 1L;

  protected CrowdBackupException(String message) {
    super(message);
  }

  protected CrowdBackupException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Why; each subclass narrows this to its own enum. */
  public abstract Enum<?> reason();
}
