package io.crowdbackup.fuzz;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.envelope.StreamingSealer;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The fixed keys every target and the seed generator share, and small in-memory helpers. The keys are the
 * engine tests' deterministic ones, so seeds and findings reproduce on any machine.
 */
final class Fixtures {
  private Fixtures() {}

  static final String DESTINATION_LOCATOR = "https://home.example/inbox";
  static final String RELAY_LOCATOR = "https://relay.example/in";
  static final DestinationKeyPair DESTINATION = TestEnvelopes.destination(1, DESTINATION_LOCATOR);
  static final DestinationKeyPair RELAY = TestEnvelopes.destination(2, RELAY_LOCATOR);
  static final SigningKeyPair SOURCE = TestEnvelopes.source(3);
  /** Chunk sizes the structured targets draw from: small, so one input stays in the microseconds. */
  static final int[] SMALL_CHUNK_SIZES = {4096, 8192, 16384};

  static ReadableByteChannel channel(byte[] bytes) {
    return Channels.newChannel(new ByteArrayInputStream(bytes));
  }

  static ReadableByteChannel channel(byte[] bytes, int offset, int length) {
    return Channels.newChannel(new ByteArrayInputStream(bytes, offset, length));
  }

  /** Seals in memory; compression needs the file path API, so it goes through a temporary file. */
  static Sealed seal(SealRequest request, byte[] plaintext, long entropySeed) throws IOException {
    StreamingSealer sealer = TestEnvelopes.deterministicSealer(entropySeed, 1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SealResult result;
    if (request.compression() == Compression.OFF) {
      result = sealer.seal(request, channel(plaintext), plaintext.length, Channels.newChannel(out));
    } else {
      Path file = Files.createTempFile("crowdbackup-fuzz", ".bin");
      try {
        Files.write(file, plaintext);
        result = sealer.seal(request, file, Channels.newChannel(out));
      } finally {
        Files.deleteIfExists(file);
      }
    }
    return new Sealed(result, out.toByteArray());
  }

  static final class Sealed {
    final SealResult result;
    final byte[] bytes;

    Sealed(SealResult result, byte[] bytes) {
      this.result = result;
      this.bytes = bytes;
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A plaintext sink that keeps only a count and a SHA-256: opening never needs the bytes kept. */
  static final class HashingSink implements WritableByteChannel {
    final MessageDigest sha = sha256();
    long bytes;

    @Override
    public int write(ByteBuffer src) {
      int n = src.remaining();
      sha.update(src);
      bytes += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  /**
   * A plaintext sink that keeps the bytes, refusing more than {@code limitBytes}: a relay's inner envelope
   * is at most as long as the outer one, so the limit is the outer envelope's length.
   */
  static final class BoundedSink implements WritableByteChannel {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final long limitBytes;

    BoundedSink(long limitBytes) {
      this.limitBytes = limitBytes;
    }

    @Override
    public int write(ByteBuffer src) {
      int n = src.remaining();
      if (out.size() + (long) n > limitBytes) {
        throw new AssertionError("contract: opener wrote more than " + limitBytes + " plaintext bytes");
      }
      byte[] b = new byte[n];
      src.get(b);
      out.write(b, 0, n);
      return n;
    }

    byte[] bytes() {
      return out.toByteArray();
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  /**
   * The most plaintext an envelope of this length can carry: every data record is at least 22 bytes and
   * yields at most one chunk (LZ4 lets a record expand up to the chunk size).
   */
  static long plaintextBound(byte[] envelope) {
    int chunk = 4 * 1024 * 1024;
    try {
      chunk = io.crowdbackup.engine.envelope.EnvelopeHeaders.decode(envelope).chunkSizeBytes();
    } catch (IOException notAnEnvelope) {
      // keep the format's largest chunk
    }
    return (long) chunk * (envelope.length / 22 + 1);
  }

  static byte[] sha256(byte[] b) {
    return sha256().digest(b);
  }
}
