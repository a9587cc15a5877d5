package io.crowdbackup.engine.envelope;

import static io.crowdbackup.api.EnvelopeException.Reason.*;
import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SigningKeyPair;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parallel opener on envelopes with many more chunks than it has slots, so that it reads ahead and
 * verifies out of order: it must give what the one-thread opener gives — the same result, or the same
 * failure at the same chunk with exactly the chunks before it written.
 */
class ParallelOpenerTest {
  static final int CHUNK = 4096;
  static final int CHUNKS = 40;
  static final DestinationKeyPair DEST = TestEnvelopes.destination(1, "https://home.example/inbox");
  static final SigningKeyPair SOURCE = TestEnvelopes.source(3);

  static byte[] plaintext;
  static byte[] envelope;
  static EnvelopeLayout layout;

  @BeforeAll
  static void seal(@TempDir Path dir) throws IOException {
    // Random and compressible chunks in turn: records of both encodings and of different lengths.
    byte[][] parts = new byte[CHUNKS][];
    for (int i = 0; i < CHUNKS; i++) {
      parts[i] = TestEnvelopes.plaintext(100 + i, i == CHUNKS - 1 ? 777 : CHUNK, i % 3 == 0);
    }
    plaintext = EnvelopeLayout.concat(parts);
    Path file = dir.resolve("plain");
    Files.write(file, plaintext);
    SealRequest request = TestEnvelopes.request(DEST, SOURCE).chunkSizeBytes(CHUNK).compression(Compression.ON)
        .mediaType("text/plain").build();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(7, 1)) {
      sealer.seal(request, file, Channels.newChannel(out));
    }
    envelope = out.toByteArray();
    layout = EnvelopeLayout.of(envelope);
    assertEquals(CHUNKS, layout.dataRecordCount());
    assertTrue(layout.recordLength[0] < CHUNK / 2, "chunk 0 should be LZ4");
  }

  @Test
  void everyThreadCountOpensToTheSameResultAsOneThread() throws IOException {
    ByteArrayOutputStream oneOut = new ByteArrayOutputStream();
    OpenResult one = new StreamingOpener(DEST).open(channel(envelope), Channels.newChannel(oneOut));
    assertArrayEquals(plaintext, oneOut.toByteArray());
    for (int threads : new int[] {2, 3, 8}) {
      try (StreamingOpener opener = new StreamingOpener(DEST, threads)) {
        for (int round = 0; round < 2; round++) { // the pool is reused across envelopes
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          OpenResult r = opener.open(channel(envelope), Channels.newChannel(out), one.fingerprint());
          assertArrayEquals(plaintext, out.toByteArray(), threads + " threads");
          assertEquals(one.metadata(), r.metadata());
          assertArrayEquals(one.plaintextSha256(), r.plaintextSha256());
        }
      }
    }
  }

  @Test
  void aBadChunkFailsAtItsPlaceAndNothingAfterItIsWrittenThoughLaterChunksWereVerified() throws IOException {
    for (int bad : new int[] {0, 1, 17, CHUNKS - 1}) {
      byte[] t = envelope.clone();
      t[(int) (layout.recordStart[bad] + 4)] ^= 0x20;
      assertSameFailure(t, bad, BAD_CHUNK_TAG, "chunk " + bad + " altered");
    }
  }

  @Test
  void aBadChunkBeforeBrokenFramingWinsAsItDoesOnOneThread() throws IOException {
    // Chunk 17 fails its tag; record 19's length field is broken. One thread stops at 17 without reading 19;
    // the parallel opener reads 19 while 17 is still being verified, and must still report 17.
    byte[] t = envelope.clone();
    t[(int) (layout.recordStart[17] + 10)] ^= 1;
    Arrays.fill(t, (int) layout.recordStart[19], (int) layout.recordStart[19] + 4, (byte) 0);
    assertSameFailure(t, 17, BAD_CHUNK_TAG, "tag 17, framing 19");
    // And a cut inside record 18 after a bad chunk 16.
    byte[] cut = Arrays.copyOf(envelope, (int) layout.recordStart[18] + 9);
    cut[(int) (layout.recordStart[16] + 5)] ^= 1;
    assertSameFailure(cut, 16, BAD_CHUNK_TAG, "tag 16, cut in 18");
    // Framing alone: the chunks before it are written, in full.
    byte[] framing = envelope.clone();
    Arrays.fill(framing, (int) layout.recordStart[25], (int) layout.recordStart[25] + 4, (byte) 0xff);
    assertSameFailure(framing, 25, BAD_RECORD_LENGTH, "framing 25");
  }

  @Test
  void aFailingDestinationChannelStopsTheOpenAndThePoolServesTheNextOne() throws IOException {
    try (StreamingOpener opener = new StreamingOpener(DEST, 2)) {
      OutputStream fillsUp = new OutputStream() {
        long written;

        @Override
        public void write(int b) throws IOException {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          if (written > 10 * CHUNK) {
            throw new IOException("disk full after " + written + " bytes");
          }
          written += len;
        }
      };
      WritableByteChannel full = Channels.newChannel(fillsUp);
      IOException e = assertThrows(IOException.class, () -> opener.open(channel(envelope), full));
      assertTrue(e.getMessage().startsWith("disk full"), e.getMessage());
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      opener.open(channel(envelope), Channels.newChannel(out));
      assertArrayEquals(plaintext, out.toByteArray());
    }
  }

  /** Both openers fail with {@code reason}, the same message, and exactly the chunks before {@code chunk} written. */
  private static void assertSameFailure(byte[] t, int chunk, EnvelopeException.Reason reason, String what)
      throws IOException {
    String message = null;
    for (int threads : new int[] {1, 2, 5}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (StreamingOpener opener = new StreamingOpener(DEST, threads)) {
        EnvelopeException e = assertThrows(EnvelopeException.class,
            () -> opener.open(channel(t), Channels.newChannel(out)), what);
        assertEquals(reason, e.reason(), () -> what + ", " + threads + " threads: " + e.getMessage());
        if (message == null) {
          message = e.getMessage();
        }
        assertEquals(message, e.getMessage(), what + ", " + threads + " threads");
      }
      assertArrayEquals(Arrays.copyOf(plaintext, chunk * CHUNK), out.toByteArray(),
          what + ", " + threads + " threads: written");
    }
  }

  private static java.nio.channels.ReadableByteChannel channel(byte[] b) {
    return Channels.newChannel(new ByteArrayInputStream(b));
  }
}
