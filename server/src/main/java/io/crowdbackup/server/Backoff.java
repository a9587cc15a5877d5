package io.crowdbackup.server;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Retry timing towards one peer: exponential backoff with full jitter (a wait drawn uniformly from
 * {@code [0, min(cap, base * 2^attempt)]}, so that many holders coming home at once do not retry in step),
 * and a peer's {@code Retry-After} taken as the least wait, bounded by the cap. Immutable.
 */
public final class Backoff {
  /** 5 attempts, 200 ms base, 30 s cap. */
  public static final Backoff DEFAULT = new Backoff(5, Duration.ofMillis(200), Duration.ofSeconds(30));

  private final int maxAttempts;
  private final Duration base;
  private final Duration cap;

  public Backoff(int maxAttempts, Duration base, Duration cap) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1 but was " + maxAttempts);
    }
    this.maxAttempts = maxAttempts;
    this.base = Objects.requireNonNull(base, "base");
    this.cap = Objects.requireNonNull(cap, "cap");
    if (base.isNegative() || cap.compareTo(base) < 0) {
      throw new IllegalArgumentException("need 0 <= base <= cap but base was " + base + " and cap " + cap);
    }
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  /** The wait before attempt {@code attempt + 1} (attempt counts from 0), given the peer's hint or null. */
  public Duration delay(int attempt, Duration retryAfter) {
    long ceiling = Math.min(cap.toMillis(), base.toMillis() << Math.min(attempt, 20));
    long jittered = ceiling <= 0 ? 0 : ThreadLocalRandom.current().nextLong(ceiling + 1);
    long hinted = retryAfter == null ? 0 : Math.min(retryAfter.toMillis(), cap.toMillis());
    return Duration.ofMillis(Math.max(jittered, hinted));
  }

  /** Sleeps {@link #delay}; false if interrupted (the interrupt is kept). */
  boolean sleep(int attempt, Duration retryAfter) {
    try {
      Thread.sleep(delay(attempt, retryAfter).toMillis());
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** One attempt of something retried against one peer. */
  interface Attempt<T> {
    T run() throws IOException;
  }

  /**
   * A failure that is the final answer: not retried (a receipt that did not verify, a refusal).
   */
  static final class Final extends IOException {
    private static final long serialVersionUID = 1L;

    Final(String message) {
      super(message);
    }
  }

  /**
   * Runs {@code attempt} until it succeeds, fails for good ({@link #retryable}), or {@link #maxAttempts()}
   * are spent, sleeping {@link #delay} between attempts.
   *
   * @throws IOException the last failure
   */
  <T> T run(Attempt<T> attempt) throws IOException {
    IOException last = null;
    for (int i = 0; i < maxAttempts; i++) {
      if (i > 0 && !sleep(i - 1, retryAfterOf(last))) {
        break;
      }
      try {
        return attempt.run();
      } catch (IOException e) {
        last = e;
        if (!retryable(e)) {
          break;
        }
      }
    }
    throw last != null ? last : new java.io.InterruptedIOException("interrupted before the first attempt");
  }

  /** Whether a failure may go away if the same request is made to the same peer again. */
  static boolean retryable(Exception e) {
    if (e instanceof Final || e instanceof io.crowdbackup.engine.custody.CustodyException) {
      return false; // a final answer, or this device's own state (expired, being forwarded): same next time
    }
    if (e instanceof ProtocolFailure) {
      ProtocolFailure f = (ProtocolFailure) e;
      return f.retryable() || f.is(io.crowdbackup.engine.protocol.Problem.Type.OFFSET_MISMATCH)
          || f.is(io.crowdbackup.engine.protocol.Problem.Type.CHECKSUM_MISMATCH);
    }
    return e instanceof java.io.IOException && !(e instanceof java.io.InterruptedIOException);
  }

  static Duration retryAfterOf(Exception e) {
    return e instanceof ProtocolFailure ? ((ProtocolFailure) e).retryAfter() : null;
  }
}
