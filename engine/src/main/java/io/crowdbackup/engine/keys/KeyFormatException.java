package io.crowdbackup.engine.keys;

import io.crowdbackup.api.CrowdBackupException;
import java.util.Objects;

/** A key or card file could not be decoded; the message names the field and the problem. */
public final class KeyFormatException extends CrowdBackupException {
  private static final long serialVersionUID = 1L;

  /** Why. */
  public enum Reason {
    /** Longer than {@link Keys#MAX_FILE_BYTES}: not a key file, and never read whole. */
    KEY_FILE_TOO_LARGE,
    /** The first line is not the magic of the kind of file expected (a card where a key was wanted…). */
    WRONG_FILE_KIND,
    /** A line without a value, an unknown, repeated or missing field, or a value that is not 64 hex digits. */
    BAD_FIELD,
    /** A public key does not match the secret it was stored with (a damaged or edited file). */
    KEY_MISMATCH
  }

  private final Reason reason;

  /** {@code message} is for a person and is shown as is (a front-end names the file around it). */
  public KeyFormatException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  @Override
  public Reason reason() {
    return reason;
  }
}
