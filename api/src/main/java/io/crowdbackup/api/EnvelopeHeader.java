package io.crowdbackup.api;

import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The public header of an envelope: everything a holder can see, and nothing tied to the content. Read
 * without a key; the values have passed the format's bounds checks but are not authenticated until the
 * destination opens the envelope (a holder relies on the fingerprint instead).
 */
public final class EnvelopeHeader {
  private final int formatVersion;
  private final int suite;
  private final int chunkSizeBytes;
  private final long envelopeLengthBytes;
  private final long expiresAtEpochSecond;
  private final String locator;
  private final byte[] receiptKey;
  private final byte[] releaseKey;
  private final byte[] ephemeralKey;
  private final byte[] salt;
  private final int encodedLengthBytes;

  /**
   * @param formatVersion envelope format version
   * @param suite cipher suite identifier
   * @param chunkSizeBytes plaintext bytes per data chunk
   * @param envelopeLengthBytes exact length of the whole envelope, header included
   * @param expiresAtEpochSecond when holders may drop the envelope, seconds since the epoch
   * @param locator where the envelope is delivered: the destination's, or a relay's
   * @param receiptKey the destination's Ed25519 key that signs delivery receipts (32 bytes)
   * @param releaseKey the source's Ed25519 key that signs releases (32 bytes)
   * @param ephemeralKey the sender's ephemeral X25519 public key (32 bytes)
   * @param salt the per-envelope HKDF salt (32 bytes)
   * @param encodedLengthBytes bytes from the start of the envelope to its first chunk record
   */
  public EnvelopeHeader(
      int formatVersion,
      int suite,
      int chunkSizeBytes,
      long envelopeLengthBytes,
      long expiresAtEpochSecond,
      String locator,
      byte[] receiptKey,
      byte[] releaseKey,
      byte[] ephemeralKey,
      byte[] salt,
      int encodedLengthBytes) {
    this.formatVersion = formatVersion;
    this.suite = suite;
    this.chunkSizeBytes = chunkSizeBytes;
    this.envelopeLengthBytes = envelopeLengthBytes;
    this.expiresAtEpochSecond = expiresAtEpochSecond;
    this.locator = Objects.requireNonNull(locator, "locator");
    this.receiptKey = Bytes32.copyOfLength(receiptKey, 32, "receiptKey");
    this.releaseKey = Bytes32.copyOfLength(releaseKey, 32, "releaseKey");
    this.ephemeralKey = Bytes32.copyOfLength(ephemeralKey, 32, "ephemeralKey");
    this.salt = Bytes32.copyOfLength(salt, 32, "salt");
    this.encodedLengthBytes = encodedLengthBytes;
  }

  public int formatVersion() {
    return formatVersion;
  }

  public int suite() {
    return suite;
  }

  public int chunkSizeBytes() {
    return chunkSizeBytes;
  }

  public long envelopeLengthBytes() {
    return envelopeLengthBytes;
  }

  public long expiresAtEpochSecond() {
    return expiresAtEpochSecond;
  }

  /** The delivery locator: the destination's, or for a relayed envelope the relay's. */
  public String locator() {
    return locator;
  }

  /** A copy of the destination's Ed25519 receipt-verification key. */
  public byte[] receiptKey() {
    return receiptKey.clone();
  }

  /** A copy of the source's Ed25519 release-verification key. */
  public byte[] releaseKey() {
    return releaseKey.clone();
  }

  /** A copy of the ephemeral X25519 public key. */
  public byte[] ephemeralKey() {
    return ephemeralKey.clone();
  }

  /** A copy of the HKDF salt. */
  public byte[] salt() {
    return salt.clone();
  }

  /** Bytes from the start of the envelope to its first chunk record (prelude, header and header MAC). */
  public int encodedLengthBytes() {
    return encodedLengthBytes;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof EnvelopeHeader)) {
      return false;
    }
    EnvelopeHeader h = (EnvelopeHeader) o;
    return formatVersion == h.formatVersion
        && suite == h.suite
        && chunkSizeBytes == h.chunkSizeBytes
        && envelopeLengthBytes == h.envelopeLengthBytes
        && expiresAtEpochSecond == h.expiresAtEpochSecond
        && encodedLengthBytes == h.encodedLengthBytes
        && locator.equals(h.locator)
        && Arrays.equals(receiptKey, h.receiptKey)
        && Arrays.equals(releaseKey, h.releaseKey)
        && Arrays.equals(ephemeralKey, h.ephemeralKey)
        && Arrays.equals(salt, h.salt);
  }

  @Override
  public int hashCode() {
    return Objects.hash(envelopeLengthBytes, expiresAtEpochSecond, locator, Arrays.hashCode(ephemeralKey));
  }

  @Override
  public String toString() {
    return "EnvelopeHeader{version=" + formatVersion
        + ", suite=" + suite
        + ", chunkSizeBytes=" + chunkSizeBytes
        + ", envelopeLengthBytes=" + envelopeLengthBytes
        + ", expiresAtEpochSecond=" + expiresAtEpochSecond
        + ", locator=" + locator
        + ", receiptKey=" + Bytes32.hex(receiptKey)
        + ", releaseKey=" + Bytes32.hex(releaseKey)
        + "}";
  }
}
