package io.crowdbackup.bench.store;

import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * Many writers at once (issue 15: a venue where dozens of peers upload together): every thread puts its own
 * sealed 64 KiB envelope, durably, then deletes it, durably, again and again. One operation is the put and
 * the delete: with a per-invocation tear-down doing the delete instead, JMH would add up each thread's
 * puts per second of its own time in the method, which rewards an impl whose deletes make the other
 * threads wait (fewer puts at once, each faster) — an early version of this benchmark did exactly that.
 *
 * <ul>
 *   <li>{@code impl=crowdbackup}: {@link FileCustodyStore#put} into one shared store, then {@code delete}
 *       (unlink and a directory fsync).
 *   <li>{@code impl=file-per-blob-verified}: {@link BenchFiles.Verifier#putFilePerBlob} into one shared
 *       directory, then unlink and a directory fsync.
 * </ul>
 *
 * <p>Threads: 16 unless {@code -t N}. Score: puts (each with its delete) per second, all threads together,
 * over the iteration's wall time. Files under
 * {@code $CROWDBACKUP_BENCH_DIR}. Run: {@code java -jar bench/target/benchmarks.jar StoreManyWritersBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(16)
public class StoreManyWritersBenchmark {
  @Param({"crowdbackup", "file-per-blob-verified"})
  public String impl;

  @Param({"65536"})
  public int plaintextBytes;

  private Path dir;
  private Path blobDir;
  private FileCustodyStore store;
  private final AtomicInteger seeds = new AtomicInteger();
  private final BenchFiles sealer = new BenchFiles();

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = BenchFiles.tempDir("store-many-");
    if (impl.equals("crowdbackup")) {
      store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store")).build());
    } else {
      blobDir = Files.createDirectories(dir.resolve("blobs"));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    if (store != null) {
      store.close();
    }
    BenchFiles.deleteTree(dir);
  }

  /** One writer's own envelope. */
  @State(Scope.Thread)
  public static class Writer {
    byte[] envelope;
    UploadRequest request;
    BenchFiles.Verifier verifier;
    Path file;
    Path temp;

    @Setup(Level.Trial)
    public void setUp(StoreManyWritersBenchmark b) throws IOException {
      BenchFiles.Sealed sealed;
      synchronized (b.sealer) {
        sealed = b.sealer.seal(b.seeds.incrementAndGet(), b.plaintextBytes,
            System.currentTimeMillis() / 1000 + 12 * 3600);
      }
      envelope = sealed.bytes;
      request = UploadRequest.newBuilder().fingerprint(sealed.result.fingerprint())
          .declaredLengthBytes(envelope.length).custodyFrom("bench-peer").build();
      if (b.blobDir != null) {
        verifier = new BenchFiles.Verifier(envelope);
        file = b.blobDir.resolve(sealed.result.fingerprint().toHex() + ".blob");
        temp = b.blobDir.resolve(sealed.result.fingerprint().toHex() + ".tmp");
      }
    }
  }

  @Benchmark
  public Object putThenDelete(Writer w) throws IOException {
    if (store != null) {
      Object stat = store.put(w.request, BenchFiles.input(w.envelope));
      if (!store.delete(w.request.fingerprint())) {
        throw new IllegalStateException("the put blob " + w.request.fingerprint() + " was not stored");
      }
      return stat;
    }
    w.verifier.putFilePerBlob(w.temp, w.file);
    Files.delete(w.file);
    BenchFiles.fsyncDirectory(blobDir);
    return w.file;
  }
}
