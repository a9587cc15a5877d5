package io.crowdbackup.bench.store;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.enginejvm.store.ChronicleBlobIndex;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.map.ChronicleMap;
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
 * Opening a store of {@code blobs} blobs in a fresh JVM (issue 3): one timed open per fork, so each score
 * includes class loading and Chronicle Map's run-time code generation, as a restart would.
 *
 * <ul>
 *   <li>{@code impl=clean}: {@link FileCustodyStore#open} after a clean close, Chronicle index: the
 *       persisted map is trusted, no data file is read.
 *   <li>{@code impl=crash}: the same store without its clean-shutdown marker, which is what a
 *       {@code kill -9} leaves: the map file is deleted unopened, recreated, and refilled by reading the
 *       header and footer of every blob file.
 *   <li>{@code impl=limit}: {@code createPersistedTo} of a bare Chronicle Map on a copy of the same index file
 *       (same builder settings), nothing else.
 * </ul>
 *
 * <p>Goal (issue 3): {@code clean} within 1.2 × {@code limit}; {@code crash} bounded and measured. The store is
 * built first, once, by {@link StoreOpenFixture} in its own JVM, under {@code $CROWDBACKUP_BENCH_DIR} (else
 * {@code java.io.tmpdir}); after each fork the store is closed cleanly again, so forks can run in any order.
 * The page cache is warm (the fixture was just written or opened): these are restart times, not cold-boot
 * times.
 *
 * <p>Run: {@code bench/run-store.sh} (builds the fixture, then {@code java -jar bench/target/benchmarks.jar
 * StoreOpenBenchmark -p blobs=N}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 5, jvmArgsAppend = {
    "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED", "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.util=ALL-UNNAMED",
    "-Dchronicle.analytics.disable=true"})
public class StoreOpenBenchmark {
  static final String CHRONICLE_FILE = "chronicle-v1.dat";
  /** ChronicleBlobIndex's value size estimate; the limit's builder repeats ChronicleBlobIndex's settings. */
  private static final double AVERAGE_VALUE_BYTES = 1 + 8 * 5 + 2 + 2 + 16 + 2 + 24;

  @Param({"clean", "crash", "limit"})
  public String impl;

  @Param({"100000"})
  public int blobs;

  private Path fixture;
  private Closeable opened;

  /** The store's index, sized as a store expecting {@code blobs} would size it (room to double). */
  static BlobIndex.Factory indexFactory(int blobs) {
    return ChronicleBlobIndex.factory(2L * blobs);
  }

  private StoreConfig config() {
    return StoreConfig.newBuilder(fixture.resolve(StoreOpenFixture.STORE)).indexFactory(indexFactory(blobs)).build();
  }

  @Setup(Level.Iteration)
  public void setUp() throws IOException {
    fixture = StoreOpenFixture.directory(blobs);
    if (!Files.exists(fixture.resolve(StoreOpenFixture.BUILT))) {
      throw new IllegalStateException("no store of " + blobs + " blobs at " + fixture + "; build it first: java "
          + "<chronicle flags> -cp bench/target/benchmarks.jar io.crowdbackup.bench.store.StoreOpenFixture " + blobs);
    }
    Path clean = fixture.resolve(StoreOpenFixture.STORE).resolve("CLEAN");
    if (!Files.exists(clean)) {
      throw new IllegalStateException("the fixture store " + fixture + " was not closed cleanly (" + clean
          + " missing); delete " + fixture + " and build it again");
    }
    if (impl.equals("crash")) {
      Files.delete(clean);
    }
  }

  @TearDown(Level.Iteration)
  public void tearDown() throws IOException {
    if (opened instanceof FileCustodyStore) {
      FileCustodyStore s = (FileCustodyStore) opened;
      if (s.openedClean() != impl.equals("clean")) {
        throw new IllegalStateException("impl=" + impl + " but the store opened " + (s.openedClean() ? "clean"
            : "dirty (rebuilt)"));
      }
      if (s.usage().blobCount() != blobs) {
        throw new IllegalStateException("impl=" + impl + ": the store opened with " + s.usage().blobCount()
            + " blobs, the fixture has " + blobs);
      }
    }
    if (opened != null) {
      opened.close();
    }
  }

  @Benchmark
  public Object open() throws IOException {
    switch (impl) {
      case "clean":
      case "crash":
        FileCustodyStore s = FileCustodyStore.open(config());
        opened = s;
        return s;
      case "limit":
        ChronicleMap<byte[], byte[]> m = ChronicleMap.of(byte[].class, byte[].class)
            .name("crowdbackup-blob-index")
            .constantKeySizeBySample(new byte[Fingerprint.LENGTH_BYTES])
            .averageValueSize(AVERAGE_VALUE_BYTES)
            .entries(2L * blobs)
            .maxBloatFactor(4.0)
            .createPersistedTo(fixture.resolve(StoreOpenFixture.LIMIT).resolve(CHRONICLE_FILE).toFile());
        opened = m;
        return m;
      default:
        throw new IllegalArgumentException("unknown impl " + impl);
    }
  }
}
