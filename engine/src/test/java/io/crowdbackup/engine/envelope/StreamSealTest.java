package io.crowdbackup.engine.envelope;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.SealingChannel;
import io.crowdbackup.api.SigningKeyPair;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sealing a plaintext of unknown length (issue 11 item 4): from a channel read to its end, or pushed into a
 * {@link SealingChannel}, with compression; the envelope is byte for byte the one the file sealer makes
 * from the same plaintext and entropy, and the spool holds no plaintext and is gone afterwards.
 */
class StreamSealTest {
  static final DestinationKeyPair DEST = TestEnvelopes.destination(31, "https://home.example/inbox");
  static final DestinationKeyPair RELAY = TestEnvelopes.destination(32, "https://relay.example/in");
  static final SigningKeyPair SOURCE = TestEnvelopes.source(33);

  @TempDir
  Path dir;

  @Test
  void aStreamOfUnknownLengthSealsToTheSameBytesAsTheFile() throws Exception {
    int c = 4096;
    int[] sizes = {0, 1, c - 1, c, c + 1, 3 * c + 5, 40_000};
    for (int size : sizes) {
      for (Compression compression : Compression.values()) {
        for (boolean relayed : new boolean[] {false, true}) {
          for (int threads : new int[] {1, 2}) {
            byte[] plaintext = TestEnvelopes.plaintext(size, size, size % 2 == 0);
            SealRequest.Builder b = TestEnvelopes.request(DEST, SOURCE).chunkSizeBytes(c).compression(compression)
                .mediaType("text/plain");
            if (relayed) {
              b.relay(RELAY.card());
            }
            SealRequest request = b.build();
            Path file = dir.resolve("p.bin");
            Files.write(file, plaintext);
            ByteArrayOutputStream fromFile = new ByteArrayOutputStream();
            ByteArrayOutputStream fromStream = new ByteArrayOutputStream();
            SealResult a;
            SealResult s;
            try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(size, threads)) {
              a = sealer.seal(request, file, Channels.newChannel(fromFile));
            }
            try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(size, threads)) {
              s = sealer.sealStream(request, Channels.newChannel(new ByteArrayInputStream(plaintext)), dir,
                  Channels.newChannel(fromStream));
            }
            String what = size + " bytes, " + compression + (relayed ? ", relayed" : "") + ", " + threads + " threads";
            assertArrayEquals(fromFile.toByteArray(), fromStream.toByteArray(), what);
            assertEquals(a.fingerprint(), s.fingerprint(), what);
            assertEquals(fromStream.size(), s.envelopeLengthBytes(), what);
            assertNoSpool();
          }
        }
      }
    }
  }

  @Test
  void theChannelACallerWritesIntoSealsWhatWasWrittenInAnySlices() throws Exception {
    byte[] plaintext = TestEnvelopes.plaintext(7, 300_000, true);
    SealRequest request = TestEnvelopes.request(DEST, SOURCE).mediaType("text/plain").compression(Compression.ON)
        .build();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Random r = new Random(3);
    SealResult result;
    try (io.crowdbackup.api.EnvelopeSealer sealer = io.crowdbackup.engine.Envelopes.parallelSealer(2);
        SealingChannel ch = sealer.openSealingChannel(request, dir, Channels.newChannel(out))) {
      for (int off = 0; off < plaintext.length; ) {
        int n = Math.min(plaintext.length - off, r.nextInt(20_000));
        ch.write(ByteBuffer.wrap(plaintext, off, n));
        off += n;
        assertEquals(off, ch.plaintextBytesWritten());
      }
      assertEquals(0, out.size(), "nothing reaches the output before finish()");
      assertSpoolHoldsNoPlaintext(plaintext);
      result = ch.finish();
      assertFalse(ch.isOpen());
    }
    assertNoSpool();
    ByteArrayOutputStream opened = new ByteArrayOutputStream();
    OpenResult o = new StreamingOpener(DEST).open(Channels.newChannel(new ByteArrayInputStream(out.toByteArray())),
        Channels.newChannel(opened), result.fingerprint());
    assertArrayEquals(plaintext, opened.toByteArray());
    assertEquals(plaintext.length, o.metadata().plaintextLengthBytes());
    assertTrue(out.size() < plaintext.length / 2, "compressed: " + out.size());
  }

  @Test
  void closingWithoutFinishAbandonsTheSealAndLeavesNothing() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (StreamingSealer sealer = new StreamingSealer()) {
      SealingChannel ch = sealer.openSealingChannel(TestEnvelopes.request(DEST, SOURCE).build(), dir,
          Channels.newChannel(out));
      ch.write(ByteBuffer.wrap(new byte[100_000]));
      ch.close();
      ch.close();
      assertThrows(java.nio.channels.ClosedChannelException.class, ch::finish);
    }
    assertEquals(0, out.size());
    assertNoSpool();
  }

  private void assertSpoolHoldsNoPlaintext(byte[] plaintext) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      Path spool = s.filter(p -> p.getFileName().toString().startsWith(".crowdbackup-spool-")).findFirst()
          .orElseThrow();
      byte[] spooled = Files.readAllBytes(spool);
      assertTrue(spooled.length > 0);
      byte[] probe = Arrays.copyOfRange(plaintext, 1000, 1032);
      for (int i = 0; i + probe.length <= spooled.length; i++) {
        assertFalse(Arrays.equals(probe, 0, probe.length, spooled, i, i + probe.length), "plaintext in the spool");
      }
    }
  }

  private void assertNoSpool() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".crowdbackup-spool-")), "spool deleted");
    }
  }
}
