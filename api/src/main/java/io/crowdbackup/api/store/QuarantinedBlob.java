package io.crowdbackup.api.store;

import io.crowdbackup.api.Fingerprint;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A file the store moved aside because it failed its checks (at open or on read, own or custody): it is
 * no longer served or counted, and stays in the store's quarantine folder for a person to look at.
 */
public final class QuarantinedBlob {
  private final @Nullable Fingerprint fingerprint;
  private final String fileName;
  private final long quarantinedAtEpochMillis;
  private final String reason;

  /**
   * @param fingerprint the fingerprint its file was named for, or {@code null} if the name names none
   * @param fileName its file name in the quarantine folder
   * @param reason why it failed, as the store found it
   */
  public QuarantinedBlob(@Nullable Fingerprint fingerprint, String fileName, long quarantinedAtEpochMillis, String reason) {
    this.fingerprint = fingerprint;
    this.fileName = Objects.requireNonNull(fileName, "fileName");
    this.quarantinedAtEpochMillis = quarantinedAtEpochMillis;
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** The fingerprint its file was named for, or {@code null} (a file whose name names none). */
  public @Nullable Fingerprint fingerprint() {
    return fingerprint;
  }

  public String fileName() {
    return fileName;
  }

  /** Store time of the quarantine, epoch milliseconds. */
  public long quarantinedAtEpochMillis() {
    return quarantinedAtEpochMillis;
  }

  public String reason() {
    return reason;
  }

  @Override
  public String toString() {
    return "QuarantinedBlob{" + fileName + ", at " + quarantinedAtEpochMillis + ": " + reason + "}";
  }
}
