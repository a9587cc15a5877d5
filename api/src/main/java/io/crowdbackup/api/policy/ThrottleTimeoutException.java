package io.crowdbackup.api.policy;

import java.io.InterruptedIOException;

/**
 * A bandwidth throttle could not grant bytes before the caller's deadline. Nothing was granted.
 *
 * <p>It is an {@link InterruptedIOException} (like {@code SocketTimeoutException}) so that throttled
 * streams can throw it from {@code read} and {@code write}; after it, such a stream's position is
 * undefined and it should be closed.
 */
public final class ThrottleTimeoutException extends InterruptedIOException {
  private static final long serialVersionUID = 1L;

  private final long requestedBytes;
  private final long timeoutNanos;
  private final long bytesPerSecond;

  public ThrottleTimeoutException(String throttle, long requestedBytes, long timeoutNanos, long bytesPerSecond) {
    super(throttle + ": " + requestedBytes + " bytes cannot be granted within " + timeoutNanos
        + " ns at " + bytesPerSecond + " bytes/s");
    this.requestedBytes = requestedBytes;
    this.timeoutNanos = timeoutNanos;
    this.bytesPerSecond = bytesPerSecond;
  }

  /** The bytes asked for. */
  public long requestedBytes() {
    return requestedBytes;
  }

  /** The time the caller was willing to wait, in nanoseconds. */
  public long timeoutNanos() {
    return timeoutNanos;
  }

  /** The sustained rate of the bucket that refused, bytes per second. */
  public long bytesPerSecond() {
    return bytesPerSecond;
  }
}
