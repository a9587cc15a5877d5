package io.crowdbackup.bench.custody;

import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.bench.CpuTime;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.HolderConfig;
import io.crowdbackup.engine.keys.Keys;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * A phone storing a photo it has just sealed as its own envelope (issue 11, item 5): durable in its own
 * store when the call returns.
 *
 * <ul>
 *   <li>{@code impl=sealOwn}: {@link Custodian#sealOwn} — the sealer writes into the store's upload, which
 *       checks and hashes each piece on the way, writes it once, fsyncs once and files it under the
 *       fingerprint computed on the way.
 *   <li>{@code impl=temp-file+putOwn}: what a phone did before (the old {@code PhoneSource}): seal into a
 *       temporary file, fsync it, {@link Custodian#putOwn} from it (read, checked, written again, fsynced),
 *       delete the temporary file.
 * </ul>
 *
 * <p>The plaintext is a file of random bytes ({@code image/jpeg}, so not compressed), sealed by a
 * one-thread sealer, 64 KiB chunks. The blob is removed after each call, outside the timing. Secondary
 * results: the {@link CpuTime} counters (process CPU includes the store's writer and flush threads) and
 * {@code writtenBytes}, what the process passed to write() during the calls ({@code /proc/self/io}
 * {@code wchar}, Linux; 0 elsewhere), beside {@code envelopeBytes}. Files go under
 * {@code $CROWDBACKUP_BENCH_DIR} (else {@code java.io.tmpdir}), which must be the disk to measure.
 *
 * <p>Run: {@code JAVA_OPTS=-Djmh.ignoreLock=true bench/run.sh SealOwnBenchmark} (about 2 minutes).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xms1g", "-Xmx1g"})
public class SealOwnBenchmark {
  @Param({"sealOwn", "temp-file+putOwn"})
  public String impl;

  @Param({"4194304", "33554432"})
  public int plaintextBytes;

  private Path dir;
  private Path photo;
  private Path tempDir;
  private Custodian custodian;
  private EnvelopeSealer sealer;
  private SealRequest request;
  private io.crowdbackup.api.Fingerprint last;

  /** Bytes written by the process during the measured calls, and the envelope bytes they stored. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class Written {
    public long writtenBytes;
    public long envelopeBytes;

    @Setup(Level.Iteration)
    public void reset() {
      writtenBytes = 0;
      envelopeBytes = 0;
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    String root = System.getenv("CROWDBACKUP_BENCH_DIR");
    dir = Files.createTempDirectory(root != null ? Paths.get(root) : Paths.get(System.getProperty("java.io.tmpdir")),
        "seal-own-");
    byte[] plain = new byte[plaintextBytes];
    new SplittableRandom(1).nextBytes(plain);
    photo = Files.write(dir.resolve("IMG_0001.jpg"), plain);
    tempDir = Files.createDirectories(dir.resolve("tmp"));
    RateLimit unshaped = RateLimit.of(RateLimit.MAX_BYTES_PER_SECOND, RateLimit.MAX_BURST_BYTES);
    custodian = Custodian.open(HolderConfig.newBuilder(dir.resolve("phone")).limitBytes(64L << 20)
        .ingress(unshaped, unshaped).egress(unshaped, unshaped).build());
    sealer = Envelopes.sealer();
    request = SealRequest.newBuilder()
        .destination(Keys.generateDestination("home.example").card())
        .releaseKey(Keys.generateSigning().publicKey())
        .expiresAtEpochSecond(System.currentTimeMillis() / 1000 + 12 * 3600)
        .name("IMG_0001.jpg").mediaType("image/jpeg").build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    sealer.close();
    custodian.close();
    try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @TearDown(Level.Invocation)
  public void removeBlob() throws IOException {
    if (last == null || !custodian.remove(last)) {
      throw new IllegalStateException("the sealed blob " + last + " was not stored");
    }
    last = null;
  }

  @Benchmark
  public BlobStat seal(CpuTime cpu, Written written) throws IOException {
    long before = processWrittenBytes();
    cpu.start();
    BlobStat s;
    if (impl.equals("sealOwn")) {
      s = custodian.sealOwn(sealer, request, photo, Transfer.create());
    } else {
      Path temp = Files.createTempFile(tempDir, "seal-", ".cbe");
      try {
        SealResult sealed;
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
          sealed = sealer.seal(request, photo, out);
          out.force(true);
        }
        try (FileChannel in = FileChannel.open(temp)) {
          s = custodian.putOwn(sealed.fingerprint(), sealed.envelopeLengthBytes(), in);
        }
      } finally {
        Files.deleteIfExists(temp);
      }
    }
    cpu.stop();
    written.writtenBytes += processWrittenBytes() - before;
    written.envelopeBytes += s.envelopeLengthBytes();
    last = s.fingerprint();
    return s;
  }

  private static final Path PROC_IO = Paths.get("/proc/self/io");

  /** {@code wchar} of {@code /proc/self/io}: bytes the process passed to write() so far; 0 if unavailable. */
  static long processWrittenBytes() throws IOException {
    if (!Files.isReadable(PROC_IO)) {
      return 0;
    }
    for (String line : Files.readAllLines(PROC_IO)) {
      if (line.startsWith("wchar:")) {
        return Long.parseLong(line.substring(6).trim());
      }
    }
    return 0;
  }
}
