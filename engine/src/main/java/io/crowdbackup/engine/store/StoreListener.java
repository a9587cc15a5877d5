package io.crowdbackup.engine.store;

import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.QuarantinedBlob;
import io.crowdbackup.api.store.UploadInfo;
import java.util.List;

/**
 * Told of every change to what a running store holds, so that a policy layer (quotas, per-peer shares)
 * can keep its ledger exact without polling — including the changes the store makes on its own
 * (quarantine, abandoned uploads, expiry). Not told of the blobs and uploads recovery finds at open: read
 * {@link FileCustodyStore#usage()}, {@code list()} and {@code uploads()} once after opening. Damage is the
 * exception: {@link #quarantined} and {@link #stateLogDamaged} are called for what open finds too, so no
 * damage passes unreported.
 *
 * <p>Called after the change is durable, outside the store's locks, one call at a time and in the order
 * the changes happened, before the operation that made the change returns (the thread of another
 * operation may make the call). Return quickly (other operations' calls wait behind a slow one, though
 * {@code stat} and the other reads do not) and do not throw: an exception propagates to the caller of a
 * store operation, whose change has nevertheless happened.
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

  /**
   * A file failed its checks and was moved to quarantine: at open (then no {@link #blobRemoved} precedes
   * it, the blob was never counted) or on read (after {@code blobRemoved(…, QUARANTINED)}), own or custody.
   */
  default void quarantined(QuarantinedBlob blob) {}

  /**
   * Recovery found damaged entries (or a damaged header) in a state log: each is dropped, the entries
   * after it are kept, a copy of the damaged log is put in quarantine, and the log is rewritten sound.
   *
   * @param damage one line per damaged part: its offset and why
   */
  default void stateLogDamaged(String log, List<String> damage) {}
}
