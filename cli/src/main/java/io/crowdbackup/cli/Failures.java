package io.crowdbackup.cli;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.engine.inbox.InboxException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

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
      int code = e.reason() == InboxException.Reason.LOCKED || e.reason() == InboxException.Reason.LEDGER_CORRUPT
          ? ExitCodes.STATE : ExitCodes.IO;
      return new CliException(code, e.reason().name(), str(e.path() == null ? file : e.path()),
          "inbox: " + e.getMessage(), e);
    }
    if (t instanceof IOException) {
      return io(file, (IOException) t);
    }
    return new CliException(ExitCodes.INTERNAL, "INTERNAL", str(file),
        "internal error while processing " + file + ": " + t + " (rerun with --verbose and report it)", t);
  }

  /** An I/O failure, worded by what happened rather than by the exception's class. */
  static CliException io(Path file, IOException e) {
    String what;
    String reason;
    String path = e instanceof FileSystemException && ((FileSystemException) e).getFile() != null
        ? ((FileSystemException) e).getFile() : str(file);
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
    } else if (String.valueOf(e.getMessage()).contains("No space left on device")) {
      what = "no space left on device";
      reason = "DISK_FULL";
    } else {
      what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      reason = "IO";
      if (e instanceof FileSystemException && ((FileSystemException) e).getReason() != null) {
        what = ((FileSystemException) e).getReason();
      }
    }
    return new CliException(ExitCodes.IO, reason, path, path + ": " + what, e);
  }

  private static String str(Object o) {
    return o == null ? null : o.toString();
  }
}
