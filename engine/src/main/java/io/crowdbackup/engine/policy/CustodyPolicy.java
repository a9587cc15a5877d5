package io.crowdbackup.engine.policy;

import io.crowdbackup.api.policy.QuotaStats;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.TimeSource;
import java.util.Objects;
import java.util.function.LongFunction;

/**
 * The rules a holder lives by, in one object: the custody clock, the retention policy, the quota ledger,
 * and ingress and egress bandwidth shapers, all on one injected clock and one refusal counter. The
 * custodian ({@code io.crowdbackup.engine.custody.Custodian}) is its only user: it asks {@link #retention()}
 * for an offer's custody expiry, reserves the declared length in {@link #ledger()} before the first byte,
 * pays for bytes through the shapers, and lets the store's listener move reserved bytes to held or free.
 *
 * @param <P> how the store identifies a peer
 */
public final class CustodyPolicy<P> {
  private final TimeSource time;
  private final CustodyClock clock;
  private final RefusalCounter refusals;
  private final RetentionPolicy retention;
  private final QuotaLedger<P> ledger;
  private final BandwidthShaper<P> ingress;
  private final BandwidthShaper<P> egress;

  private CustodyPolicy(Builder<P> b) {
    this.time = b.time;
    this.refusals = new RefusalCounter();
    this.clock = CustodyClock.start(time, b.highWaterEpochSecond);
    this.retention = RetentionPolicy.withMaxRetentionSeconds(b.maxRetentionSeconds, refusals);
    QuotaLedger.Builder<P> lb = QuotaLedger.<P>newBuilder()
        .limitBytes(b.limitBytes)
        .longestRetentionSeconds(b.maxRetentionSeconds)
        .refusalCounter(refusals);
    if (b.peerSharePercent > 0) {
      lb.peerSharePercent(b.peerSharePercent);
    }
    if (b.maxEnvelopeBytes > 0) {
      lb.maxEnvelopeBytes(b.maxEnvelopeBytes);
    }
    this.ledger = lb.build();
    this.ingress = BandwidthShaper.create("ingress", b.ingressGlobal, b.ingressPerPeer,
        b.peerMaps.apply(b.maxTrackedPeers), time, b.sleeper);
    this.egress = BandwidthShaper.create("egress", b.egressGlobal, b.egressPerPeer,
        b.peerMaps.apply(b.maxTrackedPeers), time, b.sleeper);
  }

  public static <P> Builder<P> newBuilder() {
    return new Builder<>();
  }

  public CustodyClock clock() {
    return clock;
  }

  public RetentionPolicy retention() {
    return retention;
  }

  public QuotaLedger<P> ledger() {
    return ledger;
  }

  public BandwidthShaper<P> ingress() {
    return ingress;
  }

  public BandwidthShaper<P> egress() {
    return egress;
  }

  /** The counter every refusal of this holder goes to; the store records its own refusals here too. */
  public RefusalCounter refusals() {
    return refusals;
  }

  /** The ledger's snapshot (bytes held, reserved, free; counts; refusals by reason). */
  public QuotaStats stats() {
    return ledger.stats();
  }

  /** Fail-fast builder; {@link #build()} leaves it unchanged. */
  public static final class Builder<P> {
    private TimeSource time = TimeSource.system();
    private Sleeper sleeper = Sleeper.system();
    private long highWaterEpochSecond = Long.MIN_VALUE;
    private long limitBytes = -1;
    private int peerSharePercent = -1;
    private long maxEnvelopeBytes = -1;
    private long maxRetentionSeconds = RetentionPolicy.DEFAULT_MAX_RETENTION_SECONDS;
    private RateLimit ingressGlobal;
    private RateLimit ingressPerPeer;
    private RateLimit egressGlobal;
    private RateLimit egressPerPeer;
    private long maxTrackedPeers = 10_000;
    private LongFunction<PeerStateMap<P, BandwidthShaper.PeerThrottle>> peerMaps = BoundedLruPeerMap::withMaximumSize;
    /** Settings given, so that a second one fails instead of silently replacing the first. */
    private final java.util.Set<String> set = new java.util.HashSet<>();

    private Builder() {}

    /** The clock (and how to wait on it); default the system's. Tests pass a manual clock for both. */
    public Builder<P> time(TimeSource time, Sleeper sleeper) {
      requireUnset("time", this.time);
      this.time = Objects.requireNonNull(time, "time");
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      set.add("time");
      return this;
    }

    /** The latest custody time the store recorded before this start; see {@link CustodyClock}. */
    public Builder<P> highWaterEpochSecond(long highWaterEpochSecond) {
      requireUnset("highWaterEpochSecond", this.highWaterEpochSecond);
      this.highWaterEpochSecond = highWaterEpochSecond;
      set.add("highWaterEpochSecond");
      return this;
    }

    /** Bytes given to others. Required. */
    public Builder<P> limitBytes(long limitBytes) {
      requireUnset("limitBytes", this.limitBytes);
      if (limitBytes <= 0) {
        throw new IllegalArgumentException("limitBytes must be positive but was " + limitBytes);
      }
      this.limitBytes = limitBytes;
      set.add("limitBytes");
      return this;
    }

    /** The most one source may use, percent of the limit. Default 100. */
    public Builder<P> peerSharePercent(int percent) {
      requireUnset("peerSharePercent", this.peerSharePercent);
      if (percent < 1 || percent > 100) {
        throw new IllegalArgumentException("peerSharePercent must be in [1, 100] but was " + percent);
      }
      this.peerSharePercent = percent;
      set.add("peerSharePercent");
      return this;
    }

    public Builder<P> maxEnvelopeBytes(long maxEnvelopeBytes) {
      requireUnset("maxEnvelopeBytes", this.maxEnvelopeBytes);
      if (maxEnvelopeBytes <= 0) {
        throw new IllegalArgumentException("maxEnvelopeBytes must be positive but was " + maxEnvelopeBytes);
      }
      this.maxEnvelopeBytes = maxEnvelopeBytes;
      set.add("maxEnvelopeBytes");
      return this;
    }

    /** Default {@link RetentionPolicy#DEFAULT_MAX_RETENTION_SECONDS} (12 h). */
    public Builder<P> maxRetentionSeconds(long seconds) {
      requireUnset("maxRetentionSeconds", this.maxRetentionSeconds);
      if (seconds <= 0) {
        throw new IllegalArgumentException("maxRetentionSeconds must be positive but was " + seconds);
      }
      this.maxRetentionSeconds = seconds;
      set.add("maxRetentionSeconds");
      return this;
    }

    /** Ingress shaping. Required. */
    public Builder<P> ingress(RateLimit global, RateLimit perPeer) {
      requireUnset("ingress", ingressGlobal + "/" + ingressPerPeer);
      this.ingressGlobal = Objects.requireNonNull(global, "global");
      this.ingressPerPeer = Objects.requireNonNull(perPeer, "perPeer");
      set.add("ingress");
      return this;
    }

    /** Egress shaping. Required. */
    public Builder<P> egress(RateLimit global, RateLimit perPeer) {
      requireUnset("egress", egressGlobal + "/" + egressPerPeer);
      this.egressGlobal = Objects.requireNonNull(global, "global");
      this.egressPerPeer = Objects.requireNonNull(perPeer, "perPeer");
      set.add("egress");
      return this;
    }

    /**
     * How many peers' buckets each direction remembers, and the map that keeps them. Default 10,000 in
     * a {@link BoundedLruPeerMap}; on a JVM pass {@code n -> CaffeinePeerMap.create(n, idle, time)}.
     */
    public Builder<P> peerBuckets(long maxTrackedPeers,
        LongFunction<PeerStateMap<P, BandwidthShaper.PeerThrottle>> peerMaps) {
      requireUnset("peerBuckets", this.maxTrackedPeers);
      if (maxTrackedPeers < 1) {
        throw new IllegalArgumentException("maxTrackedPeers must be positive but was " + maxTrackedPeers);
      }
      this.maxTrackedPeers = maxTrackedPeers;
      this.peerMaps = Objects.requireNonNull(peerMaps, "peerMaps");
      set.add("peerBuckets");
      return this;
    }

    public CustodyPolicy<P> build() {
      if (limitBytes < 0) {
        throw new IllegalStateException("limitBytes is required");
      }
      if (ingressGlobal == null) {
        throw new IllegalStateException("ingress rates are required");
      }
      if (egressGlobal == null) {
        throw new IllegalStateException("egress rates are required");
      }
      return new CustodyPolicy<>(this);
    }

    /** Fails if {@code name} was given before: one line of a configuration never undoes another. */
    private void requireUnset(String name, Object current) {
      if (set.contains(name)) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }
  }
}
