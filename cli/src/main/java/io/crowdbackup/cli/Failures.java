package io.crowdbackup.cli;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.custody.CustodyException;
import io.crowdbackup.engine.inbox.InboxException;
import io.crowdbackup.engine.inbox.SafeFiles;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.List;

/** Turns exceptions into the one line and exit code a user sees. */
final class Failures {
  private Failures() {}

  /** Any failure while working on {@code file} (an input, an envelope, an output). */
  static CliException of(Path file, Throwable t) {
    if (t instanceof CliException) {
      return (CliException) t;
    }
    if (t instanceof EnvelopeException) {
      EnvelopeException e = (EnvelopeException) t;
      return new CliException(ExitCodes.ENVELOPE_REJECTED, e.reason().name(), str(file),
          "envelope rejected: " + file + ": " + e.getMessage(), e);
    }
    if (t instanceof InboxException) {
      InboxException e = (InboxException) t;
      int code = e.reason() == InboxException.Reason.LEDGER_CORRUPT ? ExitCodes.STATE : ExitCodes.IO;
      return new CliException(code, e.reason().name(), str(e.path() == null ? file : e.path()),
          "inbox: " + e.getMessage(), e);
    }
    if (t instanceof RefusalException) {
      return refused(file, ((RefusalException) t).refusal());
    }
    if (t instanceof ReceiptException) {
      ReceiptException e = (ReceiptException) t;
      return new CliException(ExitCodes.REFUSED, e.reason().name(), str(file),
          "receipt refused: " + file + ": " + e.getMessage(), e);
    }
    if (t instanceof StoreException) {
      return store(file, (StoreException) t);
    }
    if (t instanceof CustodyException) {
      CustodyException e = (CustodyException) t;
      int code;
      switch (e.reason()) {
        case WRONG_LOCATOR:
          code = ExitCodes.REFUSED;
          break;
        case ALREADY_FORWARDING:
        case CLOCK_FILE_DAMAGED:
          code = ExitCodes.STATE;
          break;
        default:
          code = ExitCodes.INTERNAL;
          break;
      }
      return new CliException(code, e.reason().name(), str(file), "store: " + e.getMessage(), e);
    }
    if (t instanceof IOException) {
      return io(file, (IOException) t);
    }
    return new CliException(ExitCodes.INTERNAL, "INTERNAL", str(file),
        "internal error while processing " + file + ": " + t + " (rerun with --verbose and report it)", t);
  }

  /** An offer the holder's policy refused: exit 7, with the refusal's numbers as JSON details. */
  static CliException refused(Object file, Refusal r) {
    CliException e = new CliException(ExitCodes.REFUSED, r.reason().name(), str(file),
        "refused: " + (file == null ? "" : file + ": ") + r.reason() + ": " + r.message(), null);
    if (r.bytesFree() != Refusal.NOT_APPLICABLE) {
      e.detail("bytesFree", r.bytesFree());
    }
    if (r.acceptableBytes() != Refusal.NOT_APPLICABLE) {
      e.detail("acceptableBytes", r.acceptableBytes());
    }
    if (r.longestRetentionSeconds() != Refusal.NOT_APPLICABLE) {
      e.detail("longestRetentionSeconds", r.longestRetentionSeconds());
    }
    if (r.counterOfferExpiresAtEpochSecond() != Refusal.NOT_APPLICABLE) {
      e.detail("counterOfferExpiresAtEpochSecond", r.counterOfferExpiresAtEpochSecond());
    }
    return e;
  }

  /** A custody store failure, by what the user should look at. */
  static CliException store(Path file, StoreException e) {
    int code;
    switch (e.reason()) {
      case LOCKED_BY_OTHER_PROCESS:
      case UNSUPPORTED_FORMAT:
      case UNSAFE_LINK:
      case CORRUPT:
      case ILLEGAL_STATE_TRANSITION:
        code = ExitCodes.STATE;
        break;
      case DUPLICATE:
      case DELIVERED:
      case PAST_EXPIRY:
        code = ExitCodes.REFUSED;
        break;
      case NOT_FOUND:
      case DISK_FULL:
      case PERMISSION_DENIED:
      case IO_ERROR:
        code = ExitCodes.IO;
        break;
      default:
        code = ExitCodes.INTERNAL;
        break;
    }
    String reason = e.reason() == StoreException.Reason.LOCKED_BY_OTHER_PROCESS ? "LOCKED" : e.reason().name();
    return new CliException(code, reason, e.path() != null ? e.path() : str(file), "store: " + e.getMessage(), e);
  }

  /**
   * Fails with NOT_FOUND (or NOT_A_FILE for a folder) unless every input exists: checked before a command
   * creates any folder, store or file.
   */
  static void requireInputs(List<Path> inputs) throws CliException {
    for (Path p : inputs) {
      if (!Files.exists(p)) {
        throw new CliException(ExitCodes.IO, "NOT_FOUND", p.toString(), p + ": no such file or folder", null);
      }
      if (Files.isDirectory(p)) {
        throw new CliException(ExitCodes.IO, "NOT_A_FILE", p.toString(), p + ": not a regular file", null);
      }
    }
  }

  /**
   * An I/O failure, worded by what happened rather than by the exception's class. A failure on one of the
   * CLI's temporary files is reported as its folder (the {@code --out} or {@code --dir} the user gave).
   */
  static CliException io(Path file, IOException e) {
    String what;
    String reason;
    String path = e instanceof FileSystemException && ((FileSystemException) e).getFile() != null
        ? ((FileSystemException) e).getFile() : str(file);
    String context = "";
    if (path != null) {
      Path p = Path.of(path);
      if (p.getFileName() != null && TempFiles.OURS.matcher(p.getFileName().toString()).matches()) {
        path = p.getParent() == null ? "." : p.getParent().toString();
        context = " (writing a temporary file there)";
      }
    }
    if (e instanceof NoSuchFileException) {
      what = "no such file or folder";
      reason = "NOT_FOUND";
    } else if (e instanceof AccessDeniedException) {
      what = "permission denied";
      reason = "PERMISSION_DENIED";
    } else if (e instanceof FileAlreadyExistsException) {
      what = "already exists";
      reason = "EXISTS";
    } else if (e instanceof NotDirectoryException) {
      what = "not a folder";
      reason = "NOT_A_FOLDER";
    } else if (e instanceof DirectoryNotEmptyException) {
      what = "folder not empty";
      reason = "NOT_EMPTY";
    } else if (SafeFiles.isDiskFull(e)) {
      what = "no space left on device";
      reason = "DISK_FULL";
    } else {
      what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      reason = "IO";
      if (e instanceof FileSystemException && ((FileSystemException) e).getReason() != null) {
        what = ((FileSystemException) e).getReason();
      }
    }
    return new CliException(ExitCodes.IO, reason, path, path + ": " + what + context, e);
  }

  private static String str(Object o) {
    return o == null ? null : o.toString();
  }
}
