/**
 * Custody policy types a front-end sees: the injectable {@link io.crowdbackup.api.policy.TimeSource},
 * bandwidth settings ({@link io.crowdbackup.api.policy.RateLimit}) and their timeout
 * ({@link io.crowdbackup.api.policy.ThrottleTimeoutException}), machine-readable refusals with
 * counter-offers ({@link io.crowdbackup.api.policy.Refusal},
 * {@link io.crowdbackup.api.policy.RefusalException}), and the quota snapshot
 * ({@link io.crowdbackup.api.policy.QuotaStats}). The rules themselves live in the engine.
 */
package io.crowdbackup.api.policy;
