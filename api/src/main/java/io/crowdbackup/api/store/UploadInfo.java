package io.crowdbackup.api.store;

import java.util.Objects;

/** An upload in progress (open or abandoned-but-resumable), as a policy layer needs it for its ledger. */
public final class UploadInfo {
  private final UploadRequest request;
  private final long durableOffsetBytes;
  private final long startedAtEpochMillis;
  private final long lastProgressEpochMillis;

  public UploadInfo(UploadRequest request, long durableOffsetBytes, long startedAtEpochMillis) {
    this(request, durableOffsetBytes, startedAtEpochMillis, startedAtEpochMillis);
  }

  /**
   * @param lastProgressEpochMillis when the upload last made progress durable (store time); an upload idle
   *     longer than the store's abandonment time after it is discarded
   */
  public UploadInfo(UploadRequest request, long durableOffsetBytes, long startedAtEpochMillis,
      long lastProgressEpochMillis) {
    this.request = Objects.requireNonNull(request, "request");
    this.durableOffsetBytes = durableOffsetBytes;
    this.startedAtEpochMillis = startedAtEpochMillis;
    this.lastProgressEpochMillis = lastProgressEpochMillis;
  }

  public UploadRequest request() {
    return request;
  }

  /** Where a resume would continue. */
  public long durableOffsetBytes() {
    return durableOffsetBytes;
  }

  public long startedAtEpochMillis() {
    return startedAtEpochMillis;
  }

  /** When the upload last made progress durable (or began, or was resumed), epoch milliseconds. */
  public long lastProgressEpochMillis() {
    return lastProgressEpochMillis;
  }

  @Override
  public String toString() {
    return "UploadInfo{" + request + ", durable " + durableOffsetBytes + "}";
  }
}
