package io.crowdbackup.enginejvm.policy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.crowdbackup.api.policy.TimeSource;
import io.crowdbackup.engine.policy.PeerStateMap;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

/**
 * A {@link PeerStateMap} on Caffeine, for servers and desktops: W-TinyLFU eviction (a peer that keeps
 * coming back is kept over a flood of one-off identities, which plain LRU would let flush everything)
 * plus expiry of peers idle longer than {@code idleExpiry}.
 *
 * <p>Eviction runs on the calling thread ({@code executor(Runnable::run)}), so the size is brought back
 * under the bound by the same call that pushed it over; Caffeine documents that the size may exceed
 * the bound briefly while it evicts, never lastingly. Forgetting a peer is safe for the state this map
 * holds (see {@link PeerStateMap}).
 */
public final class CaffeinePeerMap<K, V> implements PeerStateMap<K, V> {
  private final Cache<K, V> cache;
  private final long maximumSize;

  private CaffeinePeerMap(long maximumSize, Duration idleExpiry, TimeSource time) {
    if (maximumSize < 1) {
      throw new IllegalArgumentException("maximumSize must be positive but was " + maximumSize);
    }
    Objects.requireNonNull(idleExpiry, "idleExpiry");
    if (idleExpiry.isNegative() || idleExpiry.isZero()) {
      throw new IllegalArgumentException("idleExpiry must be positive but was " + idleExpiry);
    }
    this.maximumSize = maximumSize;
    this.cache = Caffeine.newBuilder()
        .maximumSize(maximumSize)
        .expireAfterAccess(idleExpiry)
        .ticker(time::monotonicNanos)
        .executor(Runnable::run)
        .build();
  }

  /**
   * @param maximumSize the most peers remembered
   * @param idleExpiry how long a peer may go unused before it is forgotten anyway
   * @param time the clock idle expiry is measured on (its monotonic reading)
   */
  public static <K, V> CaffeinePeerMap<K, V> create(long maximumSize, Duration idleExpiry, TimeSource time) {
    return new CaffeinePeerMap<>(maximumSize, idleExpiry, time);
  }

  @Override
  public V computeIfAbsent(K peer, Function<? super K, ? extends V> factory) {
    Objects.requireNonNull(peer, "peer");
    return cache.get(peer, factory);
  }

  @Override
  public V getIfPresent(K peer) {
    return cache.getIfPresent(peer);
  }

  @Override
  public long size() {
    return cache.estimatedSize();
  }

  @Override
  public long maximumSize() {
    return maximumSize;
  }

  /** Runs pending eviction and expiry now (Caffeine otherwise does it as a side effect of use). */
  public void cleanUp() {
    cache.cleanUp();
  }
}
