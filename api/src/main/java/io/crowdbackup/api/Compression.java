package io.crowdbackup.api;

/** Whether the sealer tries LZ4 on each chunk. A chunk is stored compressed only where that shrinks it. */
public enum Compression {
  /** Never compress. The sealer reads the plaintext exactly once. */
  OFF,
  /**
   * Compress unless the media type is one that is already compressed (JPEG, HEIC, PNG, MP4, …), in which
   * case behave as {@link #OFF}.
   */
  AUTO,
  /** Try every chunk. */
  ON
}
