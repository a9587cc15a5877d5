package io.crowdbackup.engine.custody;

import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.policy.PeerUsage;
import io.crowdbackup.api.policy.QuotaStats;
import io.crowdbackup.api.policy.Refusal;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * A holder's numbers at one moment, cheap to take (no scan of the store): the quota ledger's snapshot,
 * counts by custody state, usage per peer, refusals by reason and what ended custody since the custodian
 * was opened. Immutable.
 */
public final class CustodyStats {
  private final QuotaStats quota;
  private final long forwardingCount;
  private final long deliveredByReceiptCount;
  private final long releasedCount;
  private final long evictedCount;
  private final long evictedBytes;
  private final long quarantinedCount;
  private final long damagedLogRecordCount;
  private final long ownHeldBytes;
  private final Map<String, PeerUsage> usageByPeer;
  private final Map<ReceiptException.Reason, Long> receiptRefusals;

  CustodyStats(QuotaStats quota, long forwardingCount, long deliveredByReceiptCount, long releasedCount,
      long evictedCount, long evictedBytes, long quarantinedCount, long damagedLogRecordCount, long ownHeldBytes,
      Map<String, PeerUsage> usageByPeer, Map<ReceiptException.Reason, Long> receiptRefusals) {
    this.quota = quota;
    this.forwardingCount = forwardingCount;
    this.deliveredByReceiptCount = deliveredByReceiptCount;
    this.releasedCount = releasedCount;
    this.evictedCount = evictedCount;
    this.evictedBytes = evictedBytes;
    this.quarantinedCount = quarantinedCount;
    this.damagedLogRecordCount = damagedLogRecordCount;
    this.ownHeldBytes = ownHeldBytes;
    this.usageByPeer = Collections.unmodifiableMap(new HashMap<>(usageByPeer));
    this.receiptRefusals = Collections.unmodifiableMap(new EnumMap<>(receiptRefusals));
  }

  /** The ledger's consistent snapshot: limit, held, reserved, free, counts, refusals. */
  public QuotaStats quota() {
    return quota;
  }

  public long limitBytes() {
    return quota.limitBytes();
  }

  /** Bytes of custody blobs held (held or forwarding; expired ones until evicted). */
  public long heldBytes() {
    return quota.heldBytes();
  }

  /** Declared lengths of custody uploads in flight, resumable ones included. */
  public long reservedBytes() {
    return quota.reservedBytes();
  }

  public long freeBytes() {
    return quota.freeBytes();
  }

  /** Custody blobs with bytes held, forwarding ones included. */
  public long heldCount() {
    return quota.heldCount();
  }

  /** Custody uploads in flight. */
  public long reservedCount() {
    return quota.reservedCount();
  }

  /** Blobs being forwarded now. */
  public long forwardingCount() {
    return forwardingCount;
  }

  /** Blobs dropped since open because a valid receipt arrived. */
  public long deliveredByReceiptCount() {
    return deliveredByReceiptCount;
  }

  /** Blobs dropped since open because a valid release arrived. */
  public long releasedCount() {
    return releasedCount;
  }

  /** Custody blobs evicted at expiry since open. */
  public long evictedCount() {
    return evictedCount;
  }

  public long evictedBytes() {
    return evictedBytes;
  }

  /**
   * Files moved to quarantine since open: blobs (own or custody) that failed their checks at open or on
   * read. {@code Custodian.quarantined()} lists what the quarantine folder holds, with reasons.
   */
  public long quarantinedCount() {
    return quarantinedCount;
  }

  /** Damaged state-log entries (or headers) the store found and dropped at open, each reported. */
  public long damagedLogRecordCount() {
    return damagedLogRecordCount;
  }

  /** The device's own envelopes held (not counted against the quota). */
  public long ownHeldBytes() {
    return ownHeldBytes;
  }

  public long refusals(Refusal.Reason reason) {
    return quota.refusals(reason);
  }

  public Map<Refusal.Reason, Long> refusalsByReason() {
    return quota.refusalsByReason();
  }

  /** Held and reserved bytes of every peer that has any. */
  public Map<String, PeerUsage> usageByPeer() {
    return usageByPeer;
  }

  /** Receipts and releases refused, by reason. */
  public Map<ReceiptException.Reason, Long> receiptRefusals() {
    return receiptRefusals;
  }

  @Override
  public String toString() {
    return "CustodyStats{" + quota + ", forwarding=" + forwardingCount + ", deliveredByReceipt="
        + deliveredByReceiptCount + ", released=" + releasedCount + ", evicted=" + evictedCount + " ("
        + evictedBytes + " bytes), quarantined=" + quarantinedCount
        + ", damagedLogRecords=" + damagedLogRecordCount + ", ownHeldBytes=" + ownHeldBytes
        + ", peers=" + usageByPeer.size() + ", receiptRefusals=" + receiptRefusals + "}";
  }
}
