package io.crowdbackup.engine.inbox;

import io.crowdbackup.api.CrowdBackupException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The inbox itself failed, as opposed to the envelope being rejected (that is an
 * {@link io.crowdbackup.api.EnvelopeException}, passed through unchanged). Names the path involved and a
 * reason a program can act on. After any of these the inbox is still consistent: nothing half-written is
 * visible under a final name, and the ledger holds only whole records.
 */
public class InboxException extends CrowdBackupException {
  private static final long serialVersionUID = 1L;

  /** Why the inbox failed. */
  public enum Reason {
    /** Another process (or another {@link Inbox} in this one) holds the inbox folder's lock. */
    LOCKED,
    /** The delivered-ledger is damaged beyond a torn last record; it is left untouched for inspection. */
    LEDGER_CORRUPT,
    /** Reading or writing the ledger, a temporary file or the folder failed (permissions, I/O). */
    IO,
    /** The device has no space left for a delivery's file or the ledger; nothing was published. */
    DISK_FULL,
    /** Every clash suffix for a name up to {@code (9999)} is taken. */
    NAMES_EXHAUSTED,
    /** The inbox was closed. */
    CLOSED
  }

  private final Reason reason;
  private final transient Path path;

  public InboxException(Reason reason, Path path, String message) {
    this(reason, path, message, null);
  }

  public InboxException(Reason reason, Path path, String message, Throwable cause) {
    super(reason + ": " + path + ": " + message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.path = path;
  }

  /** An I/O failure: {@link Reason#DISK_FULL} when the device ran out of space, else {@link Reason#IO}. */
  static InboxException io(Path path, String message, IOException cause) {
    return new InboxException(AtomicFiles.isDiskFull(cause) ? Reason.DISK_FULL : Reason.IO, path, message, cause);
  }

  @Override
  public Reason reason() {
    return reason;
  }

  /** The file or folder the failure concerns. */
  public Path path() {
    return path;
  }
}
