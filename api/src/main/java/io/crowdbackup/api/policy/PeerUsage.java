package io.crowdbackup.api.policy;

/** One peer's use of a holder's storage against its share. Immutable. */
public final class PeerUsage {
  private final long heldBytes;
  private final long reservedBytes;
  private final long shareBytes;

  private PeerUsage(long heldBytes, long reservedBytes, long shareBytes) {
    this.heldBytes = heldBytes;
    this.reservedBytes = reservedBytes;
    this.shareBytes = shareBytes;
  }

  /** Usage of {@code heldBytes} committed and {@code reservedBytes} in flight against {@code shareBytes}. */
  public static PeerUsage of(long heldBytes, long reservedBytes, long shareBytes) {
    if (heldBytes < 0 || reservedBytes < 0 || shareBytes < 0) {
      throw new IllegalArgumentException("usage must not be negative but was held=" + heldBytes + ", reserved="
          + reservedBytes + ", share=" + shareBytes);
    }
    return new PeerUsage(heldBytes, reservedBytes, shareBytes);
  }

  public long heldBytes() {
    return heldBytes;
  }

  public long reservedBytes() {
    return reservedBytes;
  }

  public long shareBytes() {
    return shareBytes;
  }

  public long remainingBytes() {
    return Math.max(0L, shareBytes - heldBytes - reservedBytes);
  }

  @Override
  public String toString() {
    return "PeerUsage{heldBytes=" + heldBytes + ", reservedBytes=" + reservedBytes + ", shareBytes=" + shareBytes
        + "}";
  }
}
