package io.crowdbackup.engine.policy;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.ThrottleTimeoutException;
import io.crowdbackup.api.policy.TimeSource;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

/**
 * One direction of traffic (ingress or egress) shaped by a global bucket and one bucket per peer. A
 * grant must be covered by both.
 *
 * <p>Per-peer buckets live in a bounded {@link PeerStateMap}, and a peer's bucket is always created
 * <em>empty</em>: a peer whose bucket was forgotten gets its bytes at exactly its rate from then on, never
 * a fresh burst. (Starting full would be harmless for a peer that sat idle for the refill time, but the
 * map also evicts under pressure, when a flood of identities pushes busy peers out.)
 *
 * <p>Order of payment: the peer bucket first, then the global one. The global bucket guards the
 * device's own link, so it is paid last, right before the bytes move; a failed global try gives the
 * peer's tokens back when nothing raced with it (see {@link TokenBucket#undoTake}).
 */
public final class BandwidthShaper<P> {
  private final String direction;
  private final TokenBucket global;
  private final RateLimit perPeer;
  private final PeerStateMap<P, PeerThrottle> peers;
  private final TimeSource time;
  private final Sleeper sleeper;
  private final Function<P, PeerThrottle> factory;

  private BandwidthShaper(String direction, RateLimit global, RateLimit perPeer,
      PeerStateMap<P, PeerThrottle> peers, TimeSource time, Sleeper sleeper) {
    this.direction = Objects.requireNonNull(direction, "direction");
    this.time = Objects.requireNonNull(time, "time");
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    this.global = TokenBucket.create(direction + " global", global, time, sleeper, true);
    this.perPeer = Objects.requireNonNull(perPeer, "perPeer");
    this.peers = Objects.requireNonNull(peers, "peers");
    this.factory = peer -> new PeerThrottle(
        TokenBucket.create(this.direction + " peer " + peer, this.perPeer, this.time, this.sleeper, false),
        this.global, this.time);
  }

  /**
   * A shaper for one direction.
   *
   * @param direction names the direction in errors, e.g. "ingress"
   * @param peers the bounded map that keeps per-peer buckets; made empty and used only by this shaper
   */
  public static <P> BandwidthShaper<P> create(String direction, RateLimit global, RateLimit perPeer,
      PeerStateMap<P, PeerThrottle> peers, TimeSource time, Sleeper sleeper) {
    return new BandwidthShaper<>(direction, global, perPeer, peers, time, sleeper);
  }

  /** A shaper on the system clock with a portable bounded map of {@code maxPeers} peers. */
  public static <P> BandwidthShaper<P> create(String direction, RateLimit global, RateLimit perPeer, long maxPeers) {
    return new BandwidthShaper<>(direction, global, perPeer, BoundedLruPeerMap.withMaximumSize(maxPeers),
        TimeSource.system(), Sleeper.system());
  }

  /**
   * The throttle for traffic with {@code peer}: its own bucket and the global one. Look it up per
   * transfer rather than keeping it: a transfer that holds a throttle keeps using it even if the map
   * forgets the peer meanwhile, and a second transfer started after that gets a new, empty bucket, so
   * the two could together exceed the peer's rate until the first ends. That needs more live peers than
   * the map's bound; size the bound well above the number of concurrent transfers.
   */
  public Throttle forPeer(P peer) {
    return peers.computeIfAbsent(peer, factory);
  }

  /** The global bucket alone, for traffic that is not attributed to a peer. */
  public Throttle global() {
    return global;
  }

  /** Peers with a bucket now. */
  public long trackedPeers() {
    return peers.size();
  }

  @Override
  public String toString() {
    return "BandwidthShaper{" + direction + ", global=" + global + ", perPeer=" + perPeer + ", trackedPeers="
        + peers.size() + "}";
  }

  /** A peer's bucket paired with the global one. */
  public static final class PeerThrottle implements Throttle {
    private final TokenBucket peer;
    private final TokenBucket global;
    private final TimeSource time;

    PeerThrottle(TokenBucket peer, TokenBucket global, TimeSource time) {
      this.peer = peer;
      this.global = global;
      this.time = time;
    }

    @Override
    public boolean tryAcquire(long bytes) {
      TokenBucket.checkBytes(bytes, maxGrantBytes(), peer.name());
      long peerState = peer.tryTake(bytes);
      if (peerState == TokenBucket.NOT_BY_DEADLINE) {
        return false;
      }
      if (global.tryAcquire(bytes)) {
        return true;
      }
      peer.undoTake(peerState, bytes);
      return false;
    }

    @Override
    public void acquire(long bytes, long timeoutNanos) throws ThrottleTimeoutException, InterruptedException {
      TokenBucket.checkBytes(bytes, maxGrantBytes(), peer.name());
      long startNanos = time.monotonicNanos();
      long peerCoveredAt = peer.reserve(bytes, startNanos, timeoutNanos);
      if (peerCoveredAt == TokenBucket.NOT_BY_DEADLINE) {
        throw new ThrottleTimeoutException(peer.name(), bytes, Duration.ofNanos(timeoutNanos), peer.bytesPerSecond());
      }
      peer.awaitCovered(peerCoveredAt);
      long nowNanos = time.monotonicNanos();
      long left = timeoutNanos == NO_TIMEOUT ? NO_TIMEOUT : Math.max(0L, timeoutNanos - (nowNanos - startNanos));
      long globalCoveredAt = global.reserve(bytes, nowNanos, left);
      if (globalCoveredAt == TokenBucket.NOT_BY_DEADLINE) {
        // Give the peer's tokens back if nothing touched its bucket since (exactly as if never reserved);
        // otherwise they are forfeit, which errs towards less traffic, never more.
        peer.undoTake(peerCoveredAt + peer.maxGrantBytes(), bytes);
        throw new ThrottleTimeoutException(global.name(), bytes, Duration.ofNanos(timeoutNanos),
            global.bytesPerSecond());
      }
      global.awaitCovered(globalCoveredAt);
    }

    @Override
    public long maxGrantBytes() {
      return Math.min(peer.maxGrantBytes(), global.maxGrantBytes());
    }

    /** Tokens in this peer's own bucket now. */
    public long peerAvailableBytes() {
      return peer.availableBytes();
    }

    @Override
    public String toString() {
      return "PeerThrottle{" + peer + ", " + global + "}";
    }
  }
}
