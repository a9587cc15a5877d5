package io.crowdbackup.engine.envelope;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The sealer's per-chunk LZ4 decision (a sealer policy: any decision is a valid envelope). */
class ChunkEncoderTest {
  static final int CHUNK = 64 * 1024;

  static byte[] chunk(byte[] content) {
    byte[] buf = ChunkEncoder.newChunkBuffer(CHUNK);
    System.arraycopy(content, 0, buf, ChunkEncoder.DATA_OFFSET, content.length);
    return buf;
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  @Test
  void aChunkWhoseStartDoesNotCompressIsStoredRawWithoutTryingTheRest() {
    ChunkEncoder e = ChunkEncoder.forPlanning(CHUNK);
    assertEquals(-1, e.tryCompress(chunk(random(CHUNK, 1)), CHUNK), "random");
    // The price of the probe: incompressible first 4 KiB, then zeros that LZ4 would have shrunk.
    byte[] thenZeros = Arrays.copyOf(random(ChunkEncoder.PROBE_BYTES, 2), CHUNK);
    assertEquals(-1, e.tryCompress(chunk(thenZeros), CHUNK), "random start, zeros after");
  }

  @Test
  void aChunkWhoseStartCompressesIsCompressedWhole() throws Exception {
    ChunkEncoder e = ChunkEncoder.forPlanning(CHUNK);
    byte[] zerosThenRandom = new byte[CHUNK];
    System.arraycopy(random(CHUNK / 2, 3), 0, zerosThenRandom, CHUNK / 2, CHUNK / 2);
    byte[] buf = chunk(zerosThenRandom);
    int n = e.tryCompress(buf, CHUNK);
    assertTrue(n > 0 && n < CHUNK * 3 / 4, "compressed to " + n);
    // A chunk no longer than the probe is decided by compressing it whole, as before the probe.
    byte[] small = random(ChunkEncoder.PROBE_BYTES, 4);
    Arrays.fill(small, ChunkEncoder.PROBE_BYTES / 2, ChunkEncoder.PROBE_BYTES, (byte) 7);
    assertTrue(e.tryCompress(chunk(small), small.length) > 0, "half random, half runs: shorter");
  }
}
