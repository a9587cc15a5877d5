package io.crowdbackup.engine.inbox;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.InnerMetadata;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.engine.receipt.Receipts;
import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** What the inbox did with one envelope, and the signed receipt to hand back to whoever delivered it. */
public final class Delivery {
  /** How the envelope ended. */
  public enum Outcome {
    /** Opened and published as a new file in the inbox folder. */
    DELIVERED,
    /** Unwrapped by a relay; the inner envelope is queued in the outbox for forwarding. */
    RELAYED,
    /** Delivered before: nothing was written, and the receipt is the one given the first time. */
    DUPLICATE
  }

  private final Outcome outcome;
  private final Fingerprint fingerprint;
  private final Receipt receipt;
  private final Path file;
  private final @Nullable InnerMetadata metadata;
  private final @Nullable Fingerprint innerFingerprint;
  private final @Nullable String nextHopLocator;

  Delivery(Outcome outcome, Fingerprint fingerprint, Receipt receipt, Path file, @Nullable InnerMetadata metadata,
      @Nullable Fingerprint innerFingerprint, @Nullable String nextHopLocator) {
    this.outcome = Objects.requireNonNull(outcome, "outcome");
    this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    this.receipt = Objects.requireNonNull(receipt, "receipt");
    this.file = Objects.requireNonNull(file, "file");
    this.metadata = metadata;
    this.innerFingerprint = innerFingerprint;
    this.nextHopLocator = nextHopLocator;
  }

  public Outcome outcome() {
    return outcome;
  }

  /** The fingerprint of the envelope that was delivered (for a relay, the outer one). */
  public Fingerprint fingerprint() {
    return fingerprint;
  }

  /** The destination's (or relay's) signed receipt for {@link #fingerprint()}. */
  public Receipt receipt() {
    return receipt;
  }

  /** The receipt in its 143-byte wire form. */
  public byte[] receiptBytes() {
    return Receipts.encode(receipt);
  }

  /**
   * The published file: the plaintext in the inbox folder, or the queued inner envelope in a relay's
   * outbox. For a duplicate, where the first delivery put it (the user may have moved it since).
   */
  public Path file() {
    return file;
  }

  /** The verified inner metadata; {@code null} for a duplicate, which is not opened again. */
  public @Nullable InnerMetadata metadata() {
    return metadata;
  }

  /** For {@link Outcome#RELAYED}: the fingerprint of the queued inner envelope; otherwise {@code null}. */
  public @Nullable Fingerprint innerFingerprint() {
    return innerFingerprint;
  }

  /** For {@link Outcome#RELAYED}: the locator in the inner envelope's header; otherwise {@code null}. */
  public @Nullable String nextHopLocator() {
    return nextHopLocator;
  }

  @Override
  public String toString() {
    return "Delivery{" + outcome + ", fingerprint=" + fingerprint + ", file=" + file
        + (innerFingerprint == null ? "" : ", inner=" + innerFingerprint + " to " + nextHopLocator) + "}";
  }
}
