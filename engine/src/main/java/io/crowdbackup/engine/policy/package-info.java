/**
 * Custody policy: the rules a volunteer's device lives by, independent of how the store keeps bytes.
 *
 * <ul>
 *   <li>{@link io.crowdbackup.engine.policy.CustodyPolicy} bundles everything below for the
 *       {@link io.crowdbackup.engine.custody.Custodian}, which runs the store by it.
 *   <li>Time: {@link io.crowdbackup.api.policy.TimeSource} (injected; monotonic for rates, wall for
 *       expiry) and {@link io.crowdbackup.engine.policy.CustodyClock} (wall-clock jumps while running are
 *       ignored; across a restart time never moves back past the store's high-water mark, and a forward
 *       jump is honoured because it may be real time the device was off).
 *   <li>Retention: {@link io.crowdbackup.engine.policy.RetentionPolicy}, custody ends at
 *       {@code min(envelope expiry, now + 12 h)}; explicit longer requests get {@code TTL_TOO_LONG} with a
 *       counter-offer.
 *   <li>Quota: {@link io.crowdbackup.engine.policy.QuotaLedger}, strict {@code held + reserved <= limit}
 *       and per-peer shares, keyed by fingerprint, rebuilt exactly from the store's records on open.
 *   <li>Bandwidth: {@link io.crowdbackup.engine.policy.TokenBucket} (lock-free, exact integer
 *       arithmetic, no overdraft: one grant is at most the burst), paired global + per-peer in
 *       {@link io.crowdbackup.engine.policy.BandwidthShaper}, per-peer state bounded by a
 *       {@link io.crowdbackup.engine.policy.PeerStateMap} (portable
 *       {@link io.crowdbackup.engine.policy.BoundedLruPeerMap}; Caffeine in engine-jvm). A peer's bucket
 *       is created empty, so forgetting a peer never hands it a fresh burst. Streams and channels are
 *       wrapped by {@link io.crowdbackup.engine.policy.Throttled}.
 *   <li>Refusals: {@link io.crowdbackup.api.policy.Refusal}, counted by
 *       {@link io.crowdbackup.engine.policy.RefusalCounter}.
 * </ul>
 *
 * Everything here is Android-safe (API level 26): no VarHandles, no JDK 9+ library calls.
 */
package io.crowdbackup.engine.policy;
