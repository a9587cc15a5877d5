package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeException.Reason;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.EnvelopeOpener;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.InnerMetadata;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.SecretAccess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Opens envelopes addressed to one destination key pair. Checks, in order: prelude and header bounds,
 * that the header names this key, the header MAC, then every chunk as it arrives (tag, counter, final
 * flag, framing, LZ4 block), the metadata, the plaintext's length against the metadata, the absence of
 * trailing bytes, and the fingerprint. While writing the plaintext it computes its SHA-256, the file hash
 * the destination records with the delivery ({@link OpenResult#plaintextSha256()}). See {@link
 * EnvelopeOpener} for when plaintext may be trusted. Buffers are allocated only after the header has been
 * checked: one chunk slot (the record, its decrypted chunk and, for LZ4, the decoded chunk).
 *
 * <p>With {@code parallelism > 1}, each chunk's piece digest, decryption and LZ4 decoding run on worker
 * threads (chunks are independent once the header is checked), with at most {@code 2 * parallelism + 1}
 * slots, fewer if the heap is short ({@link MemoryPlan#openingSlots}). The calling thread reads the records
 * and, strictly in order, takes each chunk's verdict, hashes its plaintext and writes it: the plaintext
 * SHA-256 is one sequential hash. It fails exactly where and why a one-thread opener fails — the same typed
 * reason for the first bad chunk, every earlier chunk written, nothing after it — because a failure found
 * while reading record {@code c} is raised only after the chunks before {@code c} were taken in order.
 * Close a parallel opener to stop its threads.
 */
public final class StreamingOpener implements EnvelopeOpener {
  private final DestinationKeyPair keys;
  private final Workers workers;
  /** Opens in flight; {@link #close} stops the threads only when none is (the last one out does it then). */
  private final AtomicInteger opening = new AtomicInteger();
  private volatile boolean closed;

  public StreamingOpener(DestinationKeyPair keys) {
    this(keys, 1);
  }

  /** An opener that verifies chunks on {@code parallelism} worker threads (1 means on the caller's thread). */
  public StreamingOpener(DestinationKeyPair keys, int parallelism) {
    this.keys = Objects.requireNonNull(keys, "keys");
    this.workers = new Workers("open", parallelism);
  }

  public int parallelism() {
    return workers.parallelism;
  }

  /**
   * Stops the worker threads once no open is using them (stopped under an open, its queued chunks would
   * never run); an open begun after this runs on the caller's thread alone. Safe twice, and while other
   * threads open.
   */
  @Override
  public void close() {
    closed = true;
    if (opening.get() == 0) {
      workers.close();
    }
  }

  @Override
  public OpenResult open(ReadableByteChannel envelope, WritableByteChannel plaintextOut) throws IOException {
    return open(envelope, plaintextOut, null);
  }

  @Override
  public OpenResult open(ReadableByteChannel envelope, WritableByteChannel plaintextOut, @Nullable Fingerprint expected)
      throws IOException {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(plaintextOut, "plaintextOut");
    // Counted before closed is read, which close() sets before reading the count: one sees the other.
    opening.incrementAndGet();
    try {
      return open(envelope, plaintextOut, expected, closed ? null : workers.pool);
    } finally {
      if (opening.decrementAndGet() == 0 && closed) {
        workers.close();
      }
    }
  }

  private OpenResult open(ReadableByteChannel envelope, WritableByteChannel plaintextOut,
      @Nullable Fingerprint expected, @Nullable ExecutorService pool) throws IOException {
    byte[] piece0 = HeaderCodec.readPiece0(envelope);
    EnvelopeHeader header = HeaderCodec.decode(piece0);
    byte[] myReceiptKey = keys.card().receiptKey();
    if (!Arrays.equals(header.receiptKey(), myReceiptKey)) {
      throw new EnvelopeException(Reason.NOT_FOR_THIS_KEY, "the header names receipt key "
          + Hex.of(header.receiptKey()) + ", this destination's is " + Hex.of(myReceiptKey));
    }
    byte[] secret = keys.agreementPrivateKey(SecretAccess.explicitly());
    KeySchedule schedule;
    try {
      schedule = KeySchedule.forOpening(secret, keys.card().agreementKey(), header.ephemeralKey(), header.salt());
    } finally {
      Arrays.fill(secret, (byte) 0);
    }
    byte[] macKey = schedule.headerMacKey();
    if (!KeySchedule.macMatches(KeySchedule.headerMac(macKey, piece0, piece0.length - HEADER_MAC_BYTES), piece0)) {
      schedule.destroy();
      throw new EnvelopeException(Reason.HEADER_AUTHENTICATION_FAILED,
          "header MAC does not verify under this destination's key: the header was altered, or the envelope was"
              + " sealed to another agreement key with this receipt key");
    }
    MessageDigest pieceDigest = FingerprintAccumulator.Sha256.newDigest();
    byte[] piece0Digest = pieceDigest.digest(piece0);
    byte[] keyAndPrefix = schedule.payloadKeyAndNoncePrefix(piece0Digest);
    schedule.destroy();
    int slots = pool == null ? 1 : MemoryPlan.openingSlots(header.chunkSizeBytes(), workers.parallelism,
        MemoryPlan.heapBudgetBytes());
    try {
      Chunks chunks = new Chunks(header, piece0Digest, keyAndPrefix, slots == 1 ? null : pool, slots, plaintextOut);
      return chunks.open(envelope, piece0.length, expected);
    } finally {
      Arrays.fill(keyAndPrefix, (byte) 0);
    }
  }

  /**
   * One chunk's buffers and the work done on it off the calling thread: piece digest, decryption, LZ4
   * decoding. A slot is worked on by one thread at a time, so its cipher and digest need no sharing.
   */
  private static final class Slot {
    final byte[] record;
    final byte[] plain;
    private byte @Nullable [] inflated; // only once an LZ4 chunk arrives
    final byte[] digest = new byte[32];
    final MessageDigest pieceDigest = FingerprintAccumulator.Sha256.newDigest();
    final ChunkCipher cipher;
    final int chunk;
    long counter;
    long position;
    int ctLength;
    @Nullable Future<?> pending;
    // The verdict, read by the calling thread after pending completes (Future.get orders the memory).
    byte[] body;
    int bodyOffset;
    int bodyLength;
    /** The chunk failed its tag: reported before the in-order checks (a short chunk before it). */
    @Nullable EnvelopeException tagFailure;
    /** The chunk authenticated but its content is refused: reported after the in-order checks. */
    @Nullable EnvelopeException contentFailure;

    Slot(int chunk, byte[] keyAndPrefix, byte[] piece0Digest) {
      this.chunk = chunk;
      this.record = new byte[RECORD_LENGTH_FIELD_BYTES + maxDataCiphertextBytes(chunk)];
      this.plain = new byte[1 + chunk];
      this.body = plain;
      this.cipher = new ChunkCipher(keyAndPrefix, piece0Digest);
    }

    /** Digests, decrypts and decodes the record in {@link #record}; never throws for bad input. */
    void verify() {
      tagFailure = null;
      contentFailure = null;
      pieceDigest.update(record, 0, RECORD_LENGTH_FIELD_BYTES + ctLength);
      finishDigest(pieceDigest, digest);
      int ptLength = cipher.decrypt(counter, false, record, RECORD_LENGTH_FIELD_BYTES, ctLength, plain, 0);
      if (ptLength < 0) {
        tagFailure = new EnvelopeException(Reason.BAD_CHUNK_TAG, "chunk " + counter + " at offset " + position
            + " does not authenticate (altered, reordered, duplicated, or from another envelope)");
        return;
      }
      int encoding = plain[0] & 0xff;
      if (encoding == ENCODING_RAW) {
        body = plain;
        bodyOffset = 1;
        bodyLength = ptLength - 1;
      } else if (encoding == ENCODING_LZ4) {
        byte[] out = inflated;
        if (out == null) {
          out = new byte[chunk];
          inflated = out;
        }
        try {
          bodyLength = Lz4Block.decode(plain, 1, ptLength - 1, out, chunk);
        } catch (Lz4Block.MalformedBlockException e) {
          contentFailure = new EnvelopeException(Reason.BAD_COMPRESSION,
              "chunk " + counter + " holds an LZ4 block that breaks the format's block rules: " + e.getMessage());
          return;
        }
        body = out;
        bodyOffset = 0;
      } else {
        contentFailure = new EnvelopeException(
            encoding == ENCODING_METADATA ? Reason.BAD_METADATA : Reason.BAD_COMPRESSION,
            "data chunk " + counter + " has encoding " + encoding + ", expected 0 (raw) or 1 (LZ4)");
        return;
      }
      if (bodyLength <= 0) {
        contentFailure = new EnvelopeException(Reason.BAD_RECORD_LENGTH, "data chunk " + counter + " is empty");
      }
    }
  }

  /** The chunks of one envelope: read and framed in order, verified on a slot, taken and written in order. */
  private static final class Chunks {
    private final EnvelopeHeader header;
    private final byte[] piece0Digest;
    private final byte[] keyAndPrefix;
    private final @Nullable ExecutorService pool;
    private final Slot[] slots;
    private final WritableByteChannel plaintextOut;
    private final int chunk;
    private final FingerprintAccumulator fingerprint = new FingerprintAccumulator();
    private final MessageDigest plaintextSha = FingerprintAccumulator.Sha256.newDigest();
    private long nextToTake;
    private long plaintextLength;
    private boolean sawShortChunk;

    Chunks(EnvelopeHeader header, byte[] piece0Digest, byte[] keyAndPrefix, @Nullable ExecutorService pool,
        int slotCount, WritableByteChannel plaintextOut) {
      this.header = header;
      this.piece0Digest = piece0Digest;
      this.keyAndPrefix = keyAndPrefix;
      this.pool = pool;
      this.slots = new Slot[pool == null ? 1 : slotCount];
      this.plaintextOut = plaintextOut;
      this.chunk = header.chunkSizeBytes();
      fingerprint.addPieceDigest(piece0Digest);
    }

    OpenResult open(ReadableByteChannel envelope, long start, @Nullable Fingerprint expected) throws IOException {
      long finalStart = header.envelopeLengthBytes() - FINAL_RECORD_BYTES;
      long position = start;
      long counter = 0;
      try {
        int maxCiphertext = maxDataCiphertextBytes(chunk);
        while (position < finalStart) {
          Slot s = slotFor(counter);
          if (s.pending != null) {
            take(s); // frees the slot; throws the first failure in order
          }
          int ctLength;
          try {
            ctLength = readRecordLength(envelope, s.record, position, counter);
            if (ctLength < MIN_DATA_CIPHERTEXT_BYTES || ctLength > maxCiphertext
                || position + RECORD_LENGTH_FIELD_BYTES + ctLength > finalStart) {
              throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "record " + counter + " at offset " + position
                  + " declares " + ctLength + " bytes; allowed " + MIN_DATA_CIPHERTEXT_BYTES + ".."
                  + Math.min(maxCiphertext, finalStart - position - RECORD_LENGTH_FIELD_BYTES));
            }
            readRecordBody(envelope, s.record, ctLength, position, counter);
            if (counter >= 0xFFFF_FFFFL) {
              throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "more than 2^32 - 1 chunks");
            }
          } catch (IOException e) {
            // A one-thread opener would have taken every earlier chunk before reading this record: take them
            // now, so that an earlier chunk's failure wins and their plaintext is written, as it would be.
            takeAllBefore(counter);
            throw e;
          }
          s.counter = counter;
          s.position = position;
          s.ctLength = ctLength;
          ExecutorService workers = pool;
          if (workers == null) {
            s.verify();
            take(s);
          } else {
            s.pending = workers.submit(s::verify);
          }
          position += RECORD_LENGTH_FIELD_BYTES + ctLength;
          counter++;
        }
        takeAllBefore(counter);
      } catch (IOException | RuntimeException e) {
        cancelPending();
        throw e;
      }
      return finish(envelope, position, counter, expected);
    }

    private Slot slotFor(long counter) {
      int i = (int) (counter % slots.length);
      Slot s = slots[i];
      if (s == null) {
        s = new Slot(chunk, keyAndPrefix, piece0Digest);
        slots[i] = s;
      }
      return s;
    }

    /** Takes every chunk before {@code counter} that is still pending, in order. */
    private void takeAllBefore(long counter) throws IOException {
      for (long c = nextToTake; c < counter; c++) {
        take(slots[(int) (c % slots.length)]);
      }
    }

    /** The in-order step: the chunk's verdict, the short-chunk rule, the plaintext hash and the write. */
    private void take(Slot s) throws IOException {
      Future<?> pending = s.pending;
      if (pending != null) {
        s.pending = null;
        Workers.await(pending, "opening");
      }
      if (s.counter != nextToTake) {
        throw new IllegalStateException("chunk " + s.counter + " taken out of order, expected " + nextToTake);
      }
      nextToTake++;
      fingerprint.addPieceDigest(s.digest);
      if (s.tagFailure != null) {
        throw s.tagFailure;
      }
      if (sawShortChunk) {
        throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "chunk " + s.counter
            + " follows a short chunk; only the last data chunk may be shorter than " + chunk + " bytes");
      }
      if (s.contentFailure != null) {
        throw s.contentFailure;
      }
      if (s.bodyLength < chunk) {
        sawShortChunk = true;
      }
      plaintextSha.update(s.body, s.bodyOffset, s.bodyLength);
      IoUtil.writeFully(plaintextOut, ByteBuffer.wrap(s.body, s.bodyOffset, s.bodyLength));
      plaintextLength += s.bodyLength;
    }

    /** After a failure: chunks still queued are not worth verifying; running ones finish on their own slot. */
    private void cancelPending() {
      for (Slot s : slots) {
        if (s != null && s.pending != null) {
          s.pending.cancel(false);
          s.pending = null;
        }
      }
    }

    private OpenResult finish(ReadableByteChannel envelope, long position, long counter, @Nullable Fingerprint expected)
        throws IOException {
      byte[] record = new byte[FINAL_RECORD_BYTES];
      byte[] plain = new byte[FINAL_RECORD_CIPHERTEXT_BYTES];
      byte[] digest = new byte[32];
      int finalLength = readRecordLength(envelope, record, position, counter);
      if (finalLength != FINAL_RECORD_CIPHERTEXT_BYTES) {
        throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "final record at offset " + position + " declares "
            + finalLength + " bytes, expected " + FINAL_RECORD_CIPHERTEXT_BYTES);
      }
      readRecordBody(envelope, record, finalLength, position, counter);
      MessageDigest pieceDigest = FingerprintAccumulator.Sha256.newDigest();
      pieceDigest.update(record, 0, FINAL_RECORD_BYTES);
      finishDigest(pieceDigest, digest);
      fingerprint.addPieceDigest(digest);
      ChunkCipher cipher = new ChunkCipher(keyAndPrefix, piece0Digest);
      int metaLength = cipher.decrypt(counter, true, record, RECORD_LENGTH_FIELD_BYTES, finalLength, plain, 0);
      if (metaLength < 0) {
        boolean dataChunk = cipher.decrypt(counter, false, record, RECORD_LENGTH_FIELD_BYTES, finalLength, plain, 0) >= 0;
        throw new EnvelopeException(dataChunk ? Reason.MISSING_FINAL_CHUNK : Reason.BAD_CHUNK_TAG,
            "final chunk " + counter + " at offset " + position
                + (dataChunk ? " is a data chunk: the envelope was cut short" : " does not authenticate"));
      }
      if (envelope.read(ByteBuffer.wrap(digest, 0, 1)) > 0) {
        throw new EnvelopeException(Reason.TRAILING_DATA,
            "bytes follow the final chunk at offset " + header.envelopeLengthBytes());
      }
      InnerMetadata metadata = MetadataCodec.decode(plain, metaLength);
      if (metadata.plaintextLengthBytes() != plaintextLength) {
        throw new EnvelopeException(Reason.PLAINTEXT_MISMATCH, "metadata says " + metadata.plaintextLengthBytes()
            + " plaintext bytes, the chunks held " + plaintextLength);
      }
      Fingerprint actual = fingerprint.finish();
      if (expected != null && !expected.equals(actual)) {
        throw new EnvelopeException(Reason.FINGERPRINT_MISMATCH,
            "fingerprint is " + actual + ", expected " + expected);
      }
      return new OpenResult(actual, header, metadata, plaintextSha.digest());
    }
  }

  /** Finishes a piece digest into a reused buffer: no allocation per chunk. */
  private static void finishDigest(MessageDigest md, byte[] out) {
    try {
      md.digest(out, 0, 32);
    } catch (java.security.DigestException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int readRecordLength(ReadableByteChannel in, byte[] record, long position, long counter)
      throws IOException {
    ByteBuffer b = ByteBuffer.wrap(record, 0, RECORD_LENGTH_FIELD_BYTES);
    int got = IoUtil.readFully(in, b);
    if (got == 0) {
      throw new EnvelopeException(Reason.MISSING_FINAL_CHUNK, "stream ended at offset " + position
          + (counter == 0 ? " after the header" : " after chunk " + (counter - 1)) + ", before the final chunk");
    }
    if (got < RECORD_LENGTH_FIELD_BYTES) {
      throw new EnvelopeException(Reason.TRUNCATED, "stream ended at offset " + (position + got)
          + ", inside the length field of record " + counter);
    }
    return ((record[0] & 0xff) << 24) | ((record[1] & 0xff) << 16) | ((record[2] & 0xff) << 8) | (record[3] & 0xff);
  }

  private static void readRecordBody(ReadableByteChannel in, byte[] record, int length, long position,
      long counter) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(record, RECORD_LENGTH_FIELD_BYTES, length);
    int got = IoUtil.readFully(in, b);
    if (got < length) {
      throw new EnvelopeException(Reason.TRUNCATED, "stream ended at offset "
          + (position + RECORD_LENGTH_FIELD_BYTES + got) + ", inside record " + counter + " (" + length + " bytes)");
    }
  }
}
