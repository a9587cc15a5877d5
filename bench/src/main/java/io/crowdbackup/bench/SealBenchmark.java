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
 * Sealing one plaintext, single-threaded, at the default 64 KiB chunk: ours against the limit and peers in
 * the same run. Format v2 hashes each byte once when sealing (the fingerprint's piece digests; no plaintext
 * hash, decision 0004), the same work as {@code limit}; issue 11's goals: {@code crowdbackup} at 0.85 x
 * {@code limit} or more and at least {@code tink}, at 1 MiB and 256 MiB. The score is envelopes per second; the {@code megabytes} line is plaintext MB/s.
 *
 * <ul>
 *   <li>{@code crowdbackup}: {@code StreamingSealer} through the api, plaintext from an in-memory channel,
 *       envelope into a discarding channel; includes the per-envelope X25519 + HKDF + header MAC.
 *   <li>{@code limit}: a bare loop of JDK AES-256-GCM per 64 KiB chunk + SHA-256 of the ciphertext.
 *   <li>{@code limit-2sha}: {@code limit} + SHA-256 of the plaintext: what format v1 had to do (its metadata
 *       carried the plaintext's SHA-256); kept for comparison with the v1 tables, not run by default.
 *   <li>{@code tink} / {@code tink-2sha}: Tink's {@code AesGcmHkdfStreaming} at {@code tinkSegmentBytes},
 *       SHA-256 of its output (and of the plaintext).
 *   <li>{@code bouncycastle}: Bouncy Castle's {@code GCMBlockCipher}/{@code AESEngine} + {@code SHA256Digest}.
 * </ul>
 *
 * <p>Run all: {@code bench/run.sh SealBenchmark}; one cell: {@code java -jar bench/target/benchmarks.jar
 * SealBenchmark -p impl=crowdbackup -p plaintextBytes=1048576}. {@code -p plaintextBytes=0} measures the
 * fixed cost per envelope.
 *
 * <p>Warm-up: in a fresh JVM the JDK's AES-GCM runs about 50x slower until C2 compiles the method that
 * holds its intrinsic, which takes 3-5 s of work with 64 KiB calls on JDK 17 (11-13 s with 1 MiB calls,
 * which is one reason Tink runs at 64 KiB segments here). Ten 2-second warm-up iterations (20 s) cover that
 * with a margin even when a busy machine gives this JVM only part of a core; the warm-up scores in the JMH
 * log show the jump and then a plateau, and the CPU-time counters of every measured iteration (min..max in
 * {@code bench/summarize.py}) show that none ran before it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 10, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class SealBenchmark {
  /** The peers of issue 11; {@code limit-2sha}, {@code tink-2sha}, {@code bouncycastle} with {@code -p impl=}. */
  @Param({Impls.CROWDBACKUP, Impls.LIMIT, Impls.TINK})
  public String impl;

  /** 1 MiB (a photo-sized file, fixed costs visible) and 256 MiB (a video, bulk throughput). */
  @Param({"1048576", "268435456"})
  public long plaintextBytes;

  /** Tink's ciphertext segment size; ignored by the other impls. 64 KiB measured faster here (RESULTS.md). */
  @Param({"65536"})
  public int tinkSegmentBytes;

  private Impls.Run sealer;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Plaintext plaintext = new Plaintext(plaintextBytes, 42);
    sealer = Impls.sealer(impl, plaintext, tinkSegmentBytes, 1);
    sealer.run(); // fail in setup, not in the first measured call, if an impl is misconfigured
  }

  @Benchmark
  public Object seal(Megabytes counter, CpuTime cpu) throws IOException {
    cpu.start();
    Object result = sealer.run();
    cpu.stop();
    counter.add(plaintextBytes);
    return result;
  }
}
