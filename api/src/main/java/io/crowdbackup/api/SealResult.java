package io.crowdbackup.api;

import java.util.Objects;

/** What sealing produced: the envelope's fingerprint, its exact length, and its public header. */
public final class SealResult {
  private final Fingerprint fingerprint;
  private final long envelopeLengthBytes;
  private final EnvelopeHeader header;

  public SealResult(Fingerprint fingerprint, long envelopeLengthBytes, EnvelopeHeader header) {
    this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    this.envelopeLengthBytes = envelopeLengthBytes;
    this.header = Objects.requireNonNull(header, "header");
  }

  public Fingerprint fingerprint() {
    return fingerprint;
  }

  public long envelopeLengthBytes() {
    return envelopeLengthBytes;
  }

  public EnvelopeHeader header() {
    return header;
  }

  @Override
  public String toString() {
    return "SealResult{fingerprint=" + fingerprint + ", envelopeLengthBytes=" + envelopeLengthBytes + "}";
  }
}
