package io.crowdbackup.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * A destination's secret keys with its public card: the X25519 private key that opens envelopes and the
 * Ed25519 private seed that signs receipts. Secret bytes are read only through {@link SecretAccess}, and
 * never appear in {@link #toString()}.
 */
public final class DestinationKeyPair {
  private final DestinationCard card;
  private final byte[] agreementPrivateKey;
  private final byte[] receiptSigningSeed;

  /**
   * Wraps already-generated keys. The caller is responsible for the public keys in {@code card} matching
   * the private ones; the engine's key codec checks this when it decodes a key file.
   */
  public DestinationKeyPair(DestinationCard card, byte[] agreementPrivateKey, byte[] receiptSigningSeed) {
    this.card = Objects.requireNonNull(card, "card");
    this.agreementPrivateKey = Bytes32.copyOfLength(agreementPrivateKey, 32, "agreementPrivateKey");
    this.receiptSigningSeed = Bytes32.copyOfLength(receiptSigningSeed, 32, "receiptSigningSeed");
  }

  public DestinationCard card() {
    return card;
  }

  /** A copy of the X25519 private key. */
  public byte[] agreementPrivateKey(SecretAccess access) {
    Objects.requireNonNull(access, "access");
    return agreementPrivateKey.clone();
  }

  /** A copy of the Ed25519 private seed that signs receipts. */
  public byte[] receiptSigningSeed(SecretAccess access) {
    Objects.requireNonNull(access, "access");
    return receiptSigningSeed.clone();
  }

  /** Overwrites the secret bytes held here; the pair is unusable afterwards. */
  public void destroy() {
    Arrays.fill(agreementPrivateKey, (byte) 0);
    Arrays.fill(receiptSigningSeed, (byte) 0);
  }

  @Override
  public String toString() {
    return "DestinationKeyPair{card=" + card + ", secret keys redacted}";
  }
}
