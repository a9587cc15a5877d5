package io.crowdbackup.engine.store;

import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.InMemoryBlobIndex;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Objects;

/**
 * Options of a {@link FileCustodyStore}. Immutable; built with {@link #newBuilder(Path)}: each option may be
 * given once (a second call fails with the value already set), and {@link Builder#build()} checks them
 * together.
 */
public final class StoreConfig {
  private final Path directory;
  private final BlobIndex.Factory indexFactory;
  private final Clock clock;
  private final long abandonedUploadAfterMillis;
  private final long expiryGroupSeconds;
  private final long checkpointEveryBytes;
  private final long flushBehindBytes;
  private final FileOpener fileOpener;
  private final StoreListener listener;

  private StoreConfig(Builder b) {
    this.directory = b.directory;
    this.indexFactory = b.indexFactory;
    this.clock = b.clock;
    this.abandonedUploadAfterMillis = b.abandonedUploadAfterMillis;
    this.expiryGroupSeconds = b.expiryGroupSeconds;
    this.checkpointEveryBytes = b.checkpointEveryBytes;
    this.flushBehindBytes = b.flushBehindBytes;
    this.fileOpener = b.fileOpener;
    this.listener = b.listener;
  }

  public static Builder newBuilder(Path directory) {
    return new Builder(directory);
  }

  public Path directory() {
    return directory;
  }

  public BlobIndex.Factory indexFactory() {
    return indexFactory;
  }

  public Clock clock() {
    return clock;
  }

  public long abandonedUploadAfterMillis() {
    return abandonedUploadAfterMillis;
  }

  public long expiryGroupSeconds() {
    return expiryGroupSeconds;
  }

  public long checkpointEveryBytes() {
    return checkpointEveryBytes;
  }

  public long flushBehindBytes() {
    return flushBehindBytes;
  }

  public FileOpener fileOpener() {
    return fileOpener;
  }

  public StoreListener listener() {
    return listener;
  }

  /** Builder for {@link StoreConfig}. */
  public static final class Builder {
    private final Path directory;
    private BlobIndex.Factory indexFactory = InMemoryBlobIndex.FACTORY;
    private Clock clock = Clock.systemUTC();
    private long abandonedUploadAfterMillis = 6 * 3600_000L;
    private long expiryGroupSeconds = 3600;
    private long checkpointEveryBytes = 8L << 20;
    private long flushBehindBytes = 4L << 20;
    private FileOpener fileOpener = FileOpener.DEFAULT;
    private StoreListener listener = StoreListener.NONE;
    /** Names of the settings given, so that a second one fails instead of silently replacing the first. */
    private final java.util.Set<String> set = new java.util.HashSet<>();

    private Builder(Path directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
    }

    /** The index implementation; {@link InMemoryBlobIndex#FACTORY} unless set. */
    public Builder indexFactory(BlobIndex.Factory factory) {
      requireUnset("indexFactory", this.indexFactory);
      this.indexFactory = Objects.requireNonNull(factory, "indexFactory");
      set.add("indexFactory");
      return this;
    }

    /** Time source for expiry checks and upload ages. */
    public Builder clock(Clock clock) {
      requireUnset("clock", this.clock);
      this.clock = Objects.requireNonNull(clock, "clock");
      set.add("clock");
      return this;
    }

    /**
     * An upload that made no durable progress (checkpoint or resume) for this long is discarded, and its
     * reservation ended, by {@code dropExpired} and at open. Measured on the store's clock from its last
     * progress, which is kept across restarts. Default 6 h.
     */
    public Builder abandonedUploadAfterMillis(long millis) {
      requireUnset("abandonedUploadAfterMillis", this.abandonedUploadAfterMillis);
      if (millis < 0) {
        throw new IllegalArgumentException("abandonedUploadAfterMillis must not be negative, was " + millis);
      }
      this.abandonedUploadAfterMillis = millis;
      set.add("abandonedUploadAfterMillis");
      return this;
    }

    /**
     * Width of an expiry group (one directory of blobs dropped together). Default 1 h: with a 12 h retention
     * that is about 13 directories, and eviction frees at most an hour's blobs late by less than an hour.
     */
    public Builder expiryGroupSeconds(long seconds) {
      requireUnset("expiryGroupSeconds", this.expiryGroupSeconds);
      if (seconds < 1 || seconds > 86_400 * 7) {
        throw new IllegalArgumentException("expiryGroupSeconds must be 1..604800, was " + seconds);
      }
      this.expiryGroupSeconds = seconds;
      set.add("expiryGroupSeconds");
      return this;
    }

    /**
     * How many bytes an upload may accept before it fsyncs on its own, bounding what a crash makes the
     * sender re-send. Default 8 MiB.
     */
    public Builder checkpointEveryBytes(long bytes) {
      requireUnset("checkpointEveryBytes", this.checkpointEveryBytes);
      if (bytes < 1) {
        throw new IllegalArgumentException("checkpointEveryBytes must be positive, was " + bytes);
      }
      this.checkpointEveryBytes = bytes;
      set.add("checkpointEveryBytes");
      return this;
    }

    /**
     * Every this many bytes an upload writes, it has a background thread fsync its data file, so that the
     * disk writes while the upload goes on hashing and writing, and the fsync that makes the blob durable
     * (at commit or checkpoint) waits only for the last stretch. It promises nothing by itself: durability
     * still comes from those fsyncs, and a failed flush behind fails the upload as a failed fsync would.
     * 0 turns it off. Default 4 MiB.
     */
    public Builder flushBehindBytes(long bytes) {
      requireUnset("flushBehindBytes", this.flushBehindBytes);
      if (bytes < 0) {
        throw new IllegalArgumentException("flushBehindBytes must not be negative (0 turns it off), was " + bytes);
      }
      this.flushBehindBytes = bytes;
      set.add("flushBehindBytes");
      return this;
    }

    /** For fault-injection tests: how files are opened. */
    public Builder fileOpener(FileOpener opener) {
      requireUnset("fileOpener", this.fileOpener);
      this.fileOpener = Objects.requireNonNull(opener, "fileOpener");
      set.add("fileOpener");
      return this;
    }

    /** Told of every change to what the store holds; for a policy layer's ledger. */
    public Builder listener(StoreListener listener) {
      requireUnset("listener", this.listener);
      this.listener = Objects.requireNonNull(listener, "listener");
      set.add("listener");
      return this;
    }

    /**
     * Checks the settings together and builds; the builder is left as it was.
     *
     * @throws IllegalStateException if a flush behind was set that could never run before the checkpoint
     *     that was set (it would only cost a thread)
     */
    public StoreConfig build() {
      if (set.contains("flushBehindBytes") && set.contains("checkpointEveryBytes") && flushBehindBytes > 0
          && flushBehindBytes >= checkpointEveryBytes) {
        throw new IllegalStateException("flushBehindBytes " + flushBehindBytes + " must be below checkpointEveryBytes "
            + checkpointEveryBytes + " (or 0): a flush behind never runs before the checkpoint's own fsync");
      }
      return new StoreConfig(this);
    }

    /** Fails if {@code name} was given before: one line of a configuration never undoes another. */
    private void requireUnset(String name, Object current) {
      if (set.contains(name)) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }
  }
}
