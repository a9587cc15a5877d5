package io.crowdbackup.engine.protocol;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where a destination server keeps what it receives: the first copy of each envelope and the receipt it
 * signed for it. The filesystem {@link Inbox} is the default ({@link #inbox}); an object-store sink (S3,
 * with a conditional write deciding the first copy) plugs in here. Implementations are thread-safe.
 */
public interface DeliverySink {
  /** The receipt stored for {@code fingerprint} (its 143-byte wire form), or {@code null} if not delivered. */
  byte @Nullable [] receipt(Fingerprint fingerprint) throws IOException;

  /**
   * Verifies and keeps one whole envelope (first copy wins) and returns its receipt, the stored one for a
   * duplicate, byte for byte.
   *
   * @throws io.crowdbackup.api.EnvelopeException the envelope was rejected (including a fingerprint other
   *     than {@code expected}); nothing was kept
   * @throws IOException this side failed; nothing was kept, the same bytes may be delivered again
   */
  byte[] deliver(ReadableByteChannel envelope, Fingerprint expected) throws IOException;

  /** A sink over a filesystem inbox (opened and closed by the caller). */
  static DeliverySink inbox(Inbox inbox) {
    Objects.requireNonNull(inbox, "inbox");
    return new DeliverySink() {
      @Override
      public byte @Nullable [] receipt(Fingerprint fingerprint) throws IOException {
        Receipt r = inbox.receiptFor(fingerprint);
        return r == null ? null : Receipts.encode(r);
      }

      @Override
      public byte[] deliver(ReadableByteChannel envelope, Fingerprint expected) throws IOException {
        return inbox.deliver(envelope, expected).receiptBytes();
      }
    };
  }
}
