package io.crowdbackup.engine.custody;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.engine.policy.Throttle;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * An accepted offer's upload: bytes are paid for by the peer's and the global ingress bucket before the
 * store sees them. Its quota reservation stays until commit (then it is held), abort, rejection of its
 * bytes, or abandonment — the store reports each and the ledger follows. Not thread-safe.
 *
 * <p>A rejection caused by the bytes is thrown, and the upload is gone: a wrong fingerprint as the
 * envelope's {@link EnvelopeException} FINGERPRINT_MISMATCH; malformed bytes, a wrong length or an expiry
 * as a {@link RefusalException} MALFORMED or EXPIRED. A failure of this device (disk
 * full, I/O error, bandwidth timeout) is an {@link IOException}: the upload stays resumable, reserved.
 */
public final class CustodyUpload implements Closeable {
  private static final int BUFFER_BYTES = 64 * 1024;

  private final Custodian custodian;
  private final Upload upload;
  private final String sourcePeer;
  private final long custodyExpiresAtEpochSecond;
  private final Throttle ingress;
  private final long timeoutNanos;

  CustodyUpload(Custodian custodian, Upload upload, String sourcePeer, long custodyExpiresAtEpochSecond,
      Throttle ingress, long timeoutNanos) {
    this.custodian = custodian;
    this.upload = upload;
    this.sourcePeer = sourcePeer;
    this.custodyExpiresAtEpochSecond = custodyExpiresAtEpochSecond;
    this.ingress = ingress;
    this.timeoutNanos = timeoutNanos;
  }

  public Fingerprint fingerprint() {
    return upload.fingerprint();
  }

  public String sourcePeer() {
    return sourcePeer;
  }

  /** The latest expiry this holder granted; the header's own expiry caps it further at commit. */
  public long custodyExpiresAtEpochSecond() {
    return custodyExpiresAtEpochSecond;
  }

  public long declaredLengthBytes() {
    return upload.request().declaredLengthBytes();
  }

  public long offset() {
    return upload.offset();
  }

  /** Where a resume continues after a crash. */
  public long durableOffset() {
    return upload.durableOffset();
  }

  /**
   * Pays ingress for, then writes, all of {@code src}, in pieces no larger than the throttle grants.
   *
   * @throws RefusalException MALFORMED or EXPIRED: the store rejected the bytes and removed the upload (its
   *     reservation is freed)
   * @throws io.crowdbackup.api.policy.ThrottleTimeoutException if bandwidth was not granted in time; the
   *     upload stays resumable
   */
  public void write(ByteBuffer src) throws IOException, RefusalException {
    while (src.hasRemaining()) {
      int piece = (int) Math.min(src.remaining(), Math.min(ingress.maxGrantBytes(), Integer.MAX_VALUE));
      pay(piece);
      ByteBuffer slice = src.duplicate();
      ((Buffer) slice).limit(slice.position() + piece);
      try {
        upload.write(slice);
      } catch (StoreException e) {
        throw mapped(e);
      } catch (EnvelopeException e) {
        throw rejected(e);
      }
      ((Buffer) src).position(src.position() + piece);
    }
  }

  /** Writes everything {@code in} has, to its end (not committing). */
  public void transferFrom(ReadableByteChannel in) throws IOException, RefusalException {
    ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES);
    while (true) {
      ((Buffer) buf).clear();
      int n = in.read(buf);
      if (n < 0) {
        return;
      }
      ((Buffer) buf).flip();
      write(buf);
    }
  }

  /** Makes everything that arrived durable (a partial last piece too); returns the new durable offset. */
  public long checkpoint() throws IOException {
    return upload.checkpoint();
  }

  /**
   * Checks the whole envelope and its fingerprint, makes it durable and visible: the reservation becomes
   * held.
   *
   * @throws EnvelopeException FINGERPRINT_MISMATCH: the upload is gone
   * @throws RefusalException MALFORMED (short, long), EXPIRED; the upload is gone
   */
  public BlobStat commit() throws IOException, RefusalException {
    try {
      return upload.commit();
    } catch (StoreException e) {
      throw mapped(e);
    } catch (EnvelopeException e) {
      throw rejected(e);
    }
  }

  /** Drops the upload; its reservation is freed. Safe twice. */
  public void abort() throws IOException {
    upload.abort();
  }

  /** Releases the handle; an uncommitted upload stays resumable and reserved. */
  @Override
  public void close() throws IOException {
    upload.close();
  }

  private void pay(int bytes) throws IOException {
    try {
      ingress.acquire(bytes, timeoutNanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      InterruptedIOException io = new InterruptedIOException("interrupted while waiting for ingress bandwidth");
      io.initCause(e);
      throw io;
    }
  }

  /** Bytes the peer sent that the store rejected (and removed) are a refusal; anything else stays an error. */
  private RefusalException mapped(StoreException e) throws StoreException {
    Refusal r = StoreRefusals.refusalForUploadFailure(e);
    if (r == null) {
      throw e;
    }
    return custodian.refuse(r, e);
  }

  /** Bytes that are not the envelope offered: a refusal, or the envelope's own fingerprint mismatch. */
  private RefusalException rejected(EnvelopeException e) throws EnvelopeException {
    Refusal r = StoreRefusals.refusalFor(e);
    if (r == null) {
      throw e;
    }
    return custodian.refuse(r, e);
  }
}
