package io.crowdbackup.api.store;

import io.crowdbackup.api.Fingerprint;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** What the store knows about one blob, without reading its bytes. Immutable. */
public final class BlobStat {
  private final Fingerprint fingerprint;
  private final long envelopeLengthBytes;
  private final long expiresAtEpochSecond;
  private final BlobState state;
  private final BlobKind kind;
  private final String sourcePeer;
  private final String locator;
  private final long storedAtEpochMillis;

  /**
   * @param fingerprint the blob's fingerprint
   * @param envelopeLengthBytes the envelope's exact length
   * @param expiresAtEpochSecond when the store drops it: the earlier of the envelope's expiry and the
   *     retention cap given at upload
   * @param state custody state
   * @param kind own or custody
   * @param sourcePeer the peer that handed it over ("" for the device's own blobs)
   * @param locator the destination (or relay) locator from the envelope header
   * @param storedAtEpochMillis when the upload began
   */
  public BlobStat(Fingerprint fingerprint, long envelopeLengthBytes, long expiresAtEpochSecond, BlobState state,
      BlobKind kind, String sourcePeer, String locator, long storedAtEpochMillis) {
    this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    this.envelopeLengthBytes = envelopeLengthBytes;
    this.expiresAtEpochSecond = expiresAtEpochSecond;
    this.state = Objects.requireNonNull(state, "state");
    this.kind = Objects.requireNonNull(kind, "kind");
    this.sourcePeer = Objects.requireNonNull(sourcePeer, "sourcePeer");
    this.locator = Objects.requireNonNull(locator, "locator");
    this.storedAtEpochMillis = storedAtEpochMillis;
  }

  public Fingerprint fingerprint() {
    return fingerprint;
  }

  public long envelopeLengthBytes() {
    return envelopeLengthBytes;
  }

  public long expiresAtEpochSecond() {
    return expiresAtEpochSecond;
  }

  public BlobState state() {
    return state;
  }

  public BlobKind kind() {
    return kind;
  }

  public String sourcePeer() {
    return sourcePeer;
  }

  public String locator() {
    return locator;
  }

  public long storedAtEpochMillis() {
    return storedAtEpochMillis;
  }

  /** Bytes this blob counts against its kind's usage: its length while its bytes are held, else 0. */
  public long heldBytes() {
    return state.hasBytes() ? envelopeLengthBytes : 0;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof BlobStat)) {
      return false;
    }
    BlobStat s = (BlobStat) o;
    return fingerprint.equals(s.fingerprint) && envelopeLengthBytes == s.envelopeLengthBytes
        && expiresAtEpochSecond == s.expiresAtEpochSecond && state == s.state && kind == s.kind
        && sourcePeer.equals(s.sourcePeer) && locator.equals(s.locator)
        && storedAtEpochMillis == s.storedAtEpochMillis;
  }

  @Override
  public int hashCode() {
    return fingerprint.hashCode() * 31 + state.hashCode();
  }

  @Override
  public String toString() {
    return "BlobStat{" + fingerprint.toHex().substring(0, 16) + "…, " + envelopeLengthBytes + " bytes, " + state
        + ", " + kind + ", expires " + expiresAtEpochSecond + ", peer '" + sourcePeer + "', locator '" + locator
        + "'}";
  }
}
