package io.crowdbackup.bench.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Can any layout make durable 64 KiB puts 3× faster than a file per blob (issue 3's goal)? Not a benchmark
 * of the store: of the two ways to lay small puts out, with several writers at once, as a venue holder
 * taking uploads from many peers has them. Every put is durable when the call returns.
 *
 * <ul>
 *   <li>{@code file-per-blob}: temp file, write, fsync, atomic rename, directory fsync (the peer of
 *       {@link StorePutBenchmark}), one file per put, all threads in one directory.
 *   <li>{@code pack-fsync-each}: one shared append-only file; a put appends under a lock, then fsyncs
 *       ({@code force(false)}) on its own.
 *   <li>{@code pack-group-commit}: the same file, but a put waits for one fsync that started after its append
 *       finished; whichever writer gets there first runs it for everyone waiting (several puts per fsync).
 * </ul>
 *
 * <p>Record: 66,297 random bytes (a sealed 64 KiB envelope's length). Threads: {@code -t N} (default 4).
 * Files under {@code $CROWDBACKUP_BENCH_DIR}, which must be the disk to measure; deleted after each trial.
 * Run: {@code CROWDBACKUP_BENCH_DIR=/dir java -jar bench/target/benchmarks.jar SmallPutLayoutBenchmark -t 4}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(4)
public class SmallPutLayoutBenchmark {
  private static final int RECORD_BYTES = 66_297;

  @Param({"file-per-blob", "pack-fsync-each", "pack-group-commit"})
  public String impl;

  private Path dir;
  private byte[] record;
  private final AtomicLong names = new AtomicLong();
  private FileChannel pack;
  private final Object appendLock = new Object();
  private long packEnd;
  private final Object syncLock = new Object();
  private volatile long syncedTo;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = BenchFiles.tempDir("small-put-");
    record = new byte[RECORD_BYTES];
    new SplittableRandom(3).nextBytes(record);
    if (!impl.equals("file-per-blob")) {
      pack = FileChannel.open(dir.resolve("pack"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    if (pack != null) {
      pack.close();
    }
    BenchFiles.deleteTree(dir);
  }

  @Benchmark
  public long put() throws IOException {
    switch (impl) {
      case "file-per-blob": {
        long n = names.incrementAndGet();
        BenchFiles.putFilePerBlob(dir.resolve(n + ".tmp"), dir.resolve(n + ".blob"), record);
        return n;
      }
      case "pack-fsync-each": {
        long end = append();
        pack.force(false);
        return end;
      }
      default: {
        long end = append();
        if (syncedTo < end) {
          synchronized (syncLock) {
            if (syncedTo < end) { // nobody's fsync that began after our append has finished yet: run one
              long covers;
              synchronized (appendLock) {
                covers = packEnd;
              }
              pack.force(false);
              syncedTo = covers;
            }
          }
        }
        return end;
      }
    }
  }

  /** Appends one record to the pack; returns where it ends. */
  private long append() throws IOException {
    synchronized (appendLock) {
      write(pack, packEnd);
      packEnd += RECORD_BYTES;
      return packEnd;
    }
  }

  private void write(FileChannel ch, long at) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(record);
    long pos = at;
    while (b.hasRemaining()) {
      pos += ch.write(b, pos);
    }
  }
}
