package io.crowdbackup.bench;

import com.google.crypto.tink.subtle.AesGcmHkdfStreaming;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.engine.envelope.StreamingOpener;
import io.crowdbackup.engine.envelope.StreamingSealer;
import io.crowdbackup.engine.keys.Keys;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.SplittableRandom;

/**
 * The implementations the seal/open benchmarks compare, by their {@code impl} parameter value. Each one is
 * built in {@code @Setup} and then runs one whole seal or open per call; everything it needs that is not
 * part of the measured work (keys, an envelope to open) is prepared here.
 */
final class Impls {
  /** Ours: {@link StreamingSealer} / {@link StreamingOpener} through the api, on in-memory channels. */
  static final String CROWDBACKUP = "crowdbackup";
  /** JDK AES-256-GCM per chunk + one SHA-256 over the same bytes: what the issue calls the limit. */
  static final String LIMIT = "limit";
  /** JDK AES-256-GCM + SHA-256 of the ciphertext + SHA-256 of the plaintext: format v1's sealing, v2's opening. */
  static final String LIMIT_2SHA = "limit-2sha";
  /** Tink's AES-GCM-HKDF streaming AEAD, then SHA-256 of its ciphertext. */
  static final String TINK = "tink";
  /** As {@link #TINK}, plus SHA-256 of the plaintext: the same hashing work as an envelope. */
  static final String TINK_2SHA = "tink-2sha";
  /** Bouncy Castle's GCMBlockCipher over AESEngine, then its SHA256Digest of the ciphertext. */
  static final String BOUNCYCASTLE = "bouncycastle";

  /** The envelope's default chunk, used by every chunked baseline. */
  static final int CHUNK_BYTES = SealRequest.DEFAULT_CHUNK_SIZE_BYTES;

  private Impls() {}

  /** One complete seal or open; returns something derived from all output, for the blackhole. */
  interface Run {
    Object run() throws IOException;
  }

  static Run sealer(String impl, Plaintext p, int tinkSegmentBytes, int parallelism) {
    switch (impl) {
      case CROWDBACKUP:
        return new Crowdbackup(p, parallelism)::seal;
      case LIMIT:
      case LIMIT_2SHA:
      case BOUNCYCASTLE: {
        ChunkLoop loop = chunkLoop(impl);
        return () -> loop.seal(p);
      }
      case TINK:
      case TINK_2SHA:
        return new Tink(p, tinkSegmentBytes, impl.equals(TINK_2SHA))::seal;
      default:
        throw new IllegalArgumentException("unknown impl '" + impl + "'");
    }
  }

  /**
   * @param threads worker threads of our opener (1: the caller's thread only); the others ignore it. Their
   *     daemon pool lives as long as the benchmark's fork.
   */
  static Run opener(String impl, Plaintext p, int tinkSegmentBytes, int threads) throws IOException {
    switch (impl) {
      case CROWDBACKUP: {
        Crowdbackup c = new Crowdbackup(p, threads);
        c.sealForOpening();
        return c::open;
      }
      case LIMIT:
      case LIMIT_2SHA:
      case BOUNCYCASTLE: {
        ChunkLoop loop = chunkLoop(impl);
        byte[] ciphertext = loop.ciphertextOf(p);
        return () -> loop.open(ciphertext);
      }
      case TINK:
      case TINK_2SHA: {
        Tink t = new Tink(p, tinkSegmentBytes, impl.equals(TINK_2SHA));
        t.sealForOpening();
        return t::open;
      }
      default:
        throw new IllegalArgumentException("unknown impl '" + impl + "'");
    }
  }

  private static ChunkLoop chunkLoop(String impl) {
    SplittableRandom random = new SplittableRandom(7);
    byte[] key = new byte[32];
    byte[] prefix = new byte[7];
    byte[] aad = new byte[32];
    random.nextBytes(key);
    random.nextBytes(prefix);
    random.nextBytes(aad);
    switch (impl) {
      case LIMIT:
        return new ChunkLoop(new ChunkLoop.JdkAead(key, prefix, aad), new ChunkLoop.JdkHash(), null, CHUNK_BYTES);
      case LIMIT_2SHA:
        return new ChunkLoop(new ChunkLoop.JdkAead(key, prefix, aad), new ChunkLoop.JdkHash(),
            new ChunkLoop.JdkHash(), CHUNK_BYTES);
      case BOUNCYCASTLE:
        return new ChunkLoop(new ChunkLoop.BcAead(key, prefix, aad), new ChunkLoop.BcHash(), null, CHUNK_BYTES);
      default:
        throw new IllegalArgumentException(impl);
    }
  }

  /** Ours, exactly as an application calls it. */
  static final class Crowdbackup {
    private final Plaintext plaintext;
    private final StreamingSealer sealer;
    private final DestinationKeyPair destination;
    private final SealRequest request;
    private final StreamingOpener opener;
    private byte[] envelope;

    Crowdbackup(Plaintext plaintext, int parallelism) {
      this.plaintext = plaintext;
      this.sealer = new StreamingSealer(parallelism);
      SecureRandom random = new SecureRandom();
      this.destination = Keys.generateDestination("https://archive.example/inbox", random);
      this.opener = new StreamingOpener(destination, parallelism);
      this.request = SealRequest.newBuilder()
          .destination(destination.card())
          .releaseKey(Keys.generateSigning(random).publicKey())
          .expiresAtEpochSecond(System.currentTimeMillis() / 1000 + 12 * 3600)
          .name("VID_20261126_123456.mp4")
          .mediaType("video/mp4")
          .createdAtEpochMillis(System.currentTimeMillis())
          .build();
    }

    SealResult seal() throws IOException {
      return sealer.seal(request, plaintext.channel(), plaintext.lengthBytes, new MemoryChannels.Discarding());
    }

    void sealForOpening() throws IOException {
      long length = seal().envelopeLengthBytes();
      MemoryChannels.Collecting out = new MemoryChannels.Collecting(length);
      sealer.seal(request, plaintext.channel(), plaintext.lengthBytes, out);
      envelope = out.bytes;
    }

    Object open() throws IOException {
      return opener.open(new MemoryChannels.ArrayReading(envelope, null), new MemoryChannels.Discarding());
    }

    void close() {
      sealer.close();
      opener.close();
    }
  }

  /**
   * Tink's streaming AEAD. Its plaintext is written straight from the block (Tink copies it into its own
   * segment buffer, as ours copies into its chunk buffer); its ciphertext is hashed as it streams out. Its
   * decrypting channel is read into a buffer of one segment.
   */
  static final class Tink {
    private static final int TINK_WRITE_BYTES = 1024 * 1024;
    private final Plaintext plaintext;
    private final AesGcmHkdfStreaming aead;
    private final boolean hashPlaintext;
    private final byte[] aad = new byte[32];
    private final ByteBuffer readBuffer;
    private byte[] ciphertext;

    Tink(Plaintext plaintext, int ciphertextSegmentBytes, boolean hashPlaintext) {
      this.plaintext = plaintext;
      this.hashPlaintext = hashPlaintext;
      byte[] ikm = new byte[32];
      new SplittableRandom(11).nextBytes(ikm);
      try {
        this.aead = new AesGcmHkdfStreaming(ikm, "HmacSha256", 32, ciphertextSegmentBytes, 0);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
      this.readBuffer = ByteBuffer.allocate(ciphertextSegmentBytes);
    }

    byte[] seal() throws IOException {
      return sealInto(new MemoryChannels.Hashing(ChunkLoop.newSha256()));
    }

    private byte[] sealInto(WritableByteChannel sink) throws IOException {
      MessageDigest plaintextSha = hashPlaintext ? ChunkLoop.newSha256() : null;
      try (WritableByteChannel encrypting = aead.newEncryptingChannel(sink, aad)) {
        // Written in 1 MiB slices: large enough for Tink to encrypt whole segments straight from the slice,
        // small enough that hashing a slice and then encrypting it find its bytes still in cache.
        long position = 0;
        while (position < plaintext.lengthBytes) {
          int offset = plaintext.offsetOf(position);
          int n = (int) Math.min(Math.min(TINK_WRITE_BYTES, plaintext.block.length - offset),
              plaintext.lengthBytes - position);
          if (plaintextSha != null) {
            plaintextSha.update(plaintext.block, offset, n);
          }
          ByteBuffer slice = ByteBuffer.wrap(plaintext.block, offset, n);
          while (slice.hasRemaining()) {
            encrypting.write(slice);
          }
          position += n;
        }
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
      if (plaintextSha != null) {
        plaintextSha.digest();
      }
      return sink instanceof MemoryChannels.Hashing ? ((MemoryChannels.Hashing) sink).digest.digest() : null;
    }

    void sealForOpening() throws IOException {
      MemoryChannels.Collecting out = new MemoryChannels.Collecting(aead.expectedCiphertextSize(plaintext.lengthBytes));
      sealInto(out);
      if (out.position != out.bytes.length) {
        throw new IllegalStateException("Tink wrote " + out.position + " bytes, expected " + out.bytes.length);
      }
      ciphertext = out.bytes;
    }

    byte[] open() throws IOException {
      MessageDigest ciphertextSha = ChunkLoop.newSha256();
      MessageDigest plaintextSha = hashPlaintext ? ChunkLoop.newSha256() : null;
      long total = 0;
      try (ReadableByteChannel decrypting =
          aead.newDecryptingChannel(new MemoryChannels.ArrayReading(ciphertext, ciphertextSha), aad)) {
        while (true) {
          readBuffer.clear();
          int n = decrypting.read(readBuffer);
          if (n < 0) {
            break;
          }
          if (plaintextSha != null) {
            readBuffer.flip();
            plaintextSha.update(readBuffer);
          }
          total += n;
        }
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
      if (total != plaintext.lengthBytes) {
        throw new IllegalStateException("Tink opened " + total + " bytes, expected " + plaintext.lengthBytes);
      }
      return ciphertextSha.digest();
    }
  }
}
