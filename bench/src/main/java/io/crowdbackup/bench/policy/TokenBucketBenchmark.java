package io.crowdbackup.bench.policy;

import com.google.common.util.concurrent.RateLimiter;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.engine.policy.TokenBucket;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Token-bucket try-acquire, the per-read/per-write fast path of bandwidth shaping: ours against
 * Bucket4j (lock-free local bucket, nanosecond clock) and Guava's {@code RateLimiter.tryAcquire}.
 * Every implementation is set up with the same rate and a burst of one second of that rate (Guava's
 * SmoothBursty fixes its burst at one second).
 *
 * <ul>
 *   <li>{@code scenario=granted}: 512 MiB/s, take 1 byte per call: the bucket never runs dry, every call
 *       succeeds — the cost of a successful grant (clock read + CAS). (Bucket4j refuses rates above one
 *       token per nanosecond, so a byte-granular 1 GiB/s or faster bucket cannot be built with it at all;
 *       ours is exact to 16 GiB/s.)
 *   <li>{@code scenario=limited}: 1 MiB/s, take 1 KiB per call: about 1,000 grants per second, so almost
 *       every call is a refusal — the cost of saying no, which a saturated link pays most.
 * </ul>
 *
 * <p>Scores are calls per second, summed over threads; {@code tryAcquire2} runs two threads on one
 * shared bucket (contended CAS, or Guava's lock). Semantics differ on purpose: Guava lets a request
 * overdraw and charges the next caller ("pay later"); ours and Bucket4j's refuse until covered.
 *
 * <p>Run: {@code java -jar bench/target/benchmarks.jar TokenBucketBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TokenBucketBenchmark {
  @Param({"crowdbackup", "bucket4j", "guava"})
  public String impl;

  @Param({"granted", "limited"})
  public String scenario;

  private interface Try {
    boolean tryAcquire(int bytes);
  }

  private Try bucket;
  private int bytesPerCall;

  @Setup
  public void setUp() {
    long rate;
    switch (scenario) {
      case "granted":
        rate = 512L << 20;
        bytesPerCall = 1;
        break;
      case "limited":
        rate = 1L << 20;
        bytesPerCall = 1024;
        break;
      default:
        throw new IllegalArgumentException("unknown scenario " + scenario);
    }
    switch (impl) {
      case "crowdbackup": {
        TokenBucket b = TokenBucket.full("bench", RateLimit.of(rate, rate));
        bucket = b::tryAcquire;
        break;
      }
      case "bucket4j": {
        Bucket b = Bucket.builder()
            .addLimit(limit -> limit.capacity(rate).refillGreedy(rate, Duration.ofSeconds(1)))
            .withNanosecondPrecision()
            .build();
        bucket = b::tryConsume;
        break;
      }
      case "guava": {
        RateLimiter r = RateLimiter.create((double) rate);
        bucket = r::tryAcquire;
        break;
      }
      default:
        throw new IllegalArgumentException("unknown impl " + impl);
    }
  }

  @Benchmark
  @Threads(1)
  public boolean tryAcquire1() {
    return bucket.tryAcquire(bytesPerCall);
  }

  @Benchmark
  @Threads(2)
  public boolean tryAcquire2() {
    return bucket.tryAcquire(bytesPerCall);
  }
}
