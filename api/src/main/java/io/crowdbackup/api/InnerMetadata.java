package io.crowdbackup.api;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What the envelope says about its plaintext, encrypted inside it: visible to the destination only.
 * The name is untrusted input: sanitise it before using it as a file name. Format v2 carries no plaintext
 * hash: the opener computes the file's SHA-256 while it writes the plaintext ({@link OpenResult#plaintextSha256()}).
 */
public final class InnerMetadata {
  private final String name;
  private final String mediaType;
  private final long plaintextLengthBytes;
  private final long createdAtEpochMillis;
  private final ContentKind contentKind;

  public InnerMetadata(
      String name,
      String mediaType,
      long plaintextLengthBytes,
      long createdAtEpochMillis,
      ContentKind contentKind) {
    this.name = Objects.requireNonNull(name, "name");
    this.mediaType = Objects.requireNonNull(mediaType, "mediaType");
    if (plaintextLengthBytes < 0) {
      throw new IllegalArgumentException("plaintextLengthBytes must not be negative, was " + plaintextLengthBytes);
    }
    this.plaintextLengthBytes = plaintextLengthBytes;
    this.createdAtEpochMillis = createdAtEpochMillis;
    this.contentKind = Objects.requireNonNull(contentKind, "contentKind");
  }

  /** The original file name as the source gave it; untrusted. */
  public String name() {
    return name;
  }

  public String mediaType() {
    return mediaType;
  }

  public long plaintextLengthBytes() {
    return plaintextLengthBytes;
  }

  public long createdAtEpochMillis() {
    return createdAtEpochMillis;
  }

  public ContentKind contentKind() {
    return contentKind;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof InnerMetadata)) {
      return false;
    }
    InnerMetadata m = (InnerMetadata) o;
    return plaintextLengthBytes == m.plaintextLengthBytes
        && createdAtEpochMillis == m.createdAtEpochMillis
        && name.equals(m.name)
        && mediaType.equals(m.mediaType)
        && contentKind == m.contentKind;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, mediaType, plaintextLengthBytes, createdAtEpochMillis, contentKind);
  }

  @Override
  public String toString() {
    return "InnerMetadata{name=" + name + ", mediaType=" + mediaType + ", plaintextLengthBytes="
        + plaintextLengthBytes + ", contentKind=" + contentKind + "}";
  }
}
