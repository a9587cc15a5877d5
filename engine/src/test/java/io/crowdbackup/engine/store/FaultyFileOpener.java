package io.crowdbackup.engine.store;

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
import java.util.function.Predicate;

/**
 * A {@link FileOpener} whose channels fail on command: writes that stop midway with "No space left on
 * device" once a byte budget is spent, and fsyncs that fail, each only for paths a predicate selects.
 */
final class FaultyFileOpener implements FileOpener {
  volatile Predicate<Path> writeFaultOn = p -> false;
  /** Bytes still allowed to be written to selected paths before writes fail. */
  volatile long writeBudgetBytes = Long.MAX_VALUE;
  volatile String writeFailureMessage = "No space left on device";
  volatile Predicate<Path> forceFaultOn = p -> false;
  volatile Predicate<Path> openDeniedOn = p -> false;
  /** Fsyncs of selected paths wait for {@link #releaseForces} (counting {@link #forcesBlocked} first). */
  volatile Predicate<Path> forceBlockOn = p -> false;
  final java.util.concurrent.CountDownLatch releaseForces = new java.util.concurrent.CountDownLatch(1);
  final java.util.concurrent.Semaphore forcesBlocked = new java.util.concurrent.Semaphore(0);
  /** Paths opened, in order, when {@link #recordOpens} is set. */
  final java.util.List<Path> opened = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
  volatile boolean recordOpens;
  volatile int faultsInjected;
  /** Names of the threads that wrote to paths {@link #writeFaultOn} selects. */
  final Set<String> writingThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();

  void reset() {
    writeFaultOn = p -> false;
    forceFaultOn = p -> false;
    openDeniedOn = p -> false;
    forceBlockOn = p -> false;
    writeBudgetBytes = Long.MAX_VALUE;
  }

  @Override
  public FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException {
    if (openDeniedOn.test(path)) {
      faultsInjected++;
      throw new java.nio.file.AccessDeniedException(path.toString());
    }
    if (recordOpens) {
      opened.add(path);
    }
    return new Channel(path, FileChannel.open(path, options));
  }

  private final class Channel extends FileChannel {
    private final Path path;
    private final FileChannel d;

    Channel(Path path, FileChannel delegate) {
      this.path = path;
      this.d = delegate;
    }

    /** How much of {@code wanted} may be written; throws once nothing may. */
    private int allowance(int wanted) throws IOException {
      if (!writeFaultOn.test(path)) {
        return wanted;
      }
      writingThreads.add(Thread.currentThread().getName());
      synchronized (FaultyFileOpener.this) {
        if (writeBudgetBytes <= 0) {
          faultsInjected++;
          throw new IOException(writeFailureMessage);
        }
        int n = (int) Math.min(wanted, writeBudgetBytes);
        writeBudgetBytes -= n;
        return n;
      }
    }

    private int limitedWrite(ByteBuffer src, long position, boolean positional) throws IOException {
      int n = allowance(src.remaining());
      ByteBuffer part = src.duplicate();
      part.limit(part.position() + n);
      int written = positional ? d.write(part, position) : d.write(part);
      src.position(src.position() + written);
      return written;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return limitedWrite(src, 0, false);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      return limitedWrite(src, position, true);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      long total = 0;
      for (int i = offset; i < offset + length; i++) {
        total += write(srcs[i]);
      }
      return total;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      if (forceBlockOn.test(path)) {
        forcesBlocked.release();
        try {
          releaseForces.await();
        } catch (InterruptedException e) {
          throw new java.io.InterruptedIOException("blocked fsync interrupted");
        }
      }
      if (forceFaultOn.test(path)) {
        faultsInjected++;
        throw new IOException("Input/output error (injected fsync failure)");
      }
      d.force(metaData);
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
    public int read(ByteBuffer dst, long position) throws IOException {
      return d.read(dst, position);
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
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
      return d.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
      throw new UnsupportedOperationException("the store does not use transferFrom");
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      throw new UnsupportedOperationException("the store does not map files");
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
