package io.crowdbackup.engine.policy;

import io.crowdbackup.api.policy.TimeSource;
import java.util.Objects;

/**
 * The wall-clock time custody expiry is measured in, guarded against clock jumps.
 *
 * <h2>Policy</h2>
 * <ul>
 *   <li><b>While the process runs, wall-clock jumps are ignored.</b> The time is anchored to the wall
 *       clock once, at start, and then advances with the monotonic clock: a jump backwards cannot keep
 *       expired data forever, and a jump forwards cannot drop unexpired data. The gap between this time
 *       and the wall clock is reported by {@link #wallClockSkewMillis()} for diagnosis.
 *   <li><b>Across a restart, time never moves backwards.</b> The anchor is the later of the wall clock
 *       and a high-water mark the store persists (the latest custody time it recorded, for example the
 *       newest acceptance or commit time in its records). A clock set back while the app was stopped
 *       therefore cannot resurrect expired data or extend a retention.
 *   <li><b>Across a restart, a forward jump is honoured.</b> Time that passed while the process was
 *       stopped can only be learned from the wall clock, and a forward jump then is indistinguishable
 *       from real elapsed time; blobs whose expiry it passes are expired. Retention is capped at
 *       acceptance ({@link RetentionPolicy}), so the damage of a wrong clock is bounded either way.
 * </ul>
 * Consequence: a custody blob is kept at most its granted retention of running time plus the wall-clock
 * time the device was off, and is never dropped before its expiry by a jump the process witnessed.
 */
public final class CustodyClock {
  private final TimeSource source;
  private final long anchorEpochMillis;
  private final long anchorMonotonicNanos;

  private CustodyClock(TimeSource source, long anchorEpochMillis) {
    this.source = source;
    this.anchorMonotonicNanos = source.monotonicNanos();
    this.anchorEpochMillis = anchorEpochMillis;
  }

  /**
   * Starts the custody clock.
   *
   * @param highWaterEpochSecond the latest custody time the store recorded before this start, or
   *     {@link Long#MIN_VALUE} for a new store
   */
  public static CustodyClock start(TimeSource source, long highWaterEpochSecond) {
    Objects.requireNonNull(source, "source");
    long wall = source.epochMillis();
    long highWaterMillis = highWaterEpochSecond <= Long.MIN_VALUE / 1000 ? Long.MIN_VALUE : highWaterEpochSecond * 1000;
    return new CustodyClock(source, Math.max(wall, highWaterMillis));
  }

  /** Custody time in milliseconds since the epoch; never decreases. */
  public long nowEpochMillis() {
    return anchorEpochMillis + (source.monotonicNanos() - anchorMonotonicNanos) / 1_000_000L;
  }

  /** Custody time in whole seconds since the epoch; never decreases. Persist it as the high-water mark. */
  public long nowEpochSecond() {
    return Math.floorDiv(nowEpochMillis(), 1000L);
  }

  /** How far the wall clock is ahead of custody time (negative when behind): the jumps ignored so far. */
  public long wallClockSkewMillis() {
    return source.epochMillis() - nowEpochMillis();
  }

  @Override
  public String toString() {
    return "CustodyClock{nowEpochMillis=" + nowEpochMillis() + ", wallClockSkewMillis=" + wallClockSkewMillis() + "}";
  }
}
