package io.crowdbackup.api.store;

/**
 * Custody state of a stored blob: {@code HELD -> FORWARDING -> DELIVERED}, or {@code EXPIRED}; a failed
 * forward returns {@code FORWARDING -> HELD}. Every transition is durable before the call that made it
 * returns.
 */
public enum BlobState {
  /** Stored and servable. */
  HELD,
  /** Being forwarded to its destination; still stored and servable. */
  FORWARDING,
  /**
   * Its destination has it (receipt or release seen). The bytes are gone and no longer counted; the
   * fingerprint is remembered until the blob's expiry so a second offer can be refused.
   */
  DELIVERED,
  /** Its expiry has passed; never served, removed with its expiry group. */
  EXPIRED;

  /** Whether the blob's bytes are on disk and may be read. */
  public boolean hasBytes() {
    return this == HELD || this == FORWARDING;
  }

  /** Whether the store allows a transition from this state to {@code next}. */
  public boolean canMoveTo(BlobState next) {
    switch (this) {
      case HELD:
        return next == FORWARDING || next == DELIVERED || next == EXPIRED;
      case FORWARDING:
        return next == HELD || next == DELIVERED || next == EXPIRED;
      default:
        return false;
    }
  }
}
