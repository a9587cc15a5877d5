package io.crowdbackup.engine.store;

import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.UploadInfo;

/**
 * Told of every change to what a running store holds, so that a policy layer (quotas, per-peer shares)
 * can keep its ledger exact without polling — including the changes the store makes on its own
 * (quarantine, abandoned uploads, expiry). Not told of what recovery finds at open: read
 * {@link FileCustodyStore#usage()}, {@code list()} and {@code uploads()} once after opening.
 *
 * <p>Called under the store's lock, after the change is durable: return quickly, do not call back into
 * the store, and do not throw (an exception propagates to the caller of the store operation, whose change
 * has nevertheless happened).
 */
public interface StoreListener {
  /** Why a blob's bytes stopped counting. */
  enum Removal {
    /** Moved to DELIVERED (its fingerprint stays remembered as a tombstone). */
    DELIVERED,
    /** Deleted by a caller. */
    DELETED,
    /** Its expiry passed and it was dropped. */
    EXPIRED,
    /** It failed verification and was moved to quarantine. */
    QUARANTINED
  }

  /** How an upload ended. */
  enum UploadEnd {
    /** Its blob was stored ({@link #blobAdded} follows). */
    COMMITTED,
    /** Aborted by the caller, or by the store after rejecting its bytes. */
    ABORTED,
    /** Removed after its abandonment time. */
    ABANDONED
  }

  StoreListener NONE = new StoreListener() { };

  default void uploadStarted(UploadInfo upload) {}

  default void uploadEnded(UploadInfo upload, UploadEnd how) {}

  default void blobAdded(BlobStat blob) {}

  /** {@code blob} is the stat as it was just before the removal. */
  default void blobRemoved(BlobStat blob, Removal why) {}
}
