package io.crowdbackup.api.policy;

/**
 * The one way to give CrowdBackup time (a holder's {@code HolderConfig}, an inbox): where code reads the
 * time and how it waits on it: a monotonic clock for rates and deadlines, and the wall clock for
 * expiry. Injected everywhere so that tests drive time by hand and never sleep.
 *
 * <p>The two clocks answer different questions and must not be mixed. {@link #monotonicNanos()} only
 * ever moves forward at the rate of real time within one process, but its origin is arbitrary and it
 * restarts with the process: use it for rates (token buckets) and timeouts. {@link #epochMillis()} is
 * comparable across processes and devices but can jump backwards or forwards when the user or NTP sets
 * the clock: use it only where a time must survive a restart (expiry), and through a guard that decides
 * what a jump means (the engine's {@code CustodyClock} ignores jumps while the process runs).
 */
public interface TimeSource {
  /** A monotonic reading in nanoseconds; only differences between readings are meaningful. */
  long monotonicNanos();

  /** The wall clock, milliseconds since 1970-01-01T00:00:00Z. May jump. */
  long epochMillis();

  /** The wall clock in whole seconds since the epoch (rounded down). */
  default long epochSecond() {
    return Math.floorDiv(epochMillis(), 1000L);
  }

  /**
   * Waits about {@code nanos} (possibly less, possibly more) on this clock: what a bandwidth throttle does
   * while it waits for tokens. The system's sleeps the thread; a test's or a simulation's advances its own
   * clock and returns at once, so blocking code runs without waiting.
   *
   * @throws InterruptedException if the thread is interrupted
   */
  default void sleepNanos(long nanos) throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    java.util.concurrent.TimeUnit.NANOSECONDS.sleep(nanos);
  }

  /** The process's clocks: {@link System#nanoTime()} and {@link System#currentTimeMillis()}. */
  static TimeSource system() {
    return SystemTimeSource.INSTANCE;
  }
}
