package io.crowdbackup.api;

import java.util.Objects;

/**
 * What a successful open verified: the envelope's fingerprint, public header and inner metadata, and the
 * SHA-256 of the plaintext the opener wrote, computed in the same pass that wrote it (format v2 carries no
 * plaintext hash; the destination records this one with the delivery).
 */
public final class OpenResult {
  private final Fingerprint fingerprint;
  private final EnvelopeHeader header;
  private final InnerMetadata metadata;
  private final byte[] plaintextSha256;

  public OpenResult(Fingerprint fingerprint, EnvelopeHeader header, InnerMetadata metadata, byte[] plaintextSha256) {
    this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    this.header = Objects.requireNonNull(header, "header");
    this.metadata = Objects.requireNonNull(metadata, "metadata");
    this.plaintextSha256 = Bytes32.copyOfLength(plaintextSha256, 32, "plaintextSha256");
  }

  public Fingerprint fingerprint() {
    return fingerprint;
  }

  public EnvelopeHeader header() {
    return header;
  }

  public InnerMetadata metadata() {
    return metadata;
  }

  /** A copy of the SHA-256 of the plaintext written out (what {@code sha256sum} of the opened file prints). */
  public byte[] plaintextSha256() {
    return plaintextSha256.clone();
  }

  @Override
  public String toString() {
    return "OpenResult{fingerprint=" + fingerprint + ", metadata=" + metadata + "}";
  }
}
