package io.crowdbackup.api.store;

import io.crowdbackup.api.Fingerprint;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a sender offers before the first byte: everything a policy layer needs to reserve quota
 * ({@link #declaredLengthBytes()}, {@link #sourcePeer()}, {@link #kind()}) and everything the store checks
 * the bytes against. Immutable; built with {@link #newBuilder()}, which refuses a setting given twice
 * ("was already set to"; {@code own()} and {@code custodyFrom(peer)} are one setting, the kind).
 */
public final class UploadRequest {
  /** Longest source-peer name, in UTF-8 bytes. */
  public static final int MAX_PEER_BYTES = 255;
  /** Smallest declared length that can hold an envelope (header and final record). */
  public static final long MIN_DECLARED_LENGTH_BYTES = 1;

  private final Fingerprint fingerprint;
  private final long declaredLengthBytes;
  private final String sourcePeer;
  private final BlobKind kind;
  private final long expiresNoLaterThanEpochSecond;

  private UploadRequest(Builder b) {
    // build() checked that the required values were set.
    this.fingerprint = Objects.requireNonNull(b.fingerprint, "fingerprint");
    this.declaredLengthBytes = b.declaredLengthBytes;
    this.sourcePeer = Objects.requireNonNull(b.sourcePeer, "sourcePeer");
    this.kind = Objects.requireNonNull(b.kind, "kind");
    this.expiresNoLaterThanEpochSecond = b.expiresNoLaterThanEpochSecond;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** The fingerprint the sender promises; the bytes must hash to it or nothing is stored. */
  public Fingerprint fingerprint() {
    return fingerprint;
  }

  /** The exact envelope length the sender promises; must equal the length in the envelope header. */
  public long declaredLengthBytes() {
    return declaredLengthBytes;
  }

  /** Who hands the blob over ("" for the device's own envelopes). */
  public String sourcePeer() {
    return sourcePeer;
  }

  public BlobKind kind() {
    return kind;
  }

  /**
   * The latest expiry this store grants (the holder's retention cap); the blob expires at the earlier of
   * this and the envelope's own expiry. {@link Long#MAX_VALUE} when uncapped.
   */
  public long expiresNoLaterThanEpochSecond() {
    return expiresNoLaterThanEpochSecond;
  }

  @Override
  public String toString() {
    return "UploadRequest{" + fingerprint + ", " + declaredLengthBytes + " bytes, " + kind + ", peer '"
        + sourcePeer + "'}";
  }

  /**
   * Builds an {@link UploadRequest}: each setting once; {@link #build()} checks that the required values
   * were set and does not change the builder.
   */
  public static final class Builder {
    private @Nullable Fingerprint fingerprint;
    private long declaredLengthBytes = -1;
    private @Nullable String sourcePeer;
    private @Nullable BlobKind kind;
    private long expiresNoLaterThanEpochSecond = Long.MAX_VALUE;
    private final Set<String> set = new HashSet<>();

    private Builder() {}

    public Builder fingerprint(Fingerprint fingerprint) {
      Objects.requireNonNull(fingerprint, "fingerprint");
      requireUnset("fingerprint", this.fingerprint);
      this.fingerprint = fingerprint;
      return this;
    }

    public Builder declaredLengthBytes(long declaredLengthBytes) {
      if (declaredLengthBytes < MIN_DECLARED_LENGTH_BYTES) {
        throw new IllegalArgumentException("declaredLengthBytes must be positive, was " + declaredLengthBytes);
      }
      requireUnset("declaredLengthBytes", this.declaredLengthBytes);
      this.declaredLengthBytes = declaredLengthBytes;
      return this;
    }

    /** A custody blob handed over by {@code peer}. */
    public Builder custodyFrom(String peer) {
      Objects.requireNonNull(peer, "peer");
      int bytes = peer.getBytes(StandardCharsets.UTF_8).length;
      if (bytes == 0 || bytes > MAX_PEER_BYTES) {
        throw new IllegalArgumentException("peer must be 1.." + MAX_PEER_BYTES + " UTF-8 bytes, was " + bytes);
      }
      requireUnset("kind", kindSetting());
      this.sourcePeer = peer;
      this.kind = BlobKind.CUSTODY;
      return this;
    }

    /** One of this device's own envelopes. */
    public Builder own() {
      requireUnset("kind", kindSetting());
      this.sourcePeer = "";
      this.kind = BlobKind.OWN;
      return this;
    }

    public Builder expiresNoLaterThanEpochSecond(long epochSecond) {
      if (epochSecond < 0) {
        throw new IllegalArgumentException("expiresNoLaterThanEpochSecond must not be negative, was " + epochSecond);
      }
      requireUnset("expiresNoLaterThanEpochSecond", this.expiresNoLaterThanEpochSecond);
      this.expiresNoLaterThanEpochSecond = epochSecond;
      return this;
    }

    public UploadRequest build() {
      if (fingerprint == null) {
        throw new IllegalStateException("fingerprint was not set");
      }
      if (declaredLengthBytes < 0) {
        throw new IllegalStateException("declaredLengthBytes was not set");
      }
      if (kind == null) {
        throw new IllegalStateException("neither own() nor custodyFrom(peer) was called");
      }
      return new UploadRequest(this);
    }

    private String kindSetting() {
      return kind == BlobKind.OWN ? "OWN (own())" : kind + " (custodyFrom(\"" + sourcePeer + "\"))";
    }

    /** Fails if {@code name} was given before: one setting never silently replaces another. */
    private void requireUnset(String name, @Nullable Object current) {
      if (!set.add(name)) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }
  }
}
