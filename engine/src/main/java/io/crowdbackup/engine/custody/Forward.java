package io.crowdbackup.engine.custody;

import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.store.BlobStat;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;

/**
 * One forward of a blob to the locator in its own header. The blob is FORWARDING until this handle
 * finishes: {@link #delivered} with the destination's receipt (the blob is dropped), or {@link #failed()}
 * (back to HELD; closing an unfinished handle does the same). Not thread-safe.
 */
public final class Forward implements Closeable {
  private final Custodian custodian;
  private final BlobStat blob;
  private final ReadableByteChannel channel;
  private boolean finished;

  Forward(Custodian custodian, BlobStat blob, ReadableByteChannel channel) {
    this.custodian = custodian;
    this.blob = blob;
    this.channel = channel;
  }

  /** The blob as it was when the forward began. */
  public BlobStat blob() {
    return blob;
  }

  /** The envelope's verified bytes, paid for by the egress throttle of the destination locator. */
  public ReadableByteChannel channel() {
    return channel;
  }

  /**
   * The destination answered with a receipt: verified against the blob's header, the blob is dropped.
   *
   * @throws ReceiptException when it does not verify; the forward stays open (call {@link #failed()})
   */
  public DropOutcome delivered(byte[] encodedReceipt) throws ReceiptException, IOException {
    ensureNotFinished();
    DropOutcome o = custodian.drop(blob.fingerprint(), encodedReceipt, Receipt.Kind.RECEIPT);
    finish();
    return o;
  }

  /** The forward failed: the blob is HELD again and may be forwarded later. */
  public void failed() throws IOException {
    ensureNotFinished();
    finished = true;
    try {
      custodian.returnToHeld(blob.fingerprint());
    } finally {
      finish();
    }
  }

  /** Same as {@link #failed()} if not finished; then closes the channel. Safe twice. */
  @Override
  public void close() throws IOException {
    try {
      if (!finished) {
        failed();
      }
    } finally {
      channel.close();
    }
  }

  private void ensureNotFinished() throws CustodyException {
    if (finished) {
      throw new CustodyException(CustodyException.Reason.FORWARD_FINISHED,
          "the forward of " + blob.fingerprint() + " was already finished");
    }
  }

  private void finish() throws IOException {
    finished = true;
    custodian.forwardFinished(blob.fingerprint());
    channel.close();
  }
}
