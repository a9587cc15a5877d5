package io.crowdbackup.api.store;

import org.jspecify.annotations.Nullable;

/**
 * Byte accounting of a store at one instant. "Held" counts the envelope bytes of stored blobs whose bytes
 * are present ({@link BlobState#hasBytes()}); a delivered or deleted blob stops counting at once, even
 * where its disk space is reclaimed later. "Reserved" counts the declared lengths of uploads in progress,
 * which is what a quota must count before their bytes arrive. A blob past its expiry counts as held until
 * {@link CustodyStore#dropExpired} removes it (it is never served meanwhile).
 */
public final class StoreUsage {
  private final long custodyHeldBytes;
  private final long ownHeldBytes;
  private final long custodyReservedBytes;
  private final long ownReservedBytes;
  private final long blobCount;
  private final long uploadCount;

  public StoreUsage(long custodyHeldBytes, long ownHeldBytes, long custodyReservedBytes, long ownReservedBytes,
      long blobCount, long uploadCount) {
    this.custodyHeldBytes = custodyHeldBytes;
    this.ownHeldBytes = ownHeldBytes;
    this.custodyReservedBytes = custodyReservedBytes;
    this.ownReservedBytes = ownReservedBytes;
    this.blobCount = blobCount;
    this.uploadCount = uploadCount;
  }

  public long custodyHeldBytes() {
    return custodyHeldBytes;
  }

  public long ownHeldBytes() {
    return ownHeldBytes;
  }

  /** Declared lengths of custody uploads in progress. */
  public long custodyReservedBytes() {
    return custodyReservedBytes;
  }

  public long ownReservedBytes() {
    return ownReservedBytes;
  }

  /** Blobs with bytes present (held or forwarding). */
  public long blobCount() {
    return blobCount;
  }

  /** Uploads in progress, open or resumable. */
  public long uploadCount() {
    return uploadCount;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof StoreUsage)) {
      return false;
    }
    StoreUsage u = (StoreUsage) o;
    return custodyHeldBytes == u.custodyHeldBytes && ownHeldBytes == u.ownHeldBytes
        && custodyReservedBytes == u.custodyReservedBytes && ownReservedBytes == u.ownReservedBytes
        && blobCount == u.blobCount && uploadCount == u.uploadCount;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(custodyHeldBytes) * 31 + Long.hashCode(blobCount);
  }

  @Override
  public String toString() {
    return "StoreUsage{custody held " + custodyHeldBytes + ", own held " + ownHeldBytes + ", custody reserved "
        + custodyReservedBytes + ", own reserved " + ownReservedBytes + ", blobs " + blobCount + ", uploads "
        + uploadCount + "}";
  }
}
