package io.crowdbackup.api.policy;

import org.jspecify.annotations.Nullable;

/**
 * A token-bucket setting: a sustained rate and the largest burst, both in bytes. Immutable.
 *
 * <p>Over any interval of {@code t} seconds a bucket with this setting lets through at most
 * {@code burstBytes + t * bytesPerSecond} bytes. The burst is also the largest single grant: a bigger
 * transfer is split into pieces of at most {@code burstBytes}, each paid for before it moves.
 */
public final class RateLimit {
  /** Slowest supported rate: 1 byte per second. */
  public static final long MIN_BYTES_PER_SECOND = 1L;
  /**
   * Fastest supported rate, 16 GiB/s. The bound keeps the engine's integer arithmetic exact: a bucket
   * counts time in bytes since it was made, which fits in a long for 2^63 / rate seconds (17 years here).
   */
  public static final long MAX_BYTES_PER_SECOND = 16L << 30;

  /** Largest burst, 1 TiB: far above any useful one, and it leaves the engine's arithmetic headroom. */
  public static final long MAX_BURST_BYTES = 1L << 40;

  private final long bytesPerSecond;
  private final long burstBytes;

  private RateLimit(long bytesPerSecond, long burstBytes) {
    this.bytesPerSecond = bytesPerSecond;
    this.burstBytes = burstBytes;
  }

  /**
   * A rate with an explicit burst.
   *
   * @throws IllegalArgumentException if the rate is outside [{@value #MIN_BYTES_PER_SECOND},
   *     {@value #MAX_BYTES_PER_SECOND}] or the burst outside [1, {@value #MAX_BURST_BYTES}]
   */
  public static RateLimit of(long bytesPerSecond, long burstBytes) {
    if (bytesPerSecond < MIN_BYTES_PER_SECOND || bytesPerSecond > MAX_BYTES_PER_SECOND) {
      throw new IllegalArgumentException("bytesPerSecond must be in [" + MIN_BYTES_PER_SECOND + ", "
          + MAX_BYTES_PER_SECOND + "] but was " + bytesPerSecond);
    }
    if (burstBytes <= 0 || burstBytes > MAX_BURST_BYTES) {
      throw new IllegalArgumentException("burstBytes must be in [1, " + MAX_BURST_BYTES + "] but was " + burstBytes);
    }
    return new RateLimit(bytesPerSecond, burstBytes);
  }

  /**
   * A rate whose burst is 100 ms of traffic, but at least 16 KiB so that slow links still move useful
   * pieces (at 1 KiB/s that is 16 s worth, which a token bucket by definition allows after an idle spell).
   */
  public static RateLimit perSecond(long bytesPerSecond) {
    return of(bytesPerSecond, Math.max(bytesPerSecond / 10, 16L * 1024));
  }

  public long bytesPerSecond() {
    return bytesPerSecond;
  }

  public long burstBytes() {
    return burstBytes;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof RateLimit
        && ((RateLimit) o).bytesPerSecond == bytesPerSecond
        && ((RateLimit) o).burstBytes == burstBytes;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(bytesPerSecond) * 31 + Long.hashCode(burstBytes);
  }

  @Override
  public String toString() {
    return "RateLimit{bytesPerSecond=" + bytesPerSecond + ", burstBytes=" + burstBytes + "}";
  }
}
