package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import java.security.DigestException;
import java.security.MessageDigest;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.jspecify.annotations.Nullable;

/**
 * Turns one plaintext data chunk into one record ({@code u32 length || AES-GCM(encoding || body)}) and
 * that record's piece digest. Not thread-safe: the parallel sealer gives each worker its own.
 *
 * <p>Input layout: {@code in[0]} is reserved for the encoding byte and the chunk's plaintext sits at
 * {@code in[1 .. 1 + length)}, so a raw chunk is encrypted in place without a copy.
 */
final class ChunkEncoder {
  /**
   * The pure-Java compressor: its output is the same on every platform (the JNI one may differ), so test
   * vectors hold everywhere, and it runs on Android.
   */
  private static final LZ4Compressor LZ4 = LZ4Factory.fastestJavaInstance().fastCompressor();

  private final @Nullable ChunkCipher cipher; // null only for planning
  private final MessageDigest pieceDigest = FingerprintAccumulator.Sha256.newDigest();
  private final byte @Nullable [] compressed;

  ChunkEncoder(@Nullable ChunkCipher cipher, int chunkSizeBytes, boolean compress) {
    this.cipher = cipher;
    this.compressed = compress ? new byte[1 + LZ4.maxCompressedLength(chunkSizeBytes)] : null;
  }

  /** Planning without a cipher: the encoded body length the chunk would get. */
  static ChunkEncoder forPlanning(int chunkSizeBytes) {
    return new ChunkEncoder(null, chunkSizeBytes, true);
  }

  /**
   * Compresses into the scratch buffer when compression is on; returns the LZ4 length when it is strictly
   * shorter than the raw chunk, else -1 (store raw).
   */
  int tryCompress(byte[] in, int length) {
    if (compressed == null) {
      return -1;
    }
    int n = LZ4.compress(in, 1, length, compressed, 1, compressed.length - 1);
    return n < length ? n : -1;
  }

  /**
   * Encodes a data chunk into {@code out} (which must hold {@code 4 + 1 + chunkSize + 16} bytes) and
   * writes the 32-byte piece digest at {@code digestOut[0]}. Returns the record length.
   */
  int encodeData(long counter, byte[] in, int length, byte[] out, byte[] digestOut) {
    int lz4Length = tryCompress(in, length);
    byte[] z = compressed;
    int ctLength;
    if (lz4Length >= 0 && z != null) { // tryCompress returns -1 when there is no scratch buffer
      z[0] = ENCODING_LZ4;
      ctLength = cipher().encrypt(counter, false, z, 0, 1 + lz4Length, out, RECORD_LENGTH_FIELD_BYTES);
    } else {
      in[0] = ENCODING_RAW;
      ctLength = cipher().encrypt(counter, false, in, 0, 1 + length, out, RECORD_LENGTH_FIELD_BYTES);
    }
    return finishRecord(ctLength, out, digestOut);
  }

  private ChunkCipher cipher() {
    if (cipher == null) {
      throw new IllegalStateException("a planning encoder does not encrypt");
    }
    return cipher;
  }

  /** Encodes the final (metadata) chunk. */
  int encodeFinal(long counter, byte[] metadata, byte[] out, byte[] digestOut) {
    int ctLength = cipher().encrypt(counter, true, metadata, 0, metadata.length, out, RECORD_LENGTH_FIELD_BYTES);
    return finishRecord(ctLength, out, digestOut);
  }

  private int finishRecord(int ctLength, byte[] out, byte[] digestOut) {
    out[0] = (byte) (ctLength >>> 24);
    out[1] = (byte) (ctLength >>> 16);
    out[2] = (byte) (ctLength >>> 8);
    out[3] = (byte) ctLength;
    int recordLength = RECORD_LENGTH_FIELD_BYTES + ctLength;
    pieceDigest.update(out, 0, recordLength);
    try {
      pieceDigest.digest(digestOut, 0, 32);
    } catch (DigestException e) {
      throw new IllegalStateException(e);
    }
    return recordLength;
  }
}
