package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.InnerMetadata;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * Fuzz-only: builds envelopes record by record with a real key schedule, so a structured fuzz target can
 * hand the opener chunks that <em>authenticate</em> but carry hostile content (an LZ4 block that does not
 * decode, a wrong encoding byte, malformed metadata, a short chunk in the middle, a wrong counter or final
 * flag). Mutating sealed bytes cannot reach those paths: any change to a sealed chunk fails its tag.
 *
 * <p>Lives in the engine's package (in the fuzz module's test sources) to reach the package-private key
 * schedule, chunk cipher and codecs; it never ships. It encodes nothing of its own: header, MAC, nonces
 * and records come from the engine's own classes, so a forged envelope with no deviation is exactly what
 * the sealer would write.
 */
public final class EnvelopeForge {
  /** Offset of the chunk-size exponent in piece 0 (prelude 8, length field 2, suite 1). */
  public static final int CHUNK_LOG2_OFFSET = PRELUDE_BYTES + HEADER_LENGTH_FIELD_BYTES + 1;
  /** Offset of the u64 envelope length in piece 0. */
  public static final int ENVELOPE_LENGTH_OFFSET = CHUNK_LOG2_OFFSET + 1;
  public static final int METADATA_BYTES = METADATA_PLAINTEXT_BYTES;
  public static final int RAW = ENCODING_RAW;
  public static final int LZ4 = ENCODING_LZ4;
  public static final int METADATA = ENCODING_METADATA;

  private EnvelopeForge() {}

  /** One record to encrypt: its plaintext (encoding byte first) and the nonce inputs to use. */
  public static final class Chunk {
    final byte[] plaintext;
    final long counter;
    final boolean last;

    public Chunk(byte[] plaintext, long counter, boolean last) {
      this.plaintext = plaintext.clone();
      this.counter = counter;
      this.last = last;
    }
  }

  /** Where each part of a forged envelope landed, for targeted mutation after forging. */
  public static final class Forged {
    public final byte[] bytes;
    public final int piece0Length;
    /** Offset of each record's length field, in chunk order. */
    public final long[] recordOffsets;

    Forged(byte[] bytes, int piece0Length, long[] recordOffsets) {
      this.bytes = bytes;
      this.piece0Length = piece0Length;
      this.recordOffsets = recordOffsets;
    }
  }

  /** Header fields; a patch is applied to piece 0 before the MAC is computed, so the MAC still verifies. */
  public static final class Header {
    public DestinationCard to;
    public int chunkSizeBytes = 4096;
    public long expiresAtEpochSecond = 1_800_000_000L;
    public byte[] releaseKey = new byte[32];
    /** Added to the true envelope length before it is written into the header. */
    public long envelopeLengthDelta;
    /** Pairs (offset into piece 0 without MAC, new byte value); offsets outside are ignored. */
    public final List<int[]> patches = new ArrayList<>();
    /** Seeds the ephemeral key and salt. */
    public long entropySeed = 1;
  }

  /** The metadata plaintext the sealer would write for {@code m} (512 bytes, encoding byte 2 first). */
  public static byte[] metadata(InnerMetadata m) {
    return MetadataCodec.encode(m);
  }

  /** Largest data-chunk plaintext (encoding byte included) that still fits a record for this chunk size. */
  public static int maxChunkPlaintext(int chunkSizeBytes) {
    return 1 + chunkSizeBytes;
  }

  /**
   * Forges an envelope: piece 0 for {@code h} (MAC'd after the patches) followed by one record per chunk,
   * each encrypted under the envelope's real payload key with the chunk's own counter and final flag.
   */
  public static Forged forge(Header h, List<Chunk> chunks) throws EnvelopeException {
    SplittableRandom random = new SplittableRandom(h.entropySeed);
    byte[] ephemeralSecret = new byte[32];
    byte[] salt = new byte[32];
    random.nextBytes(ephemeralSecret);
    random.nextBytes(salt);
    byte[] ephemeralPublic = new byte[32];
    X25519.generatePublicKey(ephemeralSecret, 0, ephemeralPublic, 0);
    KeySchedule keys = KeySchedule.forSealing(ephemeralSecret, ephemeralPublic, h.to.agreementKey(), salt);

    int piece0Length = HeaderCodec.piece0Length(h.to.locator());
    long total = piece0Length;
    for (Chunk c : chunks) {
      total += RECORD_LENGTH_FIELD_BYTES + c.plaintext.length + TAG_BYTES;
    }
    byte[] withoutMac = HeaderCodec.encodeWithoutMac(h.chunkSizeBytes, total + h.envelopeLengthDelta,
        h.expiresAtEpochSecond, ephemeralPublic, salt, h.to.receiptKey(), h.releaseKey, h.to.locator());
    for (int[] p : h.patches) {
      if (p[0] >= 0 && p[0] < withoutMac.length) {
        withoutMac[p[0]] = (byte) p[1];
      }
    }
    byte[] mac = KeySchedule.headerMac(keys.headerMacKey(), withoutMac, withoutMac.length);
    byte[] piece0 = Arrays.copyOf(withoutMac, withoutMac.length + HEADER_MAC_BYTES);
    System.arraycopy(mac, 0, piece0, withoutMac.length, HEADER_MAC_BYTES);
    byte[] piece0Digest = FingerprintAccumulator.Sha256.newDigest().digest(piece0);
    byte[] keyAndPrefix = keys.payloadKeyAndNoncePrefix(piece0Digest);
    keys.destroy();

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(piece0, 0, piece0.length);
    long[] offsets = new long[chunks.size()];
    int i = 0;
    for (Chunk c : chunks) {
      offsets[i++] = out.size();
      byte[] record = new byte[RECORD_LENGTH_FIELD_BYTES + c.plaintext.length + TAG_BYTES];
      // A cipher per chunk: a forgery may repeat a counter on purpose, and the JDK refuses to encrypt
      // twice in a row under one (key, nonce) on the same Cipher.
      ChunkCipher cipher = new ChunkCipher(keyAndPrefix, piece0Digest);
      int ct = cipher.encrypt(c.counter, c.last, c.plaintext, 0, c.plaintext.length, record,
          RECORD_LENGTH_FIELD_BYTES);
      record[0] = (byte) (ct >>> 24);
      record[1] = (byte) (ct >>> 16);
      record[2] = (byte) (ct >>> 8);
      record[3] = (byte) ct;
      out.write(record, 0, record.length);
    }
    return new Forged(out.toByteArray(), piece0.length, offsets);
  }
}
