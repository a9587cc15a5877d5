package io.crowdbackup.api.store;

import io.crowdbackup.api.Fingerprint;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One resumable transfer into the store. Bytes are checked (envelope framing, fingerprint) as they
 * arrive; nothing is visible to readers until {@link #commit()}. Not thread-safe: one writer at a time.
 *
 * <p>{@link #close()} without {@link #commit()} or {@link #abort()} leaves the partial upload on disk to be
 * resumed with {@link CustodyStore#resume}; the store removes it after its abandonment time.
 */
public interface Upload extends Closeable {
  UploadRequest request();

  /** Bytes accepted so far (the next write continues here). */
  long offset();

  /**
   * The offset a resume after a crash would continue from: what the last {@link #checkpoint()} (explicit or
   * periodic) made stable. Never greater than {@link #offset()}.
   */
  long durableOffset();

  /**
   * Appends all of {@code src}, checking it as it goes.
   *
   * @throws io.crowdbackup.api.EnvelopeException on bad bytes (malformed, or a header declaring another
   *     length), {@link StoreException.Reason#PAST_EXPIRY} if
   *     the header's expiry (capped by the request) has passed (in each case the upload is aborted and
   *     removed), or an I/O reason such as {@link StoreException.Reason#DISK_FULL} (the upload stays
   *     resumable from {@link #durableOffset()}: close this handle and resume)
   */
  void write(ByteBuffer src) throws IOException;

  /**
   * Makes every byte written so far durable, the last partial piece included, and returns the new
   * {@link #durableOffset()} (then equal to {@link #offset()}).
   */
  long checkpoint() throws IOException;

  /**
   * Checks that the whole envelope arrived with the promised fingerprint, makes it durable and visible.
   * On any failure nothing is visible; a fingerprint or length failure also removes the partial upload.
   *
   * @throws io.crowdbackup.api.EnvelopeException {@code FINGERPRINT_MISMATCH}, or {@code TRUNCATED} and the
   *     like for bytes that end short of the envelope: the upload was removed
   *
   * @return the stored blob's stat (state {@link BlobState#HELD})
   */
  BlobStat commit() throws IOException;

  /** Removes the partial upload. Safe to call twice, and after {@link #close()}. */
  void abort() throws IOException;

  /** Releases the handle; an uncommitted upload stays resumable. Safe to call twice. */
  @Override
  void close() throws IOException;

  default Fingerprint fingerprint() {
    return request().fingerprint();
  }
}
