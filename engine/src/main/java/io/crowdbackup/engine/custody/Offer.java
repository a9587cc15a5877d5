package io.crowdbackup.engine.custody;

import io.crowdbackup.api.Fingerprint;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * What a source peer offers a holder before the first byte: which envelope, how long it is, when it
 * expires, who offers it, and whether it insists on being kept until its own expiry. Everything a holder
 * needs to say yes or no (with a reason and a counter-offer) without reading a byte. Immutable.
 *
 * <p>The numbers are claims: the store checks the length against the header and the bytes against the
 * fingerprint as they arrive, and the custody expiry is capped by the header's real expiry at commit.
 */
public final class Offer {
  private final Fingerprint fingerprint;
  private final long declaredLengthBytes;
  private final long envelopeExpiresAtEpochSecond;
  private final String sourcePeer;
  private final boolean requireFullRetention;

  private Offer(Builder b) {
    this.fingerprint = b.fingerprint;
    this.declaredLengthBytes = b.declaredLengthBytes;
    this.envelopeExpiresAtEpochSecond = b.envelopeExpiresAtEpochSecond;
    this.sourcePeer = b.sourcePeer;
    this.requireFullRetention = b.requireFullRetention;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  public Fingerprint fingerprint() {
    return fingerprint;
  }

  /** The exact envelope length; reserved against the quota before the first byte. */
  public long declaredLengthBytes() {
    return declaredLengthBytes;
  }

  /** The envelope header's expiry, as the source states it. */
  public long envelopeExpiresAtEpochSecond() {
    return envelopeExpiresAtEpochSecond;
  }

  /** Who hands the envelope over: the key of quota shares and per-peer bandwidth. */
  public String sourcePeer() {
    return sourcePeer;
  }

  /**
   * Whether the source wants custody until the envelope's own expiry. If so, an expiry beyond the holder's
   * maximum retention is refused with {@code TTL_TOO_LONG} and a counter-offer; if not (the default), the
   * holder accepts and keeps it for at most its maximum retention.
   */
  public boolean requireFullRetention() {
    return requireFullRetention;
  }

  @Override
  public String toString() {
    return "Offer{" + fingerprint + ", " + declaredLengthBytes + " bytes, expires " + envelopeExpiresAtEpochSecond
        + ", peer '" + sourcePeer + "'" + (requireFullRetention ? ", full retention" : "") + "}";
  }

  /** Builds an {@link Offer}; {@link #build()} checks that every required value was set. */
  public static final class Builder {
    private Fingerprint fingerprint;
    private long declaredLengthBytes = -1;
    private long envelopeExpiresAtEpochSecond = -1;
    private String sourcePeer;
    private boolean requireFullRetention;
    /** Settings given, so that a second one fails instead of silently replacing the first. */
    private final java.util.Set<String> set = new java.util.HashSet<>();

    private Builder() {}

    public Builder fingerprint(Fingerprint fingerprint) {
      requireUnset("fingerprint", this.fingerprint);
      this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
      set.add("fingerprint");
      return this;
    }

    public Builder declaredLengthBytes(long bytes) {
      requireUnset("declaredLengthBytes", this.declaredLengthBytes);
      if (bytes <= 0) {
        throw new IllegalArgumentException("declaredLengthBytes must be positive but was " + bytes);
      }
      this.declaredLengthBytes = bytes;
      set.add("declaredLengthBytes");
      return this;
    }

    public Builder envelopeExpiresAtEpochSecond(long epochSecond) {
      requireUnset("envelopeExpiresAtEpochSecond", this.envelopeExpiresAtEpochSecond);
      if (epochSecond < 0) {
        throw new IllegalArgumentException("envelopeExpiresAtEpochSecond must not be negative but was " + epochSecond);
      }
      this.envelopeExpiresAtEpochSecond = epochSecond;
      set.add("envelopeExpiresAtEpochSecond");
      return this;
    }

    public Builder sourcePeer(String peer) {
      requireUnset("sourcePeer", this.sourcePeer);
      Objects.requireNonNull(peer, "peer");
      int bytes = peer.getBytes(StandardCharsets.UTF_8).length;
      if (bytes == 0 || bytes > io.crowdbackup.api.store.UploadRequest.MAX_PEER_BYTES) {
        throw new IllegalArgumentException("sourcePeer must be 1.." + io.crowdbackup.api.store.UploadRequest.MAX_PEER_BYTES
            + " UTF-8 bytes but was " + bytes);
      }
      this.sourcePeer = peer;
      set.add("sourcePeer");
      return this;
    }

    public Builder requireFullRetention(boolean require) {
      requireUnset("requireFullRetention", this.requireFullRetention);
      this.requireFullRetention = require;
      set.add("requireFullRetention");
      return this;
    }

    public Offer build() {
      if (fingerprint == null) {
        throw new IllegalStateException("fingerprint was not set");
      }
      if (declaredLengthBytes < 0) {
        throw new IllegalStateException("declaredLengthBytes was not set");
      }
      if (envelopeExpiresAtEpochSecond < 0) {
        throw new IllegalStateException("envelopeExpiresAtEpochSecond was not set");
      }
      if (sourcePeer == null) {
        throw new IllegalStateException("sourcePeer was not set");
      }
      return new Offer(this);
    }

    /** Fails if {@code name} was given before: one line of a configuration never undoes another. */
    private void requireUnset(String name, Object current) {
      if (set.contains(name)) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }
  }
}
