package io.crowdbackup.engine.envelope;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.ContentKind;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.Envelopes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RoundTripTest {
  static final int CHUNK = 4096;
  static final DestinationKeyPair DEST = TestEnvelopes.destination(1, "https://home.example/inbox");
  static final DestinationKeyPair RELAY = TestEnvelopes.destination(2, "https://relay.example/in");
  static final SigningKeyPair SOURCE = TestEnvelopes.source(3);

  static Stream<Arguments> cases() {
    int[] sizes = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 1};
    Stream.Builder<Arguments> b = Stream.builder();
    for (int size : sizes) {
      for (boolean compressible : new boolean[] {false, true}) {
        for (Compression c : new Compression[] {Compression.OFF, Compression.ON}) {
          for (boolean relay : new boolean[] {false, true}) {
            for (int threads : new int[] {1, 2}) {
              b.add(Arguments.of(size, compressible, c, relay, threads));
            }
          }
        }
      }
    }
    return b.build();
  }

  @ParameterizedTest(name = "size={0} compressible={1} compression={2} relay={3} threads={4}")
  @MethodSource("cases")
  void sealsAndOpens(int size, boolean compressible, Compression compression, boolean relay, int threads,
      @TempDir Path dir) throws Exception {
    byte[] plaintext = TestEnvelopes.plaintext(size, size, compressible);
    Path file = dir.resolve("in.bin");
    Files.write(file, plaintext);
    SealRequest.Builder rb = TestEnvelopes.request(DEST, SOURCE).chunkSizeBytes(CHUNK).compression(compression)
        .mediaType("text/plain");
    if (relay) {
      rb.relay(RELAY.card());
    }
    ByteArrayOutputStream envelope = new ByteArrayOutputStream();
    io.crowdbackup.api.SealResult sealed;
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(size, threads)) {
      sealed = sealer.seal(rb.build(), file, Channels.newChannel(envelope));
    }
    byte[] bytes = envelope.toByteArray();
    assertEquals(bytes.length, sealed.envelopeLengthBytes());
    assertEquals(bytes.length, sealed.header().envelopeLengthBytes());
    assertEquals(sealed.fingerprint(), Envelopes.fingerprint(Channels.newChannel(new ByteArrayInputStream(bytes))));
    if (compression == Compression.ON && compressible && size >= CHUNK && !relay) {
      assertTrue(bytes.length < size, "compressible plaintext should shrink: " + bytes.length + " vs " + size);
    }

    byte[] opened;
    OpenResult result;
    if (relay) {
      assertEquals(RELAY.card().locator(), sealed.header().locator());
      ByteArrayOutputStream inner = new ByteArrayOutputStream();
      OpenResult outer = Envelopes.opener(RELAY).open(Channels.newChannel(new ByteArrayInputStream(bytes)),
          Channels.newChannel(inner), sealed.fingerprint());
      assertEquals(ContentKind.RELAYED_ENVELOPE, outer.metadata().contentKind());
      EnvelopeHeader innerHeader = Envelopes.readHeader(Channels.newChannel(new ByteArrayInputStream(inner.toByteArray())));
      assertEquals(DEST.card().locator(), innerHeader.locator());
      bytes = inner.toByteArray();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    result = Envelopes.opener(DEST).open(Channels.newChannel(new ByteArrayInputStream(bytes)), Channels.newChannel(out));
    opened = out.toByteArray();
    assertArrayEquals(plaintext, opened);
    assertEquals(size, result.metadata().plaintextLengthBytes());
    assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(plaintext), result.plaintextSha256(),
        "the opener hashes what it wrote");
    assertEquals("photo.jpg", result.metadata().name());
    assertEquals(ContentKind.FILE, result.metadata().contentKind());
    assertEquals(DEST.card().locator(), result.header().locator());
  }

  @Test
  void parallelAndSequentialSealersProduceIdenticalBytes() throws Exception {
    byte[] plaintext = TestEnvelopes.plaintext(9, 40 * CHUNK + 17, false);
    SealRequest request = TestEnvelopes.request(DEST, SOURCE).chunkSizeBytes(CHUNK).build();
    byte[] one;
    byte[] two;
    try (StreamingSealer s1 = TestEnvelopes.deterministicSealer(5, 1);
        StreamingSealer s2 = TestEnvelopes.deterministicSealer(5, 2)) {
      one = TestEnvelopes.seal(s1, request, plaintext);
      two = TestEnvelopes.seal(s2, request, plaintext);
    }
    assertArrayEquals(one, two);
  }
}
