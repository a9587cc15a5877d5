package io.crowdbackup.engine.envelope;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.keys.Keys;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.security.SecureRandom;
import java.util.SplittableRandom;

/**
 * Test-only helpers shared by the engine's tests, the fuzz targets and the vector generator (through the
 * engine's test jar): deterministic randomness, fixed keys, sealing to byte arrays.
 */
public final class TestEnvelopes {
  public static final long EXPIRES = 1_800_000_000L;

  private TestEnvelopes() {}

  /** A sealer whose ephemeral keys and salts come from a seeded generator. Never for production. */
  public static StreamingSealer deterministicSealer(long seed, int parallelism) {
    SplittableRandom random = new SplittableRandom(seed);
    return new StreamingSealer(random::nextBytes, parallelism);
  }

  /**
   * A sealer whose entropy hands out exactly the given values, in order: for each envelope layer the
   * sealer draws the 32-byte ephemeral X25519 secret, then the 32-byte salt (a relay envelope: the outer
   * layer's two, then the inner layer's). Fails if a draw has another length or the values run out. For
   * test vectors, whose secrets are written down. Never for production.
   */
  public static StreamingSealer scriptedSealer(byte[]... draws) {
    java.util.Iterator<byte[]> next = java.util.Arrays.asList(draws).iterator();
    return new StreamingSealer(bytes -> {
      if (!next.hasNext()) {
        throw new IllegalStateException("scripted entropy exhausted");
      }
      byte[] value = next.next();
      if (value.length != bytes.length) {
        throw new IllegalStateException("scripted draw of " + bytes.length + " bytes, script has " + value.length);
      }
      System.arraycopy(value, 0, bytes, 0, bytes.length);
    }, 1);
  }

  /** A deterministic {@link SecureRandom} for key generation in tests and vectors. */
  public static SecureRandom deterministicRandom(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    return new SecureRandom() {
      private static final long serialVersionUID = 1L;

      @Override
      public void nextBytes(byte[] bytes) {
        random.nextBytes(bytes);
      }
    };
  }

  public static DestinationKeyPair destination(long seed, String locator) {
    return Keys.generateDestination(locator, deterministicRandom(seed));
  }

  public static SigningKeyPair source(long seed) {
    return Keys.generateSigning(deterministicRandom(seed));
  }

  public static SealRequest.Builder request(DestinationKeyPair to, SigningKeyPair from) {
    return SealRequest.newBuilder()
        .destination(to.card())
        .releaseKey(from.publicKey())
        .expiresAtEpochSecond(EXPIRES)
        .name("photo.jpg")
        .mediaType("image/jpeg")
        .createdAtEpochMillis(1_700_000_000_000L)
        .build().toBuilder(); // a starting point: a test may set each value once more
  }

  /** Seals a byte array and returns the envelope bytes. */
  public static byte[] seal(StreamingSealer sealer, SealRequest request, byte[] plaintext) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    sealer.seal(request, Channels.newChannel(new java.io.ByteArrayInputStream(plaintext)), plaintext.length,
        Channels.newChannel(out));
    return out.toByteArray();
  }

  /** Seals and returns both result and bytes. */
  public static Sealed sealWithResult(StreamingSealer sealer, SealRequest request, byte[] plaintext)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SealResult r = sealer.seal(request, Channels.newChannel(new java.io.ByteArrayInputStream(plaintext)),
        plaintext.length, Channels.newChannel(out));
    return new Sealed(r, out.toByteArray());
  }

  /** A seal result with its bytes. */
  public static final class Sealed {
    public final SealResult result;
    public final byte[] bytes;

    Sealed(SealResult result, byte[] bytes) {
      this.result = result;
      this.bytes = bytes;
    }
  }

  /** Pseudo-random bytes, optionally compressible (repeating text). */
  public static byte[] plaintext(long seed, int length, boolean compressible) {
    byte[] b = new byte[length];
    if (compressible) {
      byte[] phrase = "the quick brown fox jumps over the lazy dog; ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      for (int i = 0; i < length; i++) {
        b[i] = phrase[i % phrase.length];
      }
    } else {
      new SplittableRandom(seed).nextBytes(b);
    }
    return b;
  }

  /** Counts and hashes what is written to it; keeps nothing. */
  public static final class DigestingSink implements java.nio.channels.WritableByteChannel {
    public final java.security.MessageDigest sha256 = FingerprintAccumulator.Sha256.newDigest();
    public long length;

    @Override
    public int write(java.nio.ByteBuffer src) {
      int n = src.remaining();
      sha256.update(src);
      length += n;
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
