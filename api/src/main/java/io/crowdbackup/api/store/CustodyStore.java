package io.crowdbackup.api.store;

import io.crowdbackup.api.Fingerprint;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A content-addressed, crash-safe store of envelopes keyed by fingerprint: the device's own envelopes and
 * custody blobs held for others (told apart by {@link BlobKind}). It takes no key material: it checks
 * envelope framing and fingerprints, never content.
 *
 * <p>Promises: a call that stores or changes something returns only once that is on stable storage; a
 * blob is visible only complete and verified; a byte is served only after the piece that holds it was
 * verified against its digest. One process owns a store directory at a time.
 *
 * <p>Left out on purpose: quotas, retention limits, bandwidth and receipts. Those are policy and wrap this
 * interface; {@link UploadRequest#declaredLengthBytes()} is known before the first byte so a policy can
 * reserve quota in {@link #begin}, and {@link #usage()} and {@link #uploads()} give it the ledger after a
 * restart.
 */
public interface CustodyStore extends Closeable {
  /**
   * Stores a whole envelope from {@code in} (read to its end). Same as {@link #begin}, writing everything,
   * and {@link Upload#commit()}; on failure nothing is left behind.
   */
  BlobStat put(UploadRequest request, ReadableByteChannel in) throws IOException;

  /**
   * Starts a resumable upload.
   *
   * @throws StoreException {@link StoreException.Reason#DUPLICATE} if the fingerprint is stored or being
   *     uploaded, {@link StoreException.Reason#DELIVERED} if it was delivered
   */
  Upload begin(UploadRequest request) throws IOException;

  /**
   * Reopens an upload that was closed, dropped or interrupted by a crash. It continues from
   * {@link Upload#durableOffset()}: the sender re-sends from there (at most one chunk of what was already
   * sent before the last checkpoint). Of what is already stored, only the envelope header and the last
   * durable piece (at most one chunk) are re-read, to check them; the rest is carried on from the piece
   * digests the upload journaled.
   *
   * @throws StoreException {@link StoreException.Reason#NOT_FOUND} if there is no such upload
   */
  Upload resume(Fingerprint fingerprint) throws IOException;

  /** Uploads in progress or resumable, for a policy's ledger. */
  List<UploadInfo> uploads() throws IOException;

  /**
   * Discards a resumable upload (one not open in a handle, such as one a killed process left): its files
   * are removed and its reservation ends ({@code ABORTED}). An upload open in a handle is aborted through
   * that handle.
   *
   * @return whether there was such an upload
   * @throws StoreException {@link StoreException.Reason#DUPLICATE} if the upload is open in a handle
   */
  boolean abortUpload(Fingerprint fingerprint) throws IOException;

  /**
   * Opens a stored blob for reading. Each piece is verified against its digest before any of its bytes is
   * returned; a mismatch quarantines the blob and the channel throws {@link StoreException.Reason#CORRUPT}.
   *
   * @throws StoreException {@link StoreException.Reason#NOT_FOUND}, {@link StoreException.Reason#PAST_EXPIRY}
   */
  ReadableByteChannel open(Fingerprint fingerprint) throws IOException;

  /**
   * Reads every piece of a blob and checks it against its digests and fingerprint; quarantines it if any
   * check fails.
   *
   * @throws StoreException {@link StoreException.Reason#CORRUPT} after quarantining
   */
  void verify(Fingerprint fingerprint) throws IOException;

  /** The blob's stat, or {@code null} if the store does not know it (delivered blobs are known). */
  @Nullable BlobStat stat(Fingerprint fingerprint) throws IOException;

  /** Whether a blob with bytes present (held or forwarding) is stored under this fingerprint. */
  boolean contains(Fingerprint fingerprint) throws IOException;

  /** Every blob the store knows, in no particular order. */
  List<BlobStat> list() throws IOException;

  /** Blobs addressed to this destination (or relay) locator, soonest expiry first. */
  List<BlobStat> listByLocator(String locator) throws IOException;

  /** Blobs in this state. */
  List<BlobStat> listByState(BlobState state) throws IOException;

  /**
   * Moves a blob to another custody state, durably. Moving to {@link BlobState#DELIVERED} removes its bytes
   * and frees their accounting at once; the fingerprint is remembered until the blob's expiry (with its
   * length, expiry and kind; its source peer and locator then read as "").
   *
   * @throws StoreException {@link StoreException.Reason#ILLEGAL_STATE_TRANSITION} if
   *     {@link BlobState#canMoveTo} forbids it
   */
  BlobStat transition(Fingerprint fingerprint, BlobState next) throws IOException;

  /** Removes a blob and anything remembered about it. Returns whether there was one. */
  boolean delete(Fingerprint fingerprint) throws IOException;

  /**
   * Drops every blob whose expiry is at or before {@code nowEpochSecond}, whole expiry groups at a time:
   * the cost is what expired, not what is stored. Also removes uploads abandoned for longer than the
   * store's abandonment time.
   *
   * @return the number of blobs dropped
   */
  long dropExpired(long nowEpochSecond) throws IOException;

  /**
   * Every file in quarantine (blobs that failed their checks at open or on read, and copies of damaged
   * state logs), oldest first. Costs a listing of the quarantine folder.
   */
  List<QuarantinedBlob> quarantined() throws IOException;

  /** Byte accounting now. */
  StoreUsage usage();

  /** Flushes the index, writes the clean-shutdown marker and releases the directory lock. Safe twice. */
  @Override
  void close() throws IOException;
}
