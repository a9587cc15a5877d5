package io.crowdbackup.bench;

import io.crowdbackup.engine.store.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/**
 * A file opener whose fsyncs can be switched off while a benchmark <em>prepares</em> its store (building a
 * million blobs, or putting back the expired ones between iterations) and are real while it measures.
 * Nothing measured ever runs with fsync off. Fixture building only: a store filled through the real
 * {@code put} would otherwise pay two fsyncs a blob, which the put benchmark measures and the others do
 * not need.
 */
public final class SyncToggleOpener implements FileOpener {
  /** Whether {@code force} reaches the disk; true unless a fixture switches it off. */
  public volatile boolean fsync = true;

  /** An opener that never syncs: for fixtures built before anything is timed. */
  public static SyncToggleOpener withoutFsync() {
    SyncToggleOpener o = new SyncToggleOpener();
    o.fsync = false;
    return o;
  }

  @Override
  public FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException {
    return new Channel(FileChannel.open(path, options));
  }

  private final class Channel extends FileChannel {
    private final FileChannel d;

    Channel(FileChannel d) {
      this.d = d;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return d.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return d.read(dsts, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return d.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      return d.write(srcs, offset, length);
    }

    @Override
    public long position() throws IOException {
      return d.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      d.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return d.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      d.truncate(size);
      return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      if (fsync) {
        d.force(metaData);
      }
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
      return d.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
      return d.transferFrom(src, position, count);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return d.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      return d.write(src, position);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      return d.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return d.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return d.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      d.close();
    }
  }
}
