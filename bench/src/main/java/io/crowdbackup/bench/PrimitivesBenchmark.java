package io.crowdbackup.bench;

import java.util.SplittableRandom;
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
 * The cost of each step an envelope does per 64 KiB chunk, one at a time, to explain the seal and open
 * numbers: the crypto every implementation must do, and the per-call fixed cost and copy that ours adds.
 * The score is invocations per second, each doing one step on one 64 KiB chunk 16 times (in cache, as in
 * the sealer's loop); the {@code megabytes} line is MB/s.
 *
 * <ul>
 *   <li>{@code sha256}: JDK SHA-256 {@code update} of 64 KiB.
 *   <li>{@code gcm-encrypt} / {@code gcm-decrypt}: JDK AES-256-GCM {@code init} + AAD + {@code doFinal} of 64 KiB.
 *   <li>{@code gcm-empty}: the same with 0 bytes: the fixed cost of a GCM call ({@code init}, key and
 *       hash-key setup, tag). Its MB/s line is 0.
 *   <li>{@code copy}: {@code System.arraycopy} of 64 KiB (the channel-to-chunk-buffer copy).
 *   <li>{@code bc-sha256}, {@code bc-gcm-encrypt}: the Bouncy Castle counterparts.
 * </ul>
 *
 * <p>Run: {@code bench/run.sh PrimitivesBenchmark} or {@code java -jar bench/target/benchmarks.jar
 * PrimitivesBenchmark -p op=gcm-empty}. Warm-up: see {@link SealBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 10, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PrimitivesBenchmark {
  @Param({"sha256", "gcm-encrypt", "gcm-decrypt", "gcm-empty", "copy", "bc-sha256", "bc-gcm-encrypt"})
  public String op;

  private static final int CHUNK_BYTES = Impls.CHUNK_BYTES;
  /** 16 chunks (1 MiB) per measured call, so reading the CPU clocks costs well under 1% of a call. */
  private static final int CALLS_PER_INVOCATION = 16;

  private byte[] in;
  private byte[] ciphertext;
  private byte[] out;
  private ChunkLoop.Aead aead;
  private ChunkLoop.Hash hash;
  private long nonceCounter;
  private int bytesPerCall;

  @Setup(Level.Trial)
  public void setUp() {
    SplittableRandom random = new SplittableRandom(3);
    in = new byte[CHUNK_BYTES];
    random.nextBytes(in);
    out = new byte[CHUNK_BYTES + ChunkLoop.TAG_BYTES];
    byte[] key = new byte[32];
    byte[] prefix = new byte[7];
    byte[] aad = new byte[32];
    random.nextBytes(key);
    random.nextBytes(prefix);
    random.nextBytes(aad);
    aead = op.startsWith("bc-") ? new ChunkLoop.BcAead(key, prefix, aad) : new ChunkLoop.JdkAead(key, prefix, aad);
    hash = op.startsWith("bc-") ? new ChunkLoop.BcHash() : new ChunkLoop.JdkHash();
    ciphertext = new byte[CHUNK_BYTES + ChunkLoop.TAG_BYTES];
    aead.newMessage();
    aead.encrypt(0, false, in, 0, CHUNK_BYTES, ciphertext);
    nonceCounter = 1; // counter 0 was just used: GCM must not encrypt under it again
    bytesPerCall = op.equals("gcm-empty") ? 0 : CHUNK_BYTES;
  }

  @Benchmark
  public Object step(Megabytes counter, CpuTime cpu) {
    cpu.start();
    Object result = null;
    for (int i = 0; i < CALLS_PER_INVOCATION; i++) {
      result = once();
    }
    cpu.stop();
    counter.add((long) bytesPerCall * CALLS_PER_INVOCATION);
    return result;
  }

  private Object once() {
    switch (op) {
      case "sha256":
      case "bc-sha256":
        hash.update(in, 0, CHUNK_BYTES);
        return hash;
      case "gcm-encrypt":
      case "bc-gcm-encrypt":
        // A fresh counter per call: GCM refuses to encrypt twice under one nonce.
        return aead.encrypt(nonceCounter++ & 0xFFFF_FFFFL, false, in, 0, CHUNK_BYTES, out);
      case "gcm-decrypt":
        return aead.decrypt(0, false, ciphertext, 0, ciphertext.length, out);
      case "gcm-empty":
        return aead.encrypt(nonceCounter++ & 0xFFFF_FFFFL, false, in, 0, 0, out);
      case "copy":
        System.arraycopy(in, 0, out, 1, CHUNK_BYTES);
        return out;
      default:
        throw new IllegalArgumentException("unknown op '" + op + "'");
    }
  }
}
