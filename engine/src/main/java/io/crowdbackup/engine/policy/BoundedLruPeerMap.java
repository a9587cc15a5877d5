package io.crowdbackup.engine.policy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A portable {@link PeerStateMap}: lock-striped access-ordered {@link LinkedHashMap}s, each evicting its
 * least recently used entry beyond its share of the bound. Runs on Android (no VarHandles, nothing past
 * API level 26); on a JVM prefer the Caffeine-based map, whose eviction policy is better.
 *
 * <p>The bound is hard: each of the {@code s} stripes keeps at most {@code floor(max / s)} entries, so
 * the total never exceeds {@code max}, even for an instant. Eviction is LRU per stripe, which
 * approximates global LRU well when peers spread over stripes. Peer identities can be chosen by a peer;
 * a peer that aims them all at one stripe only makes that stripe evict sooner — the bound holds.
 */
public final class BoundedLruPeerMap<K, V> implements PeerStateMap<K, V> {
  private static final int MAX_STRIPES = 16;

  private final Stripe<K, V>[] stripes;
  private final long maximumSize;

  private BoundedLruPeerMap(long maximumSize) {
    if (maximumSize < 1 || maximumSize > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("maximumSize must be in [1, " + Integer.MAX_VALUE + "] but was "
          + maximumSize);
    }
    int stripeCount = 1;
    while (stripeCount < MAX_STRIPES && maximumSize / (stripeCount * 2L) >= 64) {
      stripeCount *= 2;
    }
    int perStripe = (int) (maximumSize / stripeCount);
    @SuppressWarnings({"unchecked", "rawtypes"})
    Stripe<K, V>[] array = new Stripe[stripeCount];
    for (int i = 0; i < stripeCount; i++) {
      array[i] = new Stripe<>(perStripe);
    }
    this.stripes = array;
    this.maximumSize = (long) perStripe * stripeCount;
  }

  /** A map remembering at most {@code maximumSize} peers (rounded down to a multiple of its stripe count). */
  public static <K, V> BoundedLruPeerMap<K, V> withMaximumSize(long maximumSize) {
    return new BoundedLruPeerMap<>(maximumSize);
  }

  private Stripe<K, V> stripeFor(Object key) {
    int h = key.hashCode();
    h ^= h >>> 16;
    h *= 0x9E3779B1; // spread so that stripes do not mirror the low bits of the hash
    return stripes[(h >>> 16) & (stripes.length - 1)];
  }

  @Override
  public V computeIfAbsent(K peer, Function<? super K, ? extends V> factory) {
    Objects.requireNonNull(peer, "peer");
    Stripe<K, V> stripe = stripeFor(peer);
    synchronized (stripe) {
      V value = stripe.get(peer);
      if (value == null) {
        value = Objects.requireNonNull(factory.apply(peer), "factory returned null");
        stripe.put(peer, value);
      }
      return value;
    }
  }

  @Override
  public @Nullable V getIfPresent(K peer) {
    Stripe<K, V> stripe = stripeFor(peer);
    synchronized (stripe) {
      return stripe.get(peer);
    }
  }

  @Override
  public long size() {
    long size = 0;
    for (Stripe<K, V> stripe : stripes) {
      synchronized (stripe) {
        size += stripe.size();
      }
    }
    return size;
  }

  @Override
  public long maximumSize() {
    return maximumSize;
  }

  private static final class Stripe<K, V> extends LinkedHashMap<K, V> {
    private static final long serialVersionUID = 1L;
    private final int capacity;

    Stripe(int capacity) {
      super(16, 0.75f, true);
      this.capacity = capacity;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
      return size() > capacity;
    }
  }
}
