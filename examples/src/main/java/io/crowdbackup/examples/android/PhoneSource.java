package io.crowdbackup.examples.android;

import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.keys.KeyFormatException;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The source side on a phone: seal each new photo once, for home, into the phone's own custody store,
 * from where it is offered to nearby holders; later, once home has it, release the holders' copies.
 * Android API 26 safe (checked by animal-sniffer in this module's build).
 *
 * <pre>{@code
 * PhoneSource source = new PhoneSource(holder.custodian(), Keys.decodeCard(cardText), Keys.generateSigning());
 * BlobStat sealed = source.seal(photo, "image/jpeg", Transfer.create((done, total) -> bar.set(done, total)));
 * }</pre>
 */
public final class PhoneSource {
  /** How long holders keep a copy: about half a day, enough to get home. */
  static final Duration EXPIRY = Duration.ofHours(12);

  private final Custodian custodian;
  private final DestinationCard home;
  private final SigningKeyPair releaseKeys;

  /**
   * @param custodian this phone's holder ({@link PhoneHolder#custodian()}): its own envelopes live there
   * @param home the destination's public card (its text form, {@link Keys#decodeCard}, comes with the app)
   * @param releaseKeys this phone's signing keys; keep the seed ({@link Keys#encodeSigning}) in the keystore
   */
  public PhoneSource(Custodian custodian, DestinationCard home, SigningKeyPair releaseKeys) {
    this.custodian = custodian;
    this.home = home;
    this.releaseKeys = releaseKeys;
  }

  /** Reads a destination card shipped with the app. */
  public static DestinationCard card(String text) throws KeyFormatException {
    return Keys.decodeCard(text);
  }

  /**
   * Seals {@code photo} straight into the phone's store as an own envelope (no quota; never forwarded to
   * anyone but home): the envelope is written once, into the file that becomes the stored blob, and filed
   * under the fingerprint computed on the way. {@code transfer} drives the progress bar; its {@code cancel()}
   * stops the seal. Nothing half-written survives a failure, a cancel or a killed app.
   */
  public BlobStat seal(Path photo, String mediaType, Transfer transfer) throws IOException {
    try (EnvelopeSealer sealer = Envelopes.sealer()) {
      return custodian.sealOwn(sealer, request(photo.getFileName().toString(), mediaType), photo, transfer);
    }
  }

  /**
   * As {@link #seal(Path, String, Transfer)} for a photo or video whose length is not known up front: a
   * camera stream, an Android {@code content://} URI ({@code Channels.newChannel(resolver.openInputStream(uri))}).
   * The sealer spools it first, encrypted, inside the store's folder: its header carries the exact length.
   */
  public BlobStat seal(ReadableByteChannel stream, String name, String mediaType, Transfer transfer)
      throws IOException {
    try (EnvelopeSealer sealer = Envelopes.sealer()) {
      return custodian.sealOwnStream(sealer, request(name, mediaType), stream, transfer);
    }
  }

  private SealRequest request(String name, String mediaType) {
    return SealRequest.newBuilder()
        .destination(home)
        .releaseKey(releaseKeys.publicKey())
        .expiresAtEpochSecond(Instant.now().plus(EXPIRY).getEpochSecond())
        .name(name)
        .mediaType(mediaType)
        .build();
  }

  /** What this phone offers to holders right now (its own envelopes not yet delivered). */
  public List<BlobStat> offers() throws IOException {
    return custodian.ownEnvelopes();
  }

  /**
   * A signed release for a holder: home confirmed it has {@code sealed}, so the holder may drop its copy
   * now rather than at expiry. Send the bytes to every holder that took a copy.
   */
  public byte[] release(BlobStat sealed) {
    return Receipts.encode(Receipts.signRelease(releaseKeys, sealed.fingerprint(), Instant.now().getEpochSecond()));
  }
}
