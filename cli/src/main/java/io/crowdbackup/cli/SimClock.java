package io.crowdbackup.cli;

import io.crowdbackup.api.policy.TimeSource;

/**
 * The demo's simulated time: one clock for every phone, home and token bucket of the venue. It moves only
 * when the simulation moves it ({@link #advanceToEpochSecond}) or when a bandwidth throttle "sleeps" (the
 * time a transfer would take on the radio), so a day of custody runs in seconds and every run with one seed
 * sees the same times. Thread-safe: the holder services and destination servers read it from their request
 * threads; the demo makes one request at a time, so the times stay the same on every run.
 */
final class SimClock implements TimeSource {
  private final long startEpochMillis;
  private long elapsedNanos;
  private long sleptNanos;

  SimClock(long startEpochSecond) {
    this.startEpochMillis = startEpochSecond * 1000;
  }

  @Override
  public synchronized long monotonicNanos() {
    return elapsedNanos;
  }

  @Override
  public synchronized long epochMillis() {
    return startEpochMillis + elapsedNanos / 1_000_000L;
  }

  /** A throttle waits for its bucket to refill: the radio is busy that long. */
  @Override
  public synchronized void sleepNanos(long nanos) {
    long n = Math.max(1, nanos);
    elapsedNanos += n;
    sleptNanos += n;
  }

  /** Moves time forward to {@code epochSecond}; never backwards. */
  synchronized void advanceToEpochSecond(long epochSecond) {
    long target = (epochSecond * 1000 - startEpochMillis) * 1_000_000L;
    if (target > elapsedNanos) {
      elapsedNanos = target;
    }
  }

  /** Simulated time spent waiting for bandwidth so far. */
  synchronized long throttledNanos() {
    return sleptNanos;
  }
}
