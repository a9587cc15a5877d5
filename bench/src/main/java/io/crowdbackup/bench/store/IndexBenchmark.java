package io.crowdbackup.bench.store;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.IndexEntry;
import io.crowdbackup.engine.store.index.InMemoryBlobIndex;
import io.crowdbackup.enginejvm.store.ChronicleBlobIndex;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The custody store's index (issue 3, "index get and put ops/s"), through the store's own {@link BlobIndex}
 * SPI, with {@code entries} blobs already in it:
 *
 * <ul>
 *   <li>{@code impl=chronicle}: {@link ChronicleBlobIndex}, the persisted memory-mapped Chronicle Map (32-byte
 *       key, value encoded by {@code IndexEntryCodec}), sized for 2 × {@code entries} like the store sizes it.
 *   <li>{@code impl=portable}: {@link InMemoryBlobIndex}, a {@code HashMap} of entry objects (Android).
 *   <li>{@code impl=concurrent-hash-map}: a bare {@link ConcurrentHashMap} of the same objects, no SPI: the floor
 *       of an in-heap map.
 * </ul>
 *
 * <p>{@code get} looks up a random present fingerprint; {@code put} replaces a random present entry with a
 * new one (another state), so the map neither grows nor churns. Keys are drawn from a precomputed table by
 * a cheap xorshift, the same for every impl. Score: operations per second, one thread (the store calls its
 * index under its own lock). The Chronicle file goes under {@code $CROWDBACKUP_BENCH_DIR} (else
 * {@code java.io.tmpdir}).
 *
 * <p>Run: {@code java -jar bench/target/benchmarks.jar IndexBenchmark} (the fork adds Chronicle Map's JVM
 * flags itself).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g",
    "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED", "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.util=ALL-UNNAMED",
    "-Dchronicle.analytics.disable=true"})
public class IndexBenchmark {
  @Param({"chronicle", "portable", "concurrent-hash-map"})
  public String impl;

  @Param({"1000000"})
  public int entries;

  private Path dir;
  private BlobIndex index;
  private ConcurrentHashMap<Fingerprint, IndexEntry> chm;
  private Fingerprint[] keys;
  private IndexEntry[] held;
  private IndexEntry[] forwarding;
  private long cursor = 0x9E3779B97F4A7C15L;
  private boolean flip;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    keys = new Fingerprint[entries];
    held = new IndexEntry[entries];
    forwarding = new IndexEntry[entries];
    SplittableRandom random = new SplittableRandom(42);
    byte[] fp = new byte[Fingerprint.LENGTH_BYTES];
    long now = System.currentTimeMillis();
    for (int i = 0; i < entries; i++) {
      random.nextBytes(fp);
      keys[i] = Fingerprint.of(fp);
      // Typical values: a peer id and a locator of realistic length, expiry within 12 h.
      held[i] = new IndexEntry(keys[i], i, 1_800_000_000L + (i % 13) * 3600, 1 << 20, 1_800_000_000L + (i % 13) * 3600
          + 1800, now, BlobState.HELD, BlobKind.CUSTODY, "peer-" + (i % 500), "home-" + (i % 1000) + ".example");
      forwarding[i] = held[i].withState(BlobState.FORWARDING);
    }
    switch (impl) {
      case "chronicle":
        dir = BenchFiles.tempDir("index-");
        index = ChronicleBlobIndex.factory(2L * entries).open(dir, false);
        break;
      case "portable":
        index = InMemoryBlobIndex.FACTORY.open(null, false);
        break;
      case "concurrent-hash-map":
        chm = new ConcurrentHashMap<>();
        break;
      default:
        throw new IllegalArgumentException("unknown impl " + impl);
    }
    for (int i = 0; i < entries; i++) {
      if (chm != null) {
        chm.put(keys[i], held[i]);
      } else {
        index.put(held[i]);
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    if (index != null) {
      index.close();
    }
    BenchFiles.deleteTree(dir);
  }

  /** A pseudo-random slot in [0, entries): xorshift64, its high 32 bits scaled by a multiply (no division). */
  private int next() {
    long x = cursor;
    x ^= x << 13;
    x ^= x >>> 7;
    x ^= x << 17;
    cursor = x;
    return (int) (((x >>> 32) * entries) >>> 32);
  }

  @Benchmark
  public IndexEntry get() throws IOException {
    Fingerprint k = keys[next()];
    return chm != null ? chm.get(k) : index.get(k);
  }

  @Benchmark
  public Object put() throws IOException {
    int i = next();
    flip = !flip;
    IndexEntry e = flip ? forwarding[i] : held[i];
    if (chm != null) {
      return chm.put(e.fingerprint(), e);
    }
    index.put(e);
    return e;
  }
}
