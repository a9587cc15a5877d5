package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
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
    try (TempFiles.Output out = TempFiles.create(dir, faulty(dataSyncs, -1), 4096)) {
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
    try (TempFiles.Output out = TempFiles.create(dir, faulty(new AtomicInteger(), 1), 4096)) {
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

  /** An fsync whose {@code n}-th call (1-based; -1: none) fails with EIO; counts the data-only ones. */
  private static TempFiles.Fsync faulty(AtomicInteger dataSyncs, int failing) {
    AtomicInteger calls = new AtomicInteger();
    return (channel, metaData) -> {
      if (calls.incrementAndGet() == failing) {
        throw new IOException("EIO (injected)");
      }
      if (!metaData) {
        dataSyncs.incrementAndGet();
      }
      channel.force(metaData);
    };
  }
}
