package io.crowdbackup.api.policy;

import java.util.EnumMap;
import java.util.Map;

/**
 * A consistent snapshot of a holder's storage ledger: every number was read at one instant, so
 * {@code heldBytes + reservedBytes + freeBytes == limitBytes} unless the limit was lowered below what is
 * already held (then {@link #overLimitBytes()} is positive and {@code freeBytes} is 0). Immutable.
 */
public final class QuotaStats {
  private final long limitBytes;
  private final long heldBytes;
  private final long reservedBytes;
  private final long heldCount;
  private final long reservedCount;
  private final long peerCount;
  private final long[] refusalsByReason;

  /**
   * @param refusalsByReason refusal counts indexed by {@link Refusal.Reason#ordinal()}; copied
   */
  public QuotaStats(long limitBytes, long heldBytes, long reservedBytes, long heldCount, long reservedCount,
      long peerCount, long[] refusalsByReason) {
    if (refusalsByReason.length != Refusal.Reason.values().length) {
      throw new IllegalArgumentException("refusalsByReason must have " + Refusal.Reason.values().length
          + " entries but had " + refusalsByReason.length);
    }
    this.limitBytes = limitBytes;
    this.heldBytes = heldBytes;
    this.reservedBytes = reservedBytes;
    this.heldCount = heldCount;
    this.reservedCount = reservedCount;
    this.peerCount = peerCount;
    this.refusalsByReason = refusalsByReason.clone();
  }

  /** Bytes the volunteer gives to others. */
  public long limitBytes() {
    return limitBytes;
  }

  /** Bytes of committed custody blobs. */
  public long heldBytes() {
    return heldBytes;
  }

  /** Bytes reserved for uploads in flight (declared lengths, not bytes received so far). */
  public long reservedBytes() {
    return reservedBytes;
  }

  /** Bytes a new reservation could still take, never negative. */
  public long freeBytes() {
    return Math.max(0L, limitBytes - heldBytes - reservedBytes);
  }

  /** How far held plus reserved exceed the limit; positive only after the limit was lowered. */
  public long overLimitBytes() {
    return Math.max(0L, heldBytes + reservedBytes - limitBytes);
  }

  public long heldCount() {
    return heldCount;
  }

  public long reservedCount() {
    return reservedCount;
  }

  /** Source peers with bytes held or reserved. */
  public long peerCount() {
    return peerCount;
  }

  /** How many offers were refused for this reason since the counter was made. */
  public long refusals(Refusal.Reason reason) {
    return refusalsByReason[reason.ordinal()];
  }

  /** All refusal counts, including zeros. */
  public Map<Refusal.Reason, Long> refusalsByReason() {
    Map<Refusal.Reason, Long> map = new EnumMap<>(Refusal.Reason.class);
    for (Refusal.Reason r : Refusal.Reason.values()) {
      map.put(r, refusalsByReason[r.ordinal()]);
    }
    return map;
  }

  @Override
  public String toString() {
    return "QuotaStats{limitBytes=" + limitBytes + ", heldBytes=" + heldBytes + ", reservedBytes="
        + reservedBytes + ", freeBytes=" + freeBytes() + ", heldCount=" + heldCount + ", reservedCount="
        + reservedCount + ", peerCount=" + peerCount + ", refusals=" + refusalsByReason() + "}";
  }
}
