package io.crowdbackup.examples.android;

import io.crowdbackup.api.CrowdBackupException;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.CustodyUpload;
import io.crowdbackup.engine.custody.Forward;
import io.crowdbackup.engine.custody.HolderConfig;
import io.crowdbackup.engine.custody.Offer;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The holder side on a phone: accept envelopes from peers at the venue within the space the user gave,
 * and once on the home network forward each one, only to the destination in its own header, and drop it on
 * a receipt that verifies. Android API 26 safe (checked by animal-sniffer in this module's build).
 */
public final class PhoneHolder implements Closeable {
  /** How a forwarded envelope reaches its destination: the app's HTTP client, say. Returns the receipt. */
  public interface Home {
    byte[] deliver(String locator, Fingerprint fingerprint, ReadableByteChannel envelope) throws IOException;
  }

  private final Custodian custodian;

  private PhoneHolder(Custodian custodian) {
    this.custodian = custodian;
  }

  /** Opens the holder in the app's private folder ({@code Context.getFilesDir()}), giving {@code quotaBytes}. */
  public static PhoneHolder open(Path dir, long quotaBytes) throws IOException {
    RateLimit radio = RateLimit.perSecond(4L << 20); // what this phone spends on others: 4 MiB/s in total
    RateLimit perPeer = RateLimit.perSecond(1L << 20);
    return new PhoneHolder(Custodian.open(HolderConfig.newBuilder(dir)
        .limitBytes(quotaBytes)
        .peerSharePercent(25)                    // no single peer takes more than a quarter
        .maxRetention(Duration.ofHours(12))
        .ingress(radio, perPeer)
        .egress(radio, RateLimit.perSecond(4L << 20))
        .build()));
  }

  /** The custodian, for the source side of the same phone ({@link PhoneSource}). */
  public Custodian custodian() {
    return custodian;
  }

  /**
   * Takes one envelope a peer offers. A refusal comes before any byte is read and says why and what would
   * be accepted instead (free bytes, a shorter expiry): the peer's app moves on to the next holder.
   * {@code transfer} drives the progress bar, and its {@code cancel()} (the user's button, or the peer
   * leaving) stops the upload with its durable part kept for a resume.
   *
   * @return the refusal to send back, or {@code null} when the envelope is now held durably
   */
  public Refusal receive(String peer, Fingerprint fingerprint, long lengthBytes, long expiresAtEpochSecond,
      ReadableByteChannel fromPeer, Transfer transfer) throws IOException {
    Offer offer = Offer.newBuilder().fingerprint(fingerprint).declaredLengthBytes(lengthBytes)
        .envelopeExpiresAtEpochSecond(expiresAtEpochSecond).sourcePeer(peer).build();
    try (CustodyUpload upload = custodian.accept(offer)) {
      upload.transferFrom(transfer.reading(fromPeer, lengthBytes)); // checked as it arrives; resumable
      upload.commit();                // the fingerprint verified, then durable
      return null;
    } catch (RefusalException e) {
      return e.refusal();
    }
  }

  /** A peer asking to resume an upload that dropped: where to continue from. */
  public long resumeOffset(Fingerprint fingerprint) throws IOException {
    try (CustodyUpload upload = custodian.resume(fingerprint)) {
      return upload.durableOffset();
    } catch (RefusalException e) {
      return 0; // nothing to resume: the peer offers again
    }
  }

  /**
   * Back home: forwards each held envelope to its own destination, once, and drops it on a verified
   * receipt. One failure of any kind (network, a refused receipt, an expired blob) leaves that envelope held
   * for the next try and moves on to the next: a front-end catches one type.
   *
   * @return how many envelopes were delivered and dropped
   */
  public int forwardAll(Home home) throws IOException {
    int delivered = 0;
    for (Map.Entry<String, List<BlobStat>> byLocator : custodian.pendingByLocator().entrySet()) {
      for (BlobStat blob : byLocator.getValue()) {
        try (Forward forward = custodian.beginForward(blob.fingerprint(), byLocator.getKey())) {
          byte[] receipt = home.deliver(byLocator.getKey(), blob.fingerprint(), forward.channel());
          forward.delivered(receipt);  // verified against the key in the envelope's own header
          delivered++;
        } catch (CrowdBackupException e) {
          // Held again (closing an unfinished forward is a failed forward); expired ones go at eviction.
        }
      }
    }
    custodian.evictExpired();
    return delivered;
  }

  /** A release or receipt a peer brings: drops the copy if it verifies. */
  public boolean drop(byte[] signed) throws IOException {
    try {
      custodian.acceptRelease(signed);
      return true;
    } catch (CrowdBackupException e) {
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    custodian.close();
  }
}
