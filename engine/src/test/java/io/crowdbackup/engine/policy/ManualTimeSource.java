package io.crowdbackup.engine.policy;

import io.crowdbackup.api.policy.TimeSource;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves only when told: {@link #advanceNanos} moves both clocks, {@link #jumpWallMillis}
 * only the wall clock (as NTP or a user would). As a {@link Sleeper}, "sleeping" advances the clock and
 * returns at once, so blocking code runs deterministically without waiting. Thread-safe.
 */
public final class ManualTimeSource implements TimeSource, Sleeper {
  private final AtomicLong monotonicNanos;
  private final AtomicLong epochNanos;
  private final AtomicLong sleptNanos = new AtomicLong();

  /** Starts at an arbitrary monotonic origin (not zero, to catch code that assumes it) and the given wall time. */
  public ManualTimeSource(long epochMillis) {
    this.monotonicNanos = new AtomicLong(-7_000_000_123L);
    this.epochNanos = new AtomicLong(epochMillis * 1_000_000L);
  }

  public ManualTimeSource() {
    this(1_790_000_000_000L);
  }

  @Override
  public long monotonicNanos() {
    return monotonicNanos.get();
  }

  @Override
  public long epochMillis() {
    return Math.floorDiv(epochNanos.get(), 1_000_000L);
  }

  /** Real time passes: both clocks move. */
  public void advanceNanos(long nanos) {
    if (nanos < 0) {
      throw new IllegalArgumentException("time does not run backwards: " + nanos);
    }
    monotonicNanos.addAndGet(nanos);
    epochNanos.addAndGet(nanos);
  }

  public void advanceMillis(long millis) {
    advanceNanos(millis * 1_000_000L);
  }

  public void advanceSeconds(long seconds) {
    advanceNanos(seconds * 1_000_000_000L);
  }

  /** The wall clock is set: only it moves, by {@code deltaMillis} (negative for backwards). */
  public void jumpWallMillis(long deltaMillis) {
    epochNanos.addAndGet(deltaMillis * 1_000_000L);
  }

  @Override
  public void sleepNanos(long nanos) throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    sleptNanos.addAndGet(nanos);
    advanceNanos(nanos);
  }

  /** Total nanoseconds "slept" through this clock. */
  public long sleptNanos() {
    return sleptNanos.get();
  }
}
