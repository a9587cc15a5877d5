package io.crowdbackup.engine;

import java.io.InterruptedIOException;

/**
 * A {@link Transfer} was cancelled: the read or write that noticed it did not happen. An
 * {@link InterruptedIOException}, like a thread interrupted during I/O, so code that cleans up after an
 * I/O failure cleans up after a cancellation too.
 */
public final class TransferCancelledException extends InterruptedIOException {
  private static final long serialVersionUID = 1L;

  public TransferCancelledException(String message) {
    super(message);
  }
}
