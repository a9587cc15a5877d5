package io.crowdbackup.bench.store;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.IndexEntry;
import io.crowdbackup.enginejvm.store.ChronicleBlobIndex;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
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
 * What the seal of the Chronicle index costs (fuzz finding F10: {@link ChronicleBlobIndex} opens its map
 * file only when the descriptor written at the last clean close proves the file unchanged, length and
 * CRC-32C). One single-shot operation per fresh JVM, as a restart would pay it, on an index of
 * {@code entries} entries sized for twice as many (as the store benchmarks size it), page cache warm:
 *
 * <ul>
 *   <li>{@code impl=sealed}: {@code ChronicleBlobIndex.factory(2 × entries).open(dir, true)}: read and check the
 *       descriptor, checksum the whole map file, open it with Chronicle Map; must come up populated.
 *   <li>{@code impl=limit}: {@code createPersistedTo} of a bare Chronicle Map with the same builder settings on a
 *       copy of the same file, nothing else (the same limit as {@link StoreOpenBenchmark}'s).
 *   <li>{@code impl=crc32c}: the proof alone: read the map file with a 1 MiB direct buffer into
 *       {@link CRC32C}, as {@code ChronicleBlobIndex} does.
 *   <li>{@code impl=sealed-close}: {@code flush()} + {@code close()} of an opened index: closes the map, fsyncs and
 *       checksums its file, writes and fsyncs the descriptor. {@code impl=limit-close}: {@code close()} of the bare
 *       map.
 * </ul>
 *
 * <p>Goal (issue 3 via the brief): a clean open within 1.2 × the bare map's. The fixture is built by the first
 * (warm-up) fork under {@code $CROWDBACKUP_BENCH_DIR} (else {@code java.io.tmpdir}), {@code index-open-N/}, and
 * reused; every fork leaves it sealed again.
 *
 * <p>Run: {@code java -jar bench/target/benchmarks.jar IndexOpenBenchmark} (the forks add Chronicle Map's JVM
 * flags themselves).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 5, warmups = 1, jvmArgsAppend = {
    "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED", "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.util=ALL-UNNAMED",
    "-Dchronicle.analytics.disable=true"})
public class IndexOpenBenchmark {
  private static final String INDEX = "index";
  private static final String LIMIT = "limit";
  private static final String BUILT = "BUILT";
  /** ChronicleBlobIndex's value size estimate; the limit's builder repeats ChronicleBlobIndex's settings. */
  private static final double AVERAGE_VALUE_BYTES = 1 + 8 * 5 + 2 + 2 + 16 + 2 + 24;

  @Param({"sealed", "limit", "crc32c", "sealed-close", "limit-close"})
  public String impl;

  @Param({"1000000"})
  public int entries;

  private Path fixture;
  private BlobIndex index;
  private ChronicleMap<byte[], byte[]> bare;

  private BlobIndex.Factory factory() {
    return ChronicleBlobIndex.factory(2L * entries);
  }

  private ChronicleMap<byte[], byte[]> openBare() throws IOException {
    return ChronicleMap.of(byte[].class, byte[].class)
        .name("crowdbackup-blob-index")
        .constantKeySizeBySample(new byte[Fingerprint.LENGTH_BYTES])
        .averageValueSize(AVERAGE_VALUE_BYTES)
        .entries(2L * entries)
        .maxBloatFactor(4.0)
        .createPersistedTo(fixture.resolve(LIMIT).resolve("chronicle-v1.dat").toFile());
  }

  @Setup(Level.Iteration)
  public void setUp() throws IOException {
    fixture = BenchFiles.root().resolve("index-open-" + entries);
    if (!Files.exists(fixture.resolve(BUILT))) {
      build();
    }
    if (impl.equals("sealed-close")) {
      index = open();
    } else if (impl.equals("limit-close")) {
      bare = openBare();
    }
  }

  /** Fills an index the way a store would (typical peers and locators), closes it cleanly, copies the file. */
  private void build() throws IOException {
    BenchFiles.deleteTree(fixture);
    Files.createDirectories(fixture.resolve(INDEX));
    Files.createDirectories(fixture.resolve(LIMIT));
    SplittableRandom random = new SplittableRandom(42);
    byte[] fp = new byte[Fingerprint.LENGTH_BYTES];
    try (BlobIndex ix = factory().open(fixture.resolve(INDEX), false)) {
      for (int i = 0; i < entries; i++) {
        random.nextBytes(fp);
        ix.put(new IndexEntry(Fingerprint.of(fp), i, 1_800_000_000L + (i % 13) * 3600, 1 << 20,
            1_800_000_000L + (i % 13) * 3600 + 1800, 1_790_000_000_000L + i, BlobState.HELD, BlobKind.CUSTODY,
            "peer-" + (i % 500), "home-" + (i % 1000) + ".example"));
      }
      ix.flush();
    }
    Files.copy(fixture.resolve(INDEX).resolve("chronicle-v1.dat"), fixture.resolve(LIMIT).resolve("chronicle-v1.dat"),
        StandardCopyOption.REPLACE_EXISTING);
    Files.write(fixture.resolve(BUILT), new byte[0]);
  }

  private BlobIndex open() throws IOException {
    BlobIndex ix = factory().open(fixture.resolve(INDEX), true);
    if (!ix.isPopulated() || ix.size() != entries) {
      ix.close();
      BenchFiles.deleteTree(fixture); // the next fork builds it again
      throw new IllegalStateException("the sealed fixture was not trusted (populated " + ix.isPopulated() + ")");
    }
    return ix;
  }

  @TearDown(Level.Iteration)
  public void tearDown() throws IOException {
    if (index != null) {
      index.flush(); // reseals the file for the next fork
      index.close();
      index = null;
    }
    if (bare != null) {
      bare.close();
      bare = null;
    }
  }

  @Benchmark
  public Object run() throws IOException {
    switch (impl) {
      case "sealed":
        index = open();
        return index;
      case "limit":
        bare = openBare();
        return bare;
      case "crc32c":
        return crc32c(fixture.resolve(INDEX).resolve("chronicle-v1.dat"));
      case "sealed-close": {
        BlobIndex ix = index;
        index = null;
        ix.flush();
        ix.close();
        return ix;
      }
      case "limit-close": {
        Closeable m = bare;
        bare = null;
        m.close();
        return m;
      }
      default:
        throw new IllegalArgumentException("unknown impl " + impl);
    }
  }

  private static long crc32c(Path file) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long at = 0;
      for (int n; (n = ch.read(buf, at)) > 0; at += n) {
        buf.flip();
        crc.update(buf);
        buf.clear();
      }
    }
    return crc.getValue();
  }
}
