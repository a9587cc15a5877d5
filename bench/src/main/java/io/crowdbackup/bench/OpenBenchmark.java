package io.crowdbackup.bench;

import java.io.IOException;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Opening one envelope, single-threaded unless {@code -p threads=N}, at the default 64 KiB chunk; each impl opens what it sealed in
 * {@code @Setup}. The opener hashes the ciphertext (the fingerprint it verifies) and, by decision 0004, the
 * plaintext it writes (the file's SHA-256 the destination records): the work of {@code limit-2sha}. The score is envelopes per second; the {@code megabytes} line is plaintext MB/s.
 *
 * <ul>
 *   <li>{@code crowdbackup}: {@code StreamingOpener} through the api, envelope from an in-memory channel,
 *       plaintext into a discarding channel; checks header MAC, every chunk, metadata and fingerprint, computes
 *       the plaintext's SHA-256, and includes the per-envelope X25519 + HKDF.
 *   <li>{@code limit}: SHA-256 of each ciphertext chunk + JDK AES-256-GCM decryption, straight from an array.
 *   <li>{@code limit-2sha}: {@code limit} + SHA-256 of the plaintext (what the opener computes).
 *   <li>{@code tink} / {@code tink-2sha}: Tink's decrypting channel over a channel that hashes the ciphertext
 *       it hands out (and SHA-256 of the plaintext).
 *   <li>{@code bouncycastle}: Bouncy Castle's GCM decryption + its SHA-256 of the ciphertext.
 * </ul>
 *
 * <p>Run all: {@code bench/run.sh OpenBenchmark}; one cell: {@code java -jar bench/target/benchmarks.jar
 * OpenBenchmark -p impl=crowdbackup -p plaintextBytes=1048576}.
 *
 * <p>Warm-up: see {@link SealBenchmark}; the same 20 s lets C2 compile the JDK's AES-GCM intrinsic first.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 10, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class OpenBenchmark {
  /** The peers of issue 11 and {@code limit-2sha}, the same hashing as the opener; others with {@code -p impl=}. */
  @Param({Impls.CROWDBACKUP, Impls.LIMIT, Impls.LIMIT_2SHA, Impls.TINK})
  public String impl;

  @Param({"1048576", "268435456"})
  public long plaintextBytes;

  /** Tink's ciphertext segment size; ignored by the other impls. */
  @Param({"65536"})
  public int tinkSegmentBytes;

  /**
   * Our opener's worker threads ({@code -p threads=2}: the parallel opener; score it by process CPU and
   * wall clock, not the benchmark thread's CPU); ignored by the other impls.
   */
  @Param({"1"})
  public int threads;

  private Impls.Run opener;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Plaintext plaintext = new Plaintext(plaintextBytes, 42);
    opener = Impls.opener(impl, plaintext, tinkSegmentBytes, threads);
    opener.run();
  }

  @Benchmark
  public Object open(Megabytes counter, CpuTime cpu) throws IOException {
    cpu.start();
    Object result = opener.run();
    cpu.stop();
    counter.add(plaintextBytes);
    return result;
  }
}
