package io.crowdbackup.api;

import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What to seal a plaintext for: its destination (and optionally a relay), the source's release key, the
 * expiry, the inner metadata and the chunking. Immutable; built with {@link #newBuilder()}, which checks
 * every value as it is set, refuses a setting given twice ("was already set to"), and checks the
 * combination in {@link Builder#build()}.
 */
public final class SealRequest {
  /** The default chunk size: small enough for the JDK's AES-GCM intrinsic to warm quickly, 0.03% overhead. */
  public static final int DEFAULT_CHUNK_SIZE_BYTES = 64 * 1024;
  /** Smallest chunk size the format allows. */
  public static final int MIN_CHUNK_SIZE_BYTES = 4 * 1024;
  /** Largest chunk size the format allows; bounds what a reader allocates per chunk. */
  public static final int MAX_CHUNK_SIZE_BYTES = 4 * 1024 * 1024;
  /** Bound on the UTF-8 length of the inner file name. */
  public static final int MAX_NAME_BYTES = 255;
  /** Latest expiry the format can carry: 9999-12-31T23:59:59Z. */
  public static final long MAX_EXPIRES_AT_EPOCH_SECOND = 253_402_300_799L;
  /** Bound on the length of the inner media type (ASCII). */
  public static final int MAX_MEDIA_TYPE_BYTES = 127;

  private final DestinationCard destination;
  private final @Nullable DestinationCard relay;
  private final byte[] releaseKey;
  private final long expiresAtEpochSecond;
  private final String name;
  private final String mediaType;
  private final long createdAtEpochMillis;
  private final Compression compression;
  private final int chunkSizeBytes;

  private SealRequest(Builder b) {
    // build() checked that the required values were set.
    this.destination = Objects.requireNonNull(b.destination, "destination");
    this.relay = b.relay;
    this.releaseKey = Objects.requireNonNull(b.releaseKey, "releaseKey").clone();
    this.expiresAtEpochSecond = b.expiresAtEpochSecond;
    this.name = b.name;
    this.mediaType = b.mediaType;
    this.createdAtEpochMillis = b.createdAtEpochMillis;
    this.compression = b.compression;
    this.chunkSizeBytes = b.chunkSizeBytes;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  public DestinationCard destination() {
    return destination;
  }

  /** The relay the envelope is first delivered to, or {@code null} for direct delivery. */
  public @Nullable DestinationCard relay() {
    return relay;
  }

  public byte[] releaseKey() {
    return releaseKey.clone();
  }

  public long expiresAtEpochSecond() {
    return expiresAtEpochSecond;
  }

  public String name() {
    return name;
  }

  public String mediaType() {
    return mediaType;
  }

  public long createdAtEpochMillis() {
    return createdAtEpochMillis;
  }

  public Compression compression() {
    return compression;
  }

  public int chunkSizeBytes() {
    return chunkSizeBytes;
  }

  /**
   * A builder that starts from this request's values, as it would from defaults: each setting may be
   * given once on it, replacing the value it started with.
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.destination = destination;
    b.relay = relay;
    b.releaseKey = releaseKey.clone();
    b.expiresAtEpochSecond = expiresAtEpochSecond;
    b.name = name;
    b.mediaType = mediaType;
    b.createdAtEpochMillis = createdAtEpochMillis;
    b.compression = compression;
    b.chunkSizeBytes = chunkSizeBytes;
    return b;
  }

  @Override
  public String toString() {
    return "SealRequest{destination=" + destination.locator()
        + (relay == null ? "" : ", relay=" + relay.locator())
        + ", expiresAtEpochSecond=" + expiresAtEpochSecond
        + ", compression=" + compression + ", chunkSizeBytes=" + chunkSizeBytes + "}";
  }

  /** Builds a {@link SealRequest}. Destination, release key and expiry are required. */
  public static final class Builder {
    private @Nullable DestinationCard destination;
    private @Nullable DestinationCard relay;
    private byte @Nullable [] releaseKey;
    private long expiresAtEpochSecond = Long.MIN_VALUE;
    private String name = "";
    private String mediaType = "application/octet-stream";
    private long createdAtEpochMillis;
    private Compression compression = Compression.OFF;
    private int chunkSizeBytes = DEFAULT_CHUNK_SIZE_BYTES;
    private final Set<String> set = new HashSet<>();

    private Builder() {}

    public Builder destination(DestinationCard destination) {
      Objects.requireNonNull(destination, "destination");
      requireUnset("destination", this.destination);
      this.destination = destination;
      return this;
    }

    /** Deliver through this relay, which learns the destination's locator but not the content. */
    public Builder relay(DestinationCard relay) {
      Objects.requireNonNull(relay, "relay");
      requireUnset("relay", this.relay);
      this.relay = relay;
      return this;
    }

    /** The source's Ed25519 public key that may sign a release of this envelope (32 bytes). */
    public Builder releaseKey(byte[] releaseKey) {
      byte[] key = Bytes32.copyOfLength(releaseKey, 32, "releaseKey");
      requireUnset("releaseKey", "another key");
      this.releaseKey = key;
      return this;
    }

    /** When holders may drop the envelope: 0 to 253402300799 (9999-12-31T23:59:59Z), the format's bound. */
    public Builder expiresAtEpochSecond(long expiresAtEpochSecond) {
      if (expiresAtEpochSecond < 0 || expiresAtEpochSecond > MAX_EXPIRES_AT_EPOCH_SECOND) {
        throw new IllegalArgumentException("expiresAtEpochSecond must be 0.." + MAX_EXPIRES_AT_EPOCH_SECOND
            + ", was " + expiresAtEpochSecond);
      }
      requireUnset("expiresAtEpochSecond", this.expiresAtEpochSecond);
      this.expiresAtEpochSecond = expiresAtEpochSecond;
      return this;
    }

    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      int utf8 = Bytes32.strictUtf8(name, "name").length;
      if (utf8 > MAX_NAME_BYTES) {
        throw new IllegalArgumentException("name must be at most " + MAX_NAME_BYTES + " UTF-8 bytes, was " + utf8);
      }
      requireUnset("name", this.name);
      this.name = name;
      return this;
    }

    public Builder mediaType(String mediaType) {
      Objects.requireNonNull(mediaType, "mediaType");
      if (mediaType.length() > MAX_MEDIA_TYPE_BYTES) {
        throw new IllegalArgumentException(
            "mediaType must be at most " + MAX_MEDIA_TYPE_BYTES + " characters, was " + mediaType.length());
      }
      for (int i = 0; i < mediaType.length(); i++) {
        char c = mediaType.charAt(i);
        if (c < 0x21 || c > 0x7e) {
          throw new IllegalArgumentException("mediaType must be printable ASCII without spaces (index " + i + ")");
        }
      }
      requireUnset("mediaType", this.mediaType);
      this.mediaType = mediaType;
      return this;
    }

    public Builder createdAtEpochMillis(long createdAtEpochMillis) {
      requireUnset("createdAtEpochMillis", this.createdAtEpochMillis);
      this.createdAtEpochMillis = createdAtEpochMillis;
      return this;
    }

    public Builder compression(Compression compression) {
      Objects.requireNonNull(compression, "compression");
      requireUnset("compression", this.compression);
      this.compression = compression;
      return this;
    }

    /** Plaintext bytes per chunk: a power of two from 4 KiB to 4 MiB. */
    public Builder chunkSizeBytes(int chunkSizeBytes) {
      if (chunkSizeBytes < MIN_CHUNK_SIZE_BYTES
          || chunkSizeBytes > MAX_CHUNK_SIZE_BYTES
          || Integer.bitCount(chunkSizeBytes) != 1) {
        throw new IllegalArgumentException("chunkSizeBytes must be a power of two from " + MIN_CHUNK_SIZE_BYTES
            + " to " + MAX_CHUNK_SIZE_BYTES + ", was " + chunkSizeBytes);
      }
      requireUnset("chunkSizeBytes", this.chunkSizeBytes);
      this.chunkSizeBytes = chunkSizeBytes;
      return this;
    }

    /** Checks that the required values were set and agree; does not change the builder. */
    public SealRequest build() {
      if (destination == null) {
        throw new IllegalStateException("destination was not set");
      }
      if (releaseKey == null) {
        throw new IllegalStateException("releaseKey was not set");
      }
      if (expiresAtEpochSecond == Long.MIN_VALUE) {
        throw new IllegalStateException("expiresAtEpochSecond was not set");
      }
      if (relay != null && relay.equals(destination)) {
        throw new IllegalStateException("relay is the destination itself (" + relay.locator()
            + "): a relay must be another destination; leave it unset for direct delivery");
      }
      return new SealRequest(this);
    }

    /** Fails if {@code name} was given before: one setting never silently replaces another. */
    private void requireUnset(String name, @Nullable Object current) {
      if (!set.add(name)) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }
  }
}
