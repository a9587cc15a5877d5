package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeException.Reason;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.SealingChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Seals a plaintext of unknown length: the header, written first, carries the envelope's exact length,
 * which with compression depends on every chunk. So each chunk is planned as it arrives (compressed once
 * into a scratch buffer to learn its record size, as the file sealer's planning pass does) and spooled to
 * a file, AES-GCM-encrypted under a random key that lives only in this object (what a crash leaves behind
 * is unreadable); {@link #finish()} then seals the spool with the exact length, through the ordinary
 * sealing pipeline (which compresses again: LZ4 is deterministic, and the sealer checks that it wrote
 * exactly the planned length). Memory: one chunk buffer and one LZ4 scratch, then what the sealer plans.
 */
final class SpoolingSealChannel implements SealingChannel {
  private static final byte[] SPOOL_AAD = "crowdbackup spool".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private final StreamingSealer sealer;
  private final SealRequest request;
  private final WritableByteChannel out;
  private final boolean compress;
  private final int chunk;
  private final Path spool;
  private final FileChannel file;
  private final ChunkCipher spoolCipher;
  private @Nullable ChunkEncoder planner; // null without compression, and once spooling is done
  private final byte[] buf;
  private int filled;
  private long chunks;
  private long plaintext;
  /** Bytes of data records the planned envelope has so far. */
  private long recordBytes;
  private boolean open = true;

  SpoolingSealChannel(StreamingSealer sealer, SealRequest request, Path spoolDirectory, WritableByteChannel out)
      throws IOException {
    Objects.requireNonNull(spoolDirectory, "spoolDirectory");
    this.sealer = sealer;
    this.request = request;
    this.out = out;
    this.compress = StreamingSealer.shouldCompress(request.compression(), request.mediaType());
    this.chunk = request.chunkSizeBytes();
    this.buf = ChunkEncoder.newChunkBuffer(chunk);
    this.planner = compress ? ChunkEncoder.forPlanning(chunk) : null;
    byte[] key = new byte[32 + NONCE_PREFIX_BYTES];
    new SecureRandom().nextBytes(key);
    this.spoolCipher = new ChunkCipher(key, SPOOL_AAD);
    Arrays.fill(key, (byte) 0);
    this.spool = Files.createTempFile(spoolDirectory, ".crowdbackup-spool-", ".tmp");
    try {
      this.file = FileChannel.open(spool, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(spool);
      throw e;
    }
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    ensureOpen();
    int total = src.remaining();
    if (plaintext + total > MAX_ENVELOPE_BYTES) {
      throw new EnvelopeException(Reason.PLAINTEXT_LENGTH_MISMATCH, "plaintext passes the format's "
          + MAX_ENVELOPE_BYTES + " bytes");
    }
    while (src.hasRemaining()) {
      int n = Math.min(src.remaining(), chunk - filled);
      src.get(buf, ChunkEncoder.DATA_OFFSET + filled, n);
      filled += n;
      plaintext += n;
      if (filled == chunk) {
        spoolChunk();
      }
    }
    return total;
  }

  private void spoolChunk() throws IOException {
    if (chunks >= 0xFFFF_FFFFL) {
      throw new EnvelopeException(Reason.PLAINTEXT_LENGTH_MISMATCH, "more than 2^32 - 1 chunks");
    }
    int lz4 = planner == null ? -1 : planner.tryCompress(buf, filled);
    recordBytes += RECORD_LENGTH_FIELD_BYTES + 1 + (lz4 >= 0 ? lz4 : filled) + TAG_BYTES;
    int ct = spoolCipher.encrypt(chunks, false, buf, ChunkEncoder.DATA_OFFSET, filled, buf, ChunkEncoder.DATA_OFFSET);
    IoUtil.writeFully(file, ByteBuffer.wrap(buf, ChunkEncoder.DATA_OFFSET, ct));
    chunks++;
    filled = 0;
  }

  @Override
  public SealResult finish() throws IOException {
    ensureOpen();
    try {
      if (filled > 0) {
        spoolChunk();
      }
      open = false;
      planner = null; // its scratch is not needed by the sealing pass
      long envelopeLength = HeaderCodec.piece0Length(request.destination().locator()) + recordBytes
          + FINAL_RECORD_BYTES;
      long lastChunk = plaintext - (chunks - 1) * chunk;
      return sealer.sealLayers(request, plaintext, envelopeLength, compress, out, sink -> {
        file.position(0);
        for (long i = 0; i < chunks; i++) {
          int n = (int) (i == chunks - 1 ? lastChunk : chunk);
          ByteBuffer b = ByteBuffer.wrap(buf, ChunkEncoder.DATA_OFFSET, n + TAG_BYTES);
          if (IoUtil.readFully(file, b) != n + TAG_BYTES
              || spoolCipher.decrypt(i, false, buf, ChunkEncoder.DATA_OFFSET, n + TAG_BYTES, buf,
                  ChunkEncoder.DATA_OFFSET) != n) {
            throw new IOException("spool " + spool + " changed on disk while sealing (chunk " + i + ")");
          }
          sink.write(ByteBuffer.wrap(buf, ChunkEncoder.DATA_OFFSET, n));
        }
      });
    } finally {
      close();
    }
  }

  @Override
  public long plaintextBytesWritten() {
    return plaintext;
  }

  private void ensureOpen() throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  /** Abandons an unfinished seal (nothing written) and deletes the spool; idempotent. */
  @Override
  public void close() throws IOException {
    open = false;
    try {
      file.close();
    } finally {
      Files.deleteIfExists(spool);
    }
  }
}
