package io.crowdbackup.engine.policy;

import io.crowdbackup.api.policy.ThrottleTimeoutException;

/**
 * Grants bytes at a shaped rate. A grant is paid before the bytes move ("no pay later"): a caller that
 * gets {@code true} or returns from {@link #acquire} may move that many bytes now.
 *
 * <p>One grant is at most {@link #maxGrantBytes()}, the burst of the tightest bucket behind the
 * throttle: a larger lump could never be covered without exceeding the rate over a short window. Move
 * more by splitting (the wrappers in {@link Throttled} do).
 */
public interface Throttle {
  /** Timeout value meaning "wait as long as it takes". */
  long NO_TIMEOUT = Long.MAX_VALUE;

  /**
   * Takes {@code bytes} if they are available now; never waits.
   *
   * @throws IllegalArgumentException if {@code bytes} is negative or above {@link #maxGrantBytes()}
   */
  boolean tryAcquire(long bytes);

  /**
   * Takes {@code bytes}, waiting until they are covered. Fails at once, taking nothing, when they cannot
   * be covered within {@code timeoutNanos}; the deadline is decided when the call starts, so a doomed
   * request does not sit out its timeout first.
   *
   * @param timeoutNanos how long the caller will wait; {@link #NO_TIMEOUT} for no limit, 0 to never wait
   * @throws ThrottleTimeoutException if the bytes cannot be covered in time; nothing was granted
   * @throws InterruptedException if interrupted while waiting; bytes reserved for the wait are forfeit
   *     (conservative: an interrupted caller never lets more through later)
   * @throws IllegalArgumentException if {@code bytes} is negative or above {@link #maxGrantBytes()}
   */
  void acquire(long bytes, long timeoutNanos) throws ThrottleTimeoutException, InterruptedException;

  /** The largest single grant. */
  long maxGrantBytes();

  /** A throttle that grants everything at once; for unshaped directions and tests. */
  static Throttle unlimited() {
    return Unlimited.INSTANCE;
  }

  /** {@link #unlimited()}. */
  final class Unlimited implements Throttle {
    static final Unlimited INSTANCE = new Unlimited();

    private Unlimited() {}

    @Override
    public boolean tryAcquire(long bytes) {
      TokenBucket.checkBytes(bytes, Long.MAX_VALUE, "unlimited");
      return true;
    }

    @Override
    public void acquire(long bytes, long timeoutNanos) {
      TokenBucket.checkBytes(bytes, Long.MAX_VALUE, "unlimited");
    }

    @Override
    public long maxGrantBytes() {
      return Long.MAX_VALUE;
    }

    @Override
    public String toString() {
      return "Throttle.unlimited()";
    }
  }
}
