package io.crowdbackup.server;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.DropOutcome;
import io.crowdbackup.engine.custody.Forward;
import io.crowdbackup.engine.protocol.DeliveryQuery;
import io.crowdbackup.engine.protocol.OfferMessage;
import io.crowdbackup.engine.protocol.Problem;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The holder's forwarder, back home (docs/protocol.md §6): every held envelope goes only to the locator in
 * its own header. Per destination it first asks in one batch which envelopes are delivered and drops those
 * whose receipt verifies against the envelope's header; the rest it uploads by tus, resuming from the
 * destination's offset, and drops each on a receipt that verifies. A forged receipt leaves the copy.
 * Failures are retried against the same destination only ({@link Backoff}); no redirect is followed.
 * One forward at a time; not thread-safe.
 */
public final class Forwarder {
  private final Custodian custodian;
  private final HttpClient http;
  private final Backoff backoff;
  private final Duration requestTimeout;
  private final long patchBytes;

  private Forwarder(Builder b) {
    this.custodian = b.custodian;
    this.http = b.httpOrDefault(Duration.ofSeconds(10));
    this.backoff = b.backoff;
    this.requestTimeout = b.requestTimeout;
    this.patchBytes = b.patchBytes;
  }

  public static Builder newBuilder(Custodian custodian) {
    return new Builder(custodian);
  }

  /** What one run did. */
  public static final class Report {
    final AtomicLong droppedAlreadyDelivered = new AtomicLong();
    final AtomicLong delivered = new AtomicLong();
    final AtomicLong forgedReceipts = new AtomicLong();
    final AtomicLong bytesSent = new AtomicLong();
    final AtomicLong uploadsResumed = new AtomicLong();
    final Map<Fingerprint, String> failures = new LinkedHashMap<>();
    final List<String> skippedLocators = new ArrayList<>();

    /** Dropped because the destination already had them (nothing sent). */
    public long droppedAlreadyDelivered() {
      return droppedAlreadyDelivered.get();
    }

    /** Uploaded and dropped on a verified receipt. */
    public long delivered() {
      return delivered.get();
    }

    /** Receipts that did not verify: each copy stayed. */
    public long forgedReceipts() {
      return forgedReceipts.get();
    }

    /** Envelope bytes sent in PATCH bodies. */
    public long bytesSent() {
      return bytesSent.get();
    }

    /** Uploads that continued from a nonzero offset. */
    public long uploadsResumed() {
      return uploadsResumed.get();
    }

    /** Envelopes still held after this run, with why. */
    public Map<Fingerprint, String> failures() {
      return failures;
    }

    /**
     * Locators this forwarder will not contact (not http/https, or plain http to a host that is not a
     * loopback address); their envelopes stay held.
     */
    public List<String> skippedLocators() {
      return skippedLocators;
    }

    @Override
    public String toString() {
      return "forwarded: " + delivered + " delivered, " + droppedAlreadyDelivered + " already delivered, "
          + forgedReceipts + " forged receipts, " + failures.size() + " failed, " + bytesSent + " bytes sent"
          + (skippedLocators.isEmpty() ? "" : ", skipped locators " + skippedLocators);
    }
  }

  /** Forwards everything pending, destination by destination. */
  public Report forwardAll() throws IOException {
    Report report = new Report();
    for (Map.Entry<String, List<BlobStat>> group : custodian.pendingByLocator().entrySet()) {
      forwardGroup(group.getKey(), group.getValue(), report);
    }
    return report;
  }

  private void forwardGroup(String locator, List<BlobStat> blobs, Report report) {
    ProtocolClient client;
    try {
      client = new ProtocolClient(http, URI.create(locator), requestTimeout);
    } catch (IllegalArgumentException e) {
      report.skippedLocators.add(locator); // not an http(s) URL: nothing this forwarder can reach
      return;
    }
    URI base = client.base();
    if (!Tls.allowedInPlain(base)) {
      // Plain HTTP only to this machine: anywhere else the holder's copy and the receipt travel over TLS.
      report.skippedLocators.add(locator);
      return;
    }
    List<BlobStat> toSend = new ArrayList<>();
    for (int from = 0; from < blobs.size(); from += DeliveryQuery.MAX_FINGERPRINTS) {
      List<BlobStat> batch = blobs.subList(from, Math.min(blobs.size(), from + DeliveryQuery.MAX_FINGERPRINTS));
      List<Fingerprint> fps = new ArrayList<>(batch.size());
      for (BlobStat b : batch) {
        fps.add(b.fingerprint());
      }
      Map<Fingerprint, byte[]> delivered;
      try {
        delivered = backoff.run(() -> client.queryDeliveries(fps));
      } catch (IOException e) {
        for (BlobStat b : batch) {
          report.failures.put(b.fingerprint(), "delivery query to " + base + " failed: " + e.getMessage());
        }
        continue;
      }
      for (BlobStat b : batch) {
        byte[] receipt = delivered.get(b.fingerprint());
        if (receipt == null) {
          toSend.add(b);
          continue;
        }
        try {
          DropOutcome o = custodian.acceptReceipt(b.fingerprint(), receipt);
          if (o == DropOutcome.DROPPED) {
            report.droppedAlreadyDelivered.incrementAndGet();
          }
        } catch (ReceiptException e) {
          // The destination claims delivery with a receipt its own key did not sign: keep the copy, send
          // nothing to it this run (it would answer the same).
          report.forgedReceipts.incrementAndGet();
          report.failures.put(b.fingerprint(), "receipt from " + base + " refused: " + e.getMessage());
        } catch (IOException e) {
          report.failures.put(b.fingerprint(), "could not record the receipt: " + e.getMessage());
        }
      }
    }
    for (BlobStat b : toSend) {
      try {
        forwardOne(client, locator, b, report);
      } catch (IOException e) {
        report.failures.put(b.fingerprint(), e.getMessage());
      }
    }
  }

  private void forwardOne(ProtocolClient client, String locator, BlobStat blob, Report report) throws IOException {
    // After an attempt that failed on the way (a cut connection), the bytes no longer go with the creation:
    // the destination may hold some of them already, and its answer says where the PATCHes go on.
    boolean[] carry = {true};
    backoff.run(() -> {
      boolean verified;
      try {
        verified = attemptOnce(client, locator, blob, report, carry[0]);
      } catch (IOException e) {
        carry[0] = false;
        throw e;
      }
      if (!verified) {
        // Not retried: the destination would answer the same receipt again.
        throw new Backoff.Final("the receipt from " + client.base() + " did not verify; the copy stays");
      }
      return null;
    });
  }

  /** One attempt; true when the blob was dropped, false on a receipt that did not verify. */
  private boolean attemptOnce(ProtocolClient client, String locator, BlobStat blob, Report report, boolean carry)
      throws IOException {
    try (Forward f = custodian.beginForward(blob.fingerprint(), locator)) {
      Map<String, String> md = new LinkedHashMap<>();
      md.put(OfferMessage.FINGERPRINT, blob.fingerprint().toHex());
      md.put(OfferMessage.EXPIRES, Long.toString(blob.expiresAtEpochSecond()));
      long length = blob.envelopeLengthBytes();
      ProtocolClient.Created created;
      // A small envelope goes with the creation (one exchange); its bytes are held, because the channel
      // cannot rewind if the destination answers less than all of them (another holder's upload stands
      // further on, or it ignored them).
      byte[] small = carry && length <= Math.min(patchBytes, ProtocolClient.CREATE_WITH_UPLOAD_MAX_BYTES)
          ? RangeInputStream.readAll(f.channel(), (int) length) : null;
      try {
        created = small == null ? client.create(md, length)
            : client.create(md, length, () -> new java.io.ByteArrayInputStream(small), length);
      } catch (ProtocolFailure e) {
        byte[] receipt = e.is(Problem.Type.ALREADY_DELIVERED) ? ProtocolClient.receiptOf(e) : null;
        if (receipt == null) {
          throw e;
        }
        return verifyAndDrop(f, receipt, report, false);
      }
      long offset = created.offset();
      byte[] receipt = created.receipt();
      if (small != null) {
        report.bytesSent.addAndGet(length); // on the wire, whatever the destination kept of them
      } else if (offset > 0) {
        report.uploadsResumed.incrementAndGet();
      }
      if (small == null) {
        RangeInputStream.skip(f.channel(), offset);
      }
      while (offset < length) {
        long n = Math.min(patchBytes, length - offset);
        InputStream body = small != null ? new java.io.ByteArrayInputStream(small, (int) offset, (int) n)
            : new RangeInputStream(f.channel(), n);
        ProtocolClient.Patched p = client.patch(created.upload(), offset, () -> body, n);
        if (p.offset() != offset + n) {
          throw new IOException(created.upload() + " answered offset " + p.offset() + " after a PATCH to "
              + (offset + n));
        }
        report.bytesSent.addAndGet(n);
        offset = p.offset();
        receipt = p.receipt();
      }
      if (receipt == null) {
        // A destination that took the bytes but sent no receipt: ask for it.
        receipt = client.delivery(blob.fingerprint());
        if (receipt == null) {
          throw new IOException(client.base() + " took all " + length + " bytes of " + blob.fingerprint()
              + " but has no receipt for it");
        }
      }
      return verifyAndDrop(f, receipt, report, true);
    }
  }

  private static boolean verifyAndDrop(Forward f, byte[] receipt, Report report, boolean uploaded) throws IOException {
    try {
      f.delivered(receipt);
    } catch (ReceiptException e) {
      report.forgedReceipts.incrementAndGet();
      f.failed();
      return false;
    }
    (uploaded ? report.delivered : report.droppedAlreadyDelivered).incrementAndGet();
    return true;
  }

  /** Fail-fast builder. */
  public static final class Builder extends TransferOptions<Builder> {
    private final Custodian custodian;

    private Builder(Custodian custodian) {
      this.custodian = Objects.requireNonNull(custodian, "custodian");
    }

    @Override
    Builder self() {
      return this;
    }

    public Forwarder build() {
      return new Forwarder(this);
    }
  }
}
