package io.crowdbackup.api.policy;

import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Objects;

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
  private final Duration timeout;
  private final long bytesPerSecond;

  public ThrottleTimeoutException(String throttle, long requestedBytes, Duration timeout, long bytesPerSecond) {
    super(throttle + ": " + requestedBytes + " bytes cannot be granted within " + Objects.requireNonNull(timeout,
        "timeout").toMillis() + " ms at " + bytesPerSecond + " bytes/s");
    this.requestedBytes = requestedBytes;
    this.timeout = timeout;
    this.bytesPerSecond = bytesPerSecond;
  }

  /** The bytes asked for. */
  public long requestedBytes() {
    return requestedBytes;
  }

  /** The time the caller was willing to wait. */
  public Duration timeout() {
    return timeout;
  }

  /** The sustained rate of the bucket that refused, bytes per second. */
  public long bytesPerSecond() {
    return bytesPerSecond;
  }
}
