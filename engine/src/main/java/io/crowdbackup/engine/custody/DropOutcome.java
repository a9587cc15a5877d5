package io.crowdbackup.engine.custody;

/**
 * What a verified-or-unverifiable receipt or release did. A forged, mismatched or malformed one never gets
 * here: it is refused with a {@link io.crowdbackup.api.ReceiptException} and the blob stays.
 */
public enum DropOutcome {
  /** It verified against the blob's own header: the blob was dropped and its quota freed. */
  DROPPED,
  /**
   * The blob was already delivered (a replay, or a second receipt). Nothing to drop; the header that would
   * verify the signature is gone with the bytes, so nothing was verified either.
   */
  ALREADY_DELIVERED,
  /** This holder holds no blob under that fingerprint (never held, expired, evicted or deleted). */
  NOT_HELD
}
