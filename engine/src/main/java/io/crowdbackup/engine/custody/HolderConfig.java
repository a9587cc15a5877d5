package io.crowdbackup.engine.custody;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.TimeSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a front-end decides about a holder: its folder, the bytes it gives to others and how they are
 * shared, how long it keeps envelopes, and its bandwidth. {@link Custodian#open(HolderConfig)} opens a
 * holder from it; everything else (the store, its index, the ledger, the custody clock) is the engine's.
 *
 * <p>The folder holds {@code blobs/} (the custody store) and {@code custody.clock} (the custody clock's
 * high-water mark, so that a clock set back while the app was stopped cannot extend retention).
 *
 * <p>Each setting may be given once: a second call fails and names the value already set, so one line of
 * a front-end's wiring never silently undoes another. {@link Builder#build()} checks the settings together
 * and leaves the builder unchanged. Immutable.
 */
public final class HolderConfig {
  /** The custody store's folder inside the holder's folder. */
  public static final String BLOBS_DIR = "blobs";
  /** The custody clock's high-water mark inside the holder's folder. */
  public static final String CLOCK_FILE = "custody.clock";
  /** How long a holder keeps an envelope unless told otherwise: 12 hours. */
  public static final Duration DEFAULT_MAX_RETENTION = Duration.ofHours(12);
  /** How long an upload may sit without a byte before it is dropped and its reservation freed: 6 hours. */
  public static final Duration DEFAULT_ABANDONED_UPLOAD_AFTER = Duration.ofHours(6);
  /**
   * How long a piece of an upload or a forward waits for bandwidth before it fails with
   * {@code ThrottleTimeoutException} (the peer then resumes): 30 seconds.
   */
  public static final Duration DEFAULT_BANDWIDTH_TIMEOUT = Duration.ofSeconds(30);

  private final Path directory;
  private final long limitBytes;
  private final int peerSharePercent;
  private final long maxEnvelopeBytes;
  private final Duration maxRetention;
  private final Duration abandonedUploadAfter;
  private final long checkpointEveryBytes;
  private final RateLimit ingressGlobal;
  private final RateLimit ingressPerPeer;
  private final RateLimit egressGlobal;
  private final RateLimit egressPerPeer;
  private final Duration ingressTimeout;
  private final Duration egressTimeout;
  private final TimeSource time;

  private HolderConfig(Builder b) {
    this.directory = b.directory;
    this.limitBytes = b.limitBytes;
    this.peerSharePercent = b.peerSharePercent == 0 ? 100 : b.peerSharePercent;
    this.maxEnvelopeBytes = b.maxEnvelopeBytes;
    this.maxRetention = b.maxRetention == null ? DEFAULT_MAX_RETENTION : b.maxRetention;
    this.abandonedUploadAfter = b.abandonedUploadAfter == null ? DEFAULT_ABANDONED_UPLOAD_AFTER
        : b.abandonedUploadAfter;
    this.checkpointEveryBytes = b.checkpointEveryBytes;
    // build() checked that the rates were set (each setter sets global and per-peer together).
    this.ingressGlobal = Objects.requireNonNull(b.ingressGlobal);
    this.ingressPerPeer = Objects.requireNonNull(b.ingressPerPeer);
    this.egressGlobal = Objects.requireNonNull(b.egressGlobal);
    this.egressPerPeer = Objects.requireNonNull(b.egressPerPeer);
    this.ingressTimeout = b.ingressTimeout == null ? DEFAULT_BANDWIDTH_TIMEOUT : b.ingressTimeout;
    this.egressTimeout = b.egressTimeout == null ? DEFAULT_BANDWIDTH_TIMEOUT : b.egressTimeout;
    this.time = b.time == null ? TimeSource.system() : b.time;
  }

  /** A builder for the holder kept in {@code directory} (created on open if missing). */
  public static Builder newBuilder(Path directory) {
    return new Builder(directory);
  }

  public Path directory() {
    return directory;
  }

  public long limitBytes() {
    return limitBytes;
  }

  public int peerSharePercent() {
    return peerSharePercent;
  }

  /** The largest envelope accepted, or 0 for "up to the limit". */
  public long maxEnvelopeBytes() {
    return maxEnvelopeBytes;
  }

  public Duration maxRetention() {
    return maxRetention;
  }

  public Duration abandonedUploadAfter() {
    return abandonedUploadAfter;
  }

  /** How many bytes an upload takes before it makes them durable on its own, or 0 for the store's default. */
  public long checkpointEveryBytes() {
    return checkpointEveryBytes;
  }

  public RateLimit ingressGlobal() {
    return ingressGlobal;
  }

  public RateLimit ingressPerPeer() {
    return ingressPerPeer;
  }

  public RateLimit egressGlobal() {
    return egressGlobal;
  }

  public RateLimit egressPerPeer() {
    return egressPerPeer;
  }

  /** How long a piece of an upload to this holder may wait for ingress bandwidth. */
  public Duration ingressTimeout() {
    return ingressTimeout;
  }

  /** How long a piece of a forward from this holder may wait for egress bandwidth. */
  public Duration egressTimeout() {
    return egressTimeout;
  }

  public TimeSource time() {
    return time;
  }

  @Override
  public String toString() {
    return "HolderConfig{directory=" + directory + ", limitBytes=" + limitBytes + ", peerSharePercent="
        + peerSharePercent + ", maxEnvelopeBytes=" + maxEnvelopeBytes + ", maxRetention=" + maxRetention + "}";
  }

  /** Fail-fast builder: a setting given twice or out of range fails at once, with the value. */
  public static final class Builder {
    private final Path directory;
    private long limitBytes;
    private int peerSharePercent;
    private long maxEnvelopeBytes;
    private @Nullable Duration maxRetention;
    private @Nullable Duration abandonedUploadAfter;
    private long checkpointEveryBytes;
    private @Nullable RateLimit ingressGlobal;
    private @Nullable RateLimit ingressPerPeer;
    private @Nullable RateLimit egressGlobal;
    private @Nullable RateLimit egressPerPeer;
    private @Nullable Duration ingressTimeout;
    private @Nullable Duration egressTimeout;
    private @Nullable TimeSource time;

    private Builder(Path directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
    }

    /** Bytes given to others, in-flight uploads included. Required. */
    public Builder limitBytes(long bytes) {
      requireUnset("limitBytes", limitBytes == 0, limitBytes);
      this.limitBytes = requirePositive("limitBytes", bytes);
      return this;
    }

    /** The most one source may use, percent of the limit, 1 to 100. Default 100. */
    public Builder peerSharePercent(int percent) {
      requireUnset("peerSharePercent", peerSharePercent == 0, peerSharePercent);
      if (percent < 1 || percent > 100) {
        throw new IllegalArgumentException("peerSharePercent must be in [1, 100] but was " + percent);
      }
      this.peerSharePercent = percent;
      return this;
    }

    /** The largest envelope accepted. Default: up to the limit. */
    public Builder maxEnvelopeBytes(long bytes) {
      requireUnset("maxEnvelopeBytes", maxEnvelopeBytes == 0, maxEnvelopeBytes);
      this.maxEnvelopeBytes = requirePositive("maxEnvelopeBytes", bytes);
      return this;
    }

    /** The longest an envelope is kept, whole seconds. Default {@link #DEFAULT_MAX_RETENTION}. */
    public Builder maxRetention(Duration retention) {
      requireUnset("maxRetention", maxRetention == null, maxRetention);
      this.maxRetention = requireWholePositiveSeconds("maxRetention", retention);
      return this;
    }

    /** How long an idle upload waits to be resumed. Default {@link #DEFAULT_ABANDONED_UPLOAD_AFTER}. */
    public Builder abandonedUploadAfter(Duration idle) {
      requireUnset("abandonedUploadAfter", abandonedUploadAfter == null, abandonedUploadAfter);
      this.abandonedUploadAfter = requireNotNegative("abandonedUploadAfter", idle);
      return this;
    }

    /**
     * How many bytes an upload takes before it makes them durable by itself (an fsync), which bounds what a
     * crash makes the sender re-send and how far apart the offsets a resumable upload reports are. Default:
     * the store's (8 MiB).
     */
    public Builder checkpointEveryBytes(long bytes) {
      requireUnset("checkpointEveryBytes", checkpointEveryBytes == 0, checkpointEveryBytes);
      this.checkpointEveryBytes = requirePositive("checkpointEveryBytes", bytes);
      return this;
    }

    /** Ingress shaping, for all peers together and for each one. Required. */
    public Builder ingress(RateLimit global, RateLimit perPeer) {
      requireUnset("ingress", ingressGlobal == null, ingressGlobal + "/" + ingressPerPeer);
      this.ingressGlobal = Objects.requireNonNull(global, "global");
      this.ingressPerPeer = Objects.requireNonNull(perPeer, "perPeer");
      return this;
    }

    /** Egress shaping (forwards home), for all and for each destination. Required. */
    public Builder egress(RateLimit global, RateLimit perPeer) {
      requireUnset("egress", egressGlobal == null, egressGlobal + "/" + egressPerPeer);
      this.egressGlobal = Objects.requireNonNull(global, "global");
      this.egressPerPeer = Objects.requireNonNull(perPeer, "perPeer");
      return this;
    }

    /**
     * How long a piece of an upload may wait for ingress bandwidth before the upload fails (left resumable);
     * zero fails at once when the budget is spent. Default {@link #DEFAULT_BANDWIDTH_TIMEOUT}.
     */
    public Builder ingressTimeout(Duration timeout) {
      requireUnset("ingressTimeout", ingressTimeout == null, ingressTimeout);
      this.ingressTimeout = requireNotNegative("ingressTimeout", timeout);
      return this;
    }

    /**
     * How long a piece of a forward may wait for egress bandwidth before the forward fails (left resumable);
     * zero fails at once when the budget is spent. Default {@link #DEFAULT_BANDWIDTH_TIMEOUT}.
     */
    public Builder egressTimeout(Duration timeout) {
      requireUnset("egressTimeout", egressTimeout == null, egressTimeout);
      this.egressTimeout = requireNotNegative("egressTimeout", timeout);
      return this;
    }

    /**
     * Custody time, bandwidth time, and how a throttle waits on it. Default {@link TimeSource#system()};
     * tests and simulations pass their own.
     */
    public Builder time(TimeSource time) {
      requireUnset("time", this.time == null, this.time);
      this.time = Objects.requireNonNull(time, "time");
      return this;
    }

    /** Checks the settings together; the builder is left as it was. */
    public HolderConfig build() {
      if (limitBytes == 0) {
        throw new IllegalStateException("limitBytes is required");
      }
      if (ingressGlobal == null || egressGlobal == null) {
        throw new IllegalStateException("ingress and egress rates are required (RateLimit.of(...) for each)");
      }
      return new HolderConfig(this);
    }

    private static void requireUnset(String name, boolean unset, @Nullable Object current) {
      if (!unset) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }

    private static Duration requireNotNegative(String name, Duration d) {
      if (Objects.requireNonNull(d, name).isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative but was " + d);
      }
      return d;
    }

    private static long requirePositive(String name, long v) {
      if (v <= 0) {
        throw new IllegalArgumentException(name + " must be positive but was " + v);
      }
      return v;
    }

    @SuppressWarnings("JavaDurationGetSecondsGetNano") // getNano() != 0 is the check: a fraction of a second
    private static Duration requireWholePositiveSeconds(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero() || d.getNano() != 0) {
        throw new IllegalArgumentException(name + " must be a positive whole number of seconds but was " + d);
      }
      return d;
    }
  }
}
