package io.crowdbackup.engine.policy;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.ThrottleTimeoutException;
import io.crowdbackup.api.policy.TimeSource;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A lock-free token bucket whose whole state is one {@code long}, updated by compare-and-set.
 *
 * <h2>How it counts</h2>
 * Time is measured in <em>bytes</em>: {@code T(t) = floor((t - origin) * rate / 1e9)} is how many bytes
 * the rate has allowed since the bucket was made. The state is the "theoretical arrival time"
 * {@code tat} (the generic cell rate algorithm, GCRA, which is exactly a token bucket): the bucket holds
 * {@code burst - max(0, tat - T)} tokens, and a grant of {@code n} bytes moves
 * {@code tat := max(tat, T) + n}, allowed only if {@code tat - T <= burst}. One read of the clock, one
 * CAS, no allocation, no lock.
 *
 * <h2>Why it is exact from 1 B/s to 16 GiB/s</h2>
 * {@code T(t)} is recomputed from the elapsed nanoseconds on every call, never accumulated, so rounding
 * cannot drift. It is evaluated in integers without overflow by splitting the elapsed time into whole
 * seconds {@code q} and nanoseconds {@code r < 1e9}, and the rate into {@code a = rate / 1e9} and
 * {@code b = rate % 1e9}: {@code T = q*rate + r*a + floor(r*b / 1e9)}, where {@code r*b < 1e18}. The
 * first term limits a bucket's life to about {@code 2^63 / rate} seconds: 17 years at
 * {@link RateLimit#MAX_BYTES_PER_SECOND}; after that {@code T} stops and the bucket grants nothing
 * more (it never wraps into granting more). No floating point decides a grant; a double is only used to guess how long to
 * sleep, and the wait re-checks exactly after waking.
 *
 * <h2>Large requests</h2>
 * A single grant is at most the burst ({@link #maxGrantBytes()}); a bigger request is an
 * {@link IllegalArgumentException} rather than a silent overdraft ("pay later", as Guava's
 * {@code RateLimiter} does) or a request that can never succeed. Callers split (see {@link Throttled}).
 *
 * <h2>Blocking</h2>
 * {@link #acquire} reserves its bytes in the same CAS (moving {@code tat}) and then sleeps until the
 * reservation is covered, so waiters are served in reservation order and each one moves its bytes only
 * once the rate has paid for them. A reservation is made only if it can be covered before the deadline.
 */
public final class TokenBucket implements Throttle {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;
  /** Returned by {@link #reserve} when the bytes cannot be covered by the deadline. */
  static final long NOT_BY_DEADLINE = Long.MIN_VALUE;
  /**
   * Byte-time at the end of a bucket's life. Headroom above it keeps {@code tat}, which runs at most a
   * burst ({@link RateLimit#MAX_BURST_BYTES}) past the byte-time, from overflowing.
   */
  private static final long END_OF_LIFE = Long.MAX_VALUE - (1L << 42);

  private final String name;
  private final long rateBytesPerSecond;
  private final long rateGigaPart;
  private final long rateSubGigaPart;
  private final long burstBytes;
  /** Whole seconds after origin beyond which byte-time would overflow; precomputed to keep a division off the fast path. */
  private final long lastExactSecond;
  private final TimeSource time;
  private final Sleeper sleeper;
  private final long originNanos;
  /** Theoretical arrival time, in bytes since origin. */
  private final AtomicLong tat;

  private TokenBucket(String name, RateLimit limit, TimeSource time, Sleeper sleeper, boolean startFull) {
    this.name = Objects.requireNonNull(name, "name");
    this.rateBytesPerSecond = limit.bytesPerSecond();
    this.rateGigaPart = rateBytesPerSecond / NANOS_PER_SECOND;
    this.rateSubGigaPart = rateBytesPerSecond % NANOS_PER_SECOND;
    this.burstBytes = limit.burstBytes();
    this.lastExactSecond = (END_OF_LIFE - 2 * NANOS_PER_SECOND * (rateGigaPart + 1)) / rateBytesPerSecond;
    this.time = Objects.requireNonNull(time, "time");
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    this.originNanos = time.monotonicNanos();
    // T(origin) = 0. Full: tat = 0 (<= T). Empty: tat = burst, so the first token arrives one byte-time later.
    this.tat = new AtomicLong(startFull ? 0L : burstBytes);
  }

  /** A bucket that starts with its whole burst available, on the system clock. */
  public static TokenBucket full(String name, RateLimit limit) {
    return new TokenBucket(name, limit, TimeSource.system(), Sleeper.system(), true);
  }

  /**
   * A bucket on the given clock.
   *
   * @param name names the bucket in errors, e.g. "ingress global" or "egress peer 3f2a…"
   * @param startFull whether the burst is available at once; a bucket made for a peer whose earlier
   *     bucket may have been evicted must start empty, or eviction would hand that peer a fresh burst
   */
  public static TokenBucket create(String name, RateLimit limit, TimeSource time, Sleeper sleeper,
      boolean startFull) {
    return new TokenBucket(name, limit, time, sleeper, startFull);
  }

  /** Bytes the rate has allowed since origin at monotonic time {@code nanos}, saturating. */
  long byteTimeAt(long nanos) {
    long elapsed = nanos - originNanos;
    if (elapsed <= 0) {
      return 0L;
    }
    long seconds = elapsed / NANOS_PER_SECOND;
    long subSecondNanos = elapsed % NANOS_PER_SECOND;
    if (seconds > lastExactSecond) {
      return END_OF_LIFE; // beyond the bucket's life: time stops, so nothing more is granted; never wraps
    }
    return seconds * rateBytesPerSecond
        + subSecondNanos * rateGigaPart
        + (subSecondNanos * rateSubGigaPart) / NANOS_PER_SECOND;
  }

  @Override
  public boolean tryAcquire(long bytes) {
    return tryTake(bytes) != NOT_BY_DEADLINE;
  }

  /**
   * {@link #tryAcquire} that returns the new state on success (for {@link #undoTake}) or
   * {@link #NOT_BY_DEADLINE}.
   */
  long tryTake(long bytes) {
    checkBytes(bytes, burstBytes, name);
    long now = byteTimeAt(time.monotonicNanos());
    // A retry reuses the first clock reading: a stale "now" only ever sees fewer tokens.
    for (;;) {
      long current = tat.get();
      long next = Math.max(current, now) + bytes;
      if (next - now > burstBytes) {
        return NOT_BY_DEADLINE;
      }
      if (tat.compareAndSet(current, next)) {
        return next;
      }
    }
  }

  /**
   * Gives back a grant of {@code bytes} that moved the state to {@code stateAfter}, but only if nothing
   * happened since; otherwise the grant is forfeit. An unconditional refund could hand out more than
   * the rate: if the bucket refilled past the grant in between, the refund would add tokens the bucket
   * never had room for.
   */
  boolean undoTake(long stateAfter, long bytes) {
    return tat.compareAndSet(stateAfter, stateAfter - bytes);
  }

  @Override
  public void acquire(long bytes, long timeoutNanos) throws ThrottleTimeoutException, InterruptedException {
    long coveredAt = reserve(bytes, time.monotonicNanos(), timeoutNanos);
    if (coveredAt == NOT_BY_DEADLINE) {
      throw new ThrottleTimeoutException(name, bytes, Duration.ofNanos(timeoutNanos), rateBytesPerSecond);
    }
    awaitCovered(coveredAt);
  }

  /**
   * Reserves {@code bytes} if they can be covered within {@code timeoutNanos} of {@code startNanos}.
   *
   * @return the byte-time at which the reservation is covered (pass it to {@link #awaitCovered}), or
   *     {@link #NOT_BY_DEADLINE} with nothing reserved
   */
  long reserve(long bytes, long startNanos, long timeoutNanos) {
    checkBytes(bytes, burstBytes, name);
    if (timeoutNanos < 0) {
      throw new IllegalArgumentException(name + ": timeoutNanos must not be negative but was " + timeoutNanos);
    }
    long now = byteTimeAt(startNanos);
    // "No timeout" still ends with the bucket's life, so a caller cannot wait on a time that never comes.
    long deadline = timeoutNanos >= Long.MAX_VALUE / 4
        ? END_OF_LIFE
        : byteTimeAt(startNanos + timeoutNanos);
    for (;;) {
      long current = tat.get();
      long next = Math.max(current, now) + bytes;
      long coveredAt = next - burstBytes;
      if (coveredAt > deadline) {
        return NOT_BY_DEADLINE;
      }
      if (tat.compareAndSet(current, next)) {
        return coveredAt;
      }
    }
  }

  /** Sleeps until the bucket's byte-time reaches {@code coveredAt}. */
  void awaitCovered(long coveredAt) throws InterruptedException {
    for (;;) {
      long now = byteTimeAt(time.monotonicNanos());
      if (now >= coveredAt) {
        return;
      }
      sleeper.sleepNanos(nanosFor(coveredAt - now));
    }
  }

  /** A sleep guess for {@code bytes} of byte-time; exactness is re-checked after waking. */
  private long nanosFor(long bytes) {
    double nanos = Math.ceil((double) bytes * NANOS_PER_SECOND / rateBytesPerSecond);
    return nanos >= 1e15 ? 1_000_000_000_000_000L : Math.max(1L, (long) nanos);
  }

  /** Tokens available now, between 0 and the burst. */
  public long availableBytes() {
    long now = byteTimeAt(time.monotonicNanos());
    return burstBytes - Math.max(0L, Math.min(burstBytes, tat.get() - now));
  }

  @Override
  public long maxGrantBytes() {
    return burstBytes;
  }

  public long bytesPerSecond() {
    return rateBytesPerSecond;
  }

  public String name() {
    return name;
  }

  static void checkBytes(long bytes, long maxBytes, String name) {
    if (bytes < 0 || bytes > maxBytes) {
      throw new IllegalArgumentException(name + ": a grant must be between 0 and " + maxBytes
          + " bytes (the burst; split larger transfers) but was " + bytes);
    }
  }

  @Override
  public String toString() {
    return "TokenBucket{" + name + ", bytesPerSecond=" + rateBytesPerSecond + ", burstBytes=" + burstBytes
        + ", availableBytes=" + availableBytes() + "}";
  }
}
