package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import java.security.DigestException;
import java.security.MessageDigest;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.jspecify.annotations.Nullable;

/**
 * Turns one plaintext data chunk into one record ({@code u32 length || AES-GCM(encoding || body)}) and
 * that record's piece digest. Not thread-safe: each sealing slot has its own.
 *
 * <p>One buffer per chunk: the chunk's plaintext sits at {@code buf[DATA_OFFSET ..)}, behind room for the
 * record's length field and encoding byte, and a raw chunk is encrypted in place (the JDK's AES-GCM
 * encrypts in place without a copy), so the record ends up in the same buffer. Compression needs a second
 * buffer, the LZ4 scratch, from which the compressed chunk is encrypted into {@code buf}.
 */
final class ChunkEncoder {
  /** Where a chunk's plaintext starts in its buffer: after the record length field and the encoding byte. */
  static final int DATA_OFFSET = RECORD_LENGTH_FIELD_BYTES + 1;

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

  /** The buffer a chunk of this size is sealed in: length field, encoding byte, chunk, tag. */
  static byte[] newChunkBuffer(int chunkSizeBytes) {
    return new byte[DATA_OFFSET + chunkSizeBytes + TAG_BYTES];
  }

  /** Bytes of the LZ4 scratch buffer a compressing encoder holds. */
  static long scratchBytes(int chunkSizeBytes) {
    return 1L + LZ4.maxCompressedLength(chunkSizeBytes);
  }

  /** Planning without a cipher: the encoded body length the chunk would get. */
  static ChunkEncoder forPlanning(int chunkSizeBytes) {
    return new ChunkEncoder(null, chunkSizeBytes, true);
  }

  /**
   * Bytes at the start of a chunk that LZ4 tries first: when not even they compress, the chunk is stored raw
   * without compressing the rest. The smallest chunk size, so chunks of that size are decided as before.
   */
  static final int PROBE_BYTES = 1 << MIN_CHUNK_SIZE_LOG2;

  /**
   * Compresses {@code buf[DATA_OFFSET .. + length)} into the scratch buffer when compression is on; returns
   * the LZ4 length when it is strictly shorter than the raw chunk, else -1 (store raw). A longer chunk whose
   * first {@link #PROBE_BYTES} do not compress at all is stored raw at once: on already-compressed or
   * encrypted data this saves most of the compressor's time, twice (planning and sealing decide alike, as
   * both call this). The cost: a chunk that starts incompressible and turns compressible stays raw.
   */
  int tryCompress(byte[] buf, int length) {
    if (compressed == null) {
      return -1;
    }
    if (length > PROBE_BYTES
        && LZ4.compress(buf, DATA_OFFSET, PROBE_BYTES, compressed, 1, compressed.length - 1) >= PROBE_BYTES) {
      return -1;
    }
    int n = LZ4.compress(buf, DATA_OFFSET, length, compressed, 1, compressed.length - 1);
    return n < length ? n : -1;
  }

  /**
   * Encodes the data chunk at {@code buf[DATA_OFFSET .. + length)} into the record at {@code buf[0 ..)}
   * (the buffer from {@link #newChunkBuffer}) and writes the 32-byte piece digest at {@code digestOut[0]}.
   * Returns the record length.
   */
  int encodeData(long counter, byte[] buf, int length, byte[] digestOut) {
    int lz4Length = tryCompress(buf, length);
    byte[] z = compressed;
    int ctLength;
    if (lz4Length >= 0 && z != null) { // tryCompress returns -1 when there is no scratch buffer
      z[0] = ENCODING_LZ4;
      ctLength = cipher().encrypt(counter, false, z, 0, 1 + lz4Length, buf, RECORD_LENGTH_FIELD_BYTES);
    } else {
      buf[RECORD_LENGTH_FIELD_BYTES] = ENCODING_RAW;
      ctLength = cipher().encrypt(counter, false, buf, RECORD_LENGTH_FIELD_BYTES, 1 + length, buf,
          RECORD_LENGTH_FIELD_BYTES);
    }
    return finishRecord(ctLength, buf, digestOut);
  }

  private ChunkCipher cipher() {
    if (cipher == null) {
      throw new IllegalStateException("a planning encoder does not encrypt");
    }
    return cipher;
  }

  /** Encodes the final (metadata) chunk into {@code out} (at least 532 bytes). */
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
