package io.crowdbackup.engine.envelope;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.Transfer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A 4 GiB plaintext sealed and opened in one streaming pass with a 64 MiB heap: the sealer writes into an
 * OS pipe while the opener reads from it on another thread, so neither side ever holds more than its
 * chunk buffers. 4 GiB also crosses 2^32 bytes, where an int length or offset would overflow.
 *
 * <p>Tagged {@code bigstream}: {@code engine/pom.xml} runs it in its own Surefire execution with
 * {@code -Xmx64m} (the default execution excludes it). Run alone with
 * {@code mvn -o -Dquick -pl engine -am test -Dtest=BigStreamTest -Dsurefire.failIfNoSpecifiedTests=false};
 * skip with {@code -Dbigstream.skip}.
 */
@Tag("bigstream")
class BigStreamTest {
  static final long PLAINTEXT_BYTES = 4L << 30;
  static final long HEAP_LIMIT_BYTES = 64L << 20;

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void sealsAndOpensFourGibibytesThroughAPipeWithSmallHeap() throws Exception {
    // Fails if the Surefire execution lost its -Xmx64m: the point of the test is the small heap.
    long maxHeap = Runtime.getRuntime().maxMemory();
    assertTrue(maxHeap <= HEAP_LIMIT_BYTES, "this test must run with -Xmx64m; max heap is " + maxHeap + " bytes");

    DestinationKeyPair destination = TestEnvelopes.destination(41, "https://home.example/inbox");
    SigningKeyPair source = TestEnvelopes.source(42);
    SealRequest request = TestEnvelopes.request(destination, source)
        .chunkSizeBytes(SealRequest.DEFAULT_CHUNK_SIZE_BYTES)
        .build();

    GeneratorChannel plaintext = new GeneratorChannel(7, PLAINTEXT_BYTES);
    TestEnvelopes.DigestingSink opened = new TestEnvelopes.DigestingSink();
    Pipe pipe = Pipe.open();
    ExecutorService sealThread = Executors.newSingleThreadExecutor();
    long startNanos = System.nanoTime();
    SealResult sealed;
    OpenResult result;
    Transfer counted = Transfer.create();
    ReadableByteChannel envelopeIn = counted.reading(pipe.source(), -1);
    try {
      Future<SealResult> sealing = sealThread.submit(() -> {
        try (WritableByteChannel sink = pipe.sink();
            StreamingSealer sealer = TestEnvelopes.deterministicSealer(43, 1)) {
          return sealer.seal(request, plaintext, PLAINTEXT_BYTES, sink);
        }
      });
      try (ReadableByteChannel source2 = envelopeIn) {
        result = new StreamingOpener(destination).open(source2, opened);
      }
      sealed = sealing.get();
    } finally {
      sealThread.shutdownNow();
    }
    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);

    assertEquals(PLAINTEXT_BYTES, plaintext.produced, "generator output");
    assertEquals(PLAINTEXT_BYTES, opened.length, "opened plaintext length");
    byte[] expectedSha = plaintext.sha256.digest();
    assertArrayEquals(expectedSha, opened.sha256.digest(), "opened plaintext SHA-256");
    assertArrayEquals(expectedSha, result.plaintextSha256(), "the opener's plaintext SHA-256");
    assertEquals(PLAINTEXT_BYTES, result.metadata().plaintextLengthBytes());
    assertEquals(sealed.fingerprint(), result.fingerprint());
    assertEquals(sealed.envelopeLengthBytes(), counted.bytesDone(), "envelope bytes through the pipe");
    assertEquals(EnvelopeFormat.uncompressedEnvelopeLength(
        HeaderCodec.piece0Length(destination.card().locator()), request.chunkSizeBytes(), PLAINTEXT_BYTES),
        sealed.envelopeLengthBytes());
    System.out.printf("BigStreamTest: %d plaintext bytes sealed and opened in %d ms (%.0f MiB/s), max heap %d MiB%n",
        PLAINTEXT_BYTES, elapsedMillis, PLAINTEXT_BYTES / 1048576.0 / (elapsedMillis / 1000.0), maxHeap >> 20);
  }

  /** Deterministic pseudo-random bytes (incompressible), hashed as they are handed out. */
  static final class GeneratorChannel implements ReadableByteChannel {
    final MessageDigest sha256 = FingerprintAccumulator.Sha256.newDigest();
    private final SplittableRandom random;
    private final long total;
    private final byte[] block = new byte[64 * 1024];
    private int blockPos = block.length;
    long produced;

    GeneratorChannel(long seed, long total) {
      this.random = new SplittableRandom(seed);
      this.total = total;
    }

    @Override
    public int read(ByteBuffer dst) {
      if (produced == total) {
        return -1;
      }
      if (blockPos == block.length) {
        random.nextBytes(block);
        blockPos = 0;
      }
      int n = (int) Math.min(Math.min(dst.remaining(), block.length - blockPos), total - produced);
      dst.put(block, blockPos, n);
      sha256.update(block, blockPos, n);
      blockPos += n;
      produced += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

}
