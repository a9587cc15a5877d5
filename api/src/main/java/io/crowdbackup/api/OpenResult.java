package io.crowdbackup.api;

import java.util.Objects;

/** What a successful open verified: the envelope's fingerprint, public header and inner metadata. */
public final class OpenResult {
  private final Fingerprint fingerprint;
  private final EnvelopeHeader header;
  private final InnerMetadata metadata;

  public OpenResult(Fingerprint fingerprint, EnvelopeHeader header, InnerMetadata metadata) {
    this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    this.header = Objects.requireNonNull(header, "header");
    this.metadata = Objects.requireNonNull(metadata, "metadata");
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

  @Override
  public String toString() {
    return "OpenResult{fingerprint=" + fingerprint + ", metadata=" + metadata + "}";
  }
}
