package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The output's flush behind: background fsyncs while the command writes, and a background fsync's failure
 * (which Linux reports to that one fsync only) raised at the final force, so that nothing whose bytes may
 * not be on disk is published.
 */
class TempFilesTest {
  @TempDir Path dir;

  @Test
  void backgroundFsyncsRunWhileWritingAndTheFileIsComplete() throws IOException {
    AtomicInteger dataSyncs = new AtomicInteger();
    Path target = dir.resolve("out.bin");
    try (TempFiles.Output out = TempFiles.create(dir, ch -> new Faulty(ch, dataSyncs, -1), 4096)) {
      for (int i = 0; i < 64; i++) {
        out.writeFully(ByteBuffer.wrap(new byte[4096]));
      }
      out.force();
      assertTrue(out.publishNoReplace(target));
    }
    assertTrue(dataSyncs.get() >= 1, "at least one fsync ran behind the writes: " + dataSyncs.get());
    assertEquals(64 * 4096, Files.size(target));
  }

  @Test
  void aFailedBackgroundFsyncFailsTheFinalForceThoughALaterFsyncSucceeds() throws IOException {
    Path target = dir.resolve("out.bin");
    // Only the first fsync fails, as on Linux, where a later fsync no longer reports the writeback error.
    try (TempFiles.Output out = TempFiles.create(dir, ch -> new Faulty(ch, new AtomicInteger(), 1), 4096)) {
      IOException e = assertThrows(IOException.class, () -> {
        for (int i = 0; i < 64; i++) {
          out.writeFully(ByteBuffer.wrap(new byte[4096]));
        }
        out.force(); // a write may raise it first; if not, the final force must
      });
      assertInstanceOf(FileSystemException.class, e);
      assertTrue(e.getMessage().contains(out.path.toString()) && e.getMessage().contains("EIO (injected)"),
          e.getMessage());
      // Asked again (a caller retrying), it still fails: the error is kept, not consumed.
      assertThrows(IOException.class, out::force);
    }
    assertFalse(Files.exists(target));
    try (Stream<Path> left = Files.list(dir)) {
      assertEquals(0, left.count(), "the unsynced temporary file is deleted");
    }
  }

  /** A FileChannel whose {@code n}-th fsync (1-based; -1: none) fails with EIO; counts the data-only ones. */
  private static final class Faulty extends FileChannel {
    private final FileChannel d;
    private final AtomicInteger dataSyncs;
    private final AtomicInteger forces = new AtomicInteger();
    private final int failing;

    Faulty(FileChannel d, AtomicInteger dataSyncs, int failing) {
      this.d = d;
      this.dataSyncs = dataSyncs;
      this.failing = failing;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      if (forces.incrementAndGet() == failing) {
        throw new IOException("EIO (injected)");
      }
      if (!metaData) {
        dataSyncs.incrementAndGet();
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
      throw new UncheckedIOException(new IOException("not used"));
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      throw new UncheckedIOException(new IOException("not used"));
    }

    @Override
    protected void implCloseChannel() throws IOException {
      d.close();
    }
  }
}
