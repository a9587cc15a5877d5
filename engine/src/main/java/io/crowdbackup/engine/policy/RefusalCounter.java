package io.crowdbackup.engine.policy;

import io.crowdbackup.api.policy.Refusal;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts refusals by reason. Cheap to record from many threads (one {@link LongAdder} per reason);
 * shared by the ledger and the store so that one counter sees every refusal a holder makes.
 */
public final class RefusalCounter {
  private final LongAdder[] counts;

  public RefusalCounter() {
    Refusal.Reason[] reasons = Refusal.Reason.values();
    counts = new LongAdder[reasons.length];
    for (int i = 0; i < reasons.length; i++) {
      counts[i] = new LongAdder();
    }
  }

  /** Counts {@code refusal} and returns it, so a caller can write {@code throw counter.record(r).toException()}. */
  public Refusal record(Refusal refusal) {
    counts[refusal.reason().ordinal()].increment();
    return refusal;
  }

  public long count(Refusal.Reason reason) {
    return counts[reason.ordinal()].sum();
  }

  /** Counts indexed by {@link Refusal.Reason#ordinal()}. */
  public long[] snapshot() {
    long[] out = new long[counts.length];
    for (int i = 0; i < counts.length; i++) {
      out[i] = counts[i].sum();
    }
    return out;
  }
}
