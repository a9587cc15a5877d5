package io.crowdbackup.bench;

import io.crowdbackup.engine.envelope.StreamingSealer;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Sealing a 1 GiB plaintext with {@link StreamingSealer#StreamingSealer(int) new StreamingSealer(threads)}: 1 seals on the caller's thread, 2
 * encrypts and piece-hashes chunks on two workers while the caller reads and writes records in order (format
 * v2 has no plaintext hash, so nothing but I/O is sequential). Issue 11's goal is 2 threads at 1.7x or more
 * of 1 thread (CPU time, and wall clock on a quiet machine). On a machine with two cores
 * the caller and two workers share them, and anything else running takes from the speed-up.
 *
 * <p>Run: {@code bench/run.sh SealThreadsBenchmark}, or {@code java -jar bench/target/benchmarks.jar
 * SealThreadsBenchmark -p threads=2}. Warm-up as in {@link SealBenchmark}; one 1 GiB seal is about 2 s at
 * one thread, so an iteration holds one or two seals.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 7, time = 3)
@Measurement(iterations = 5, time = 4)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SealThreadsBenchmark {
  @Param({"1", "2"})
  public int threads;

  @Param({"1073741824"})
  public long plaintextBytes;

  private Impls.Crowdbackup crowdbackup;

  @Setup(Level.Trial)
  public void setUp() {
    crowdbackup = new Impls.Crowdbackup(new Plaintext(plaintextBytes, 42), threads);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    crowdbackup.close();
  }

  @Benchmark
  public Object seal(Megabytes counter, CpuTime cpu) throws IOException {
    cpu.start();
    Object result = crowdbackup.seal();
    cpu.stop();
    counter.add(plaintextBytes);
    return result;
  }
}
