package io.crowdbackup.api.store;

import java.util.Objects;

/** An upload in progress (open or abandoned-but-resumable), as a policy layer needs it for its ledger. */
public final class UploadInfo {
  private final UploadRequest request;
  private final long durableOffsetBytes;
  private final long startedAtEpochMillis;

  public UploadInfo(UploadRequest request, long durableOffsetBytes, long startedAtEpochMillis) {
    this.request = Objects.requireNonNull(request, "request");
    this.durableOffsetBytes = durableOffsetBytes;
    this.startedAtEpochMillis = startedAtEpochMillis;
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

  @Override
  public String toString() {
    return "UploadInfo{" + request + ", durable " + durableOffsetBytes + "}";
  }
}
