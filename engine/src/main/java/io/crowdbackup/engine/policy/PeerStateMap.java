package io.crowdbackup.engine.policy;

import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Per-peer state with a hard bound on how many peers it remembers, so that a venue of 100,000 peers (or
 * one peer inventing identities) cannot grow memory without limit. When full, the least recently used
 * peer is forgotten.
 *
 * <p>Forgetting must be safe for whatever is stored: the next {@link #computeIfAbsent} for a forgotten
 * peer builds fresh state, and that state must not be more generous than the old one (a token bucket
 * for a peer starts empty, not full).
 *
 * <p>Implementations: {@link BoundedLruPeerMap} (portable, Android-safe) and, on servers and desktops,
 * {@code io.crowdbackup.enginejvm.policy.CaffeinePeerMap}.
 */
public interface PeerStateMap<K, V> {
  /** The state for {@code peer}, made with {@code factory} if absent; marks the peer as recently used. */
  V computeIfAbsent(K peer, Function<? super K, ? extends V> factory);

  /** The state for {@code peer} if remembered, else null; does not create. */
  @Nullable V getIfPresent(K peer);

  /** Peers remembered now (an estimate for concurrent implementations, never above the bound after cleanup). */
  long size();

  /** The most peers ever remembered at once. */
  long maximumSize();
}
