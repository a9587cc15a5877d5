package io.crowdbackup.engine.inbox;

import io.crowdbackup.api.CrowdBackupException;
import io.crowdbackup.api.store.StoreException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The inbox itself failed in a way only an inbox can, as opposed to the envelope being rejected (that is
 * an {@link io.crowdbackup.api.EnvelopeException}, passed through unchanged). Names the path involved and a
 * reason a program can act on. After any of these the inbox is still consistent: nothing half-written is
 * visible under a final name, and the ledger holds only whole records.
 *
 * <p>The inbox is a destination's store of opened files: a failure of its storage (the folder locked by
 * another process, a full disk, an I/O error, a closed inbox) is the storage concern's
 * {@link StoreException} ({@code LOCKED_BY_OTHER_PROCESS}, {@code DISK_FULL}, {@code IO_ERROR},
 * {@code CLOSED}) with the path, the same reason a front-end already handles for its custody store.
 */
public class InboxException extends CrowdBackupException {
  private static final long serialVersionUID = 1L;

  /** Why the inbox failed. */
  public enum Reason {
    /** The delivered-ledger is damaged beyond a torn last record; it is left untouched for inspection. */
    LEDGER_CORRUPT,
    /** Every clash suffix for a name up to {@code (9999)} is taken. */
    NAMES_EXHAUSTED
  }

  private final Reason reason;
  private final transient Path path;

  public InboxException(Reason reason, Path path, String message) {
    this(reason, path, message, null);
  }

  public InboxException(Reason reason, Path path, String message, @Nullable Throwable cause) {
    super(reason + ": " + path + ": " + message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.path = path;
  }

  /**
   * An I/O failure of the inbox's storage: {@link StoreException.Reason#DISK_FULL} when the device ran out
   * of space, else {@link StoreException.Reason#IO_ERROR}; nothing was published.
   */
  static StoreException io(Path path, String message, IOException cause) {
    return new StoreException(AtomicFiles.isDiskFull(cause) ? StoreException.Reason.DISK_FULL
        : StoreException.Reason.IO_ERROR, path.toString(), "inbox: " + message, cause);
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
