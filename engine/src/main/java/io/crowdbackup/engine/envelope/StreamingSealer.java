package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.ContentKind;
import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeException.Reason;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.InnerMetadata;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.bouncycastle.math.ec.rfc7748.X25519;
import org.jspecify.annotations.Nullable;

/**
 * The envelope sealer. One pass over the plaintext: each chunk is read once, optionally compressed,
 * encrypted, framed and hashed for the fingerprint — the only hash of each byte (format v2 has no
 * plaintext hash). Memory is a fixed number of chunk slots ({@code 2 * parallelism + 1} when parallel, one
 * otherwise), whatever the plaintext size — and never more than the heap allows: before it allocates, the
 * sealer sizes its slots to half the heap the JVM can still give ({@link MemoryPlan}), running fewer chunks
 * at once if it must, and refuses up front with {@link Reason#NOT_ENOUGH_MEMORY} (saying which chunk size
 * would fit) when not even one slot per layer fits.
 *
 * <p>With {@code parallelism > 1}, chunks are encrypted and piece-hashed on worker threads (chunks are
 * independent once the header is fixed) while the calling thread reads and writes records in order.
 * Close a parallel sealer to stop its threads.
 */
public final class StreamingSealer implements EnvelopeSealer, AutoCloseable {
  /** Where the ephemeral key and salt come from. Production: {@link SecureRandom}. */
  interface Entropy {
    void nextBytes(byte[] bytes);
  }

  private static final String RELAYED_MEDIA_TYPE = "application/vnd.crowdbackup.envelope";

  private final Entropy entropy;
  private final Workers workers;

  /** A single-threaded sealer drawing randomness from a fresh {@link SecureRandom}. */
  public StreamingSealer() {
    this(1);
  }

  /** A sealer that encrypts on {@code parallelism} worker threads (1 means on the caller's thread). */
  public StreamingSealer(int parallelism) {
    this(new SecureRandom()::nextBytes, parallelism);
  }

  /** Tests only: deterministic randomness for test vectors. */
  StreamingSealer(Entropy entropy, int parallelism) {
    this.entropy = Objects.requireNonNull(entropy, "entropy");
    this.workers = new Workers("seal", parallelism);
  }

  public int parallelism() {
    return workers.parallelism;
  }

  @Override
  public void close() {
    workers.close();
  }

  @Override
  public SealResult seal(SealRequest request, ReadableByteChannel plaintext, long plaintextLengthBytes,
      WritableByteChannel envelopeOut) throws IOException {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(plaintext, "plaintext");
    Objects.requireNonNull(envelopeOut, "envelopeOut");
    checkPlaintextLength(plaintextLengthBytes);
    int chunk = request.chunkSizeBytes();
    long envelopeLength = uncompressedEnvelopeLength(
        HeaderCodec.piece0Length(request.destination().locator()), chunk, plaintextLengthBytes);
    return sealLayers(request, plaintextLengthBytes, envelopeLength, false, envelopeOut,
        sink -> sink.transferFrom(plaintext, plaintextLengthBytes));
  }

  @Override
  public SealResult seal(SealRequest request, Path plaintextFile, WritableByteChannel envelopeOut)
      throws IOException {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(envelopeOut, "envelopeOut");
    try (FileChannel file = FileChannel.open(plaintextFile, StandardOpenOption.READ)) {
      long length = file.size();
      checkPlaintextLength(length);
      boolean compress = shouldCompress(request.compression(), request.mediaType());
      int piece0 = HeaderCodec.piece0Length(request.destination().locator());
      long envelopeLength = compress
          ? planCompressed(file, request.chunkSizeBytes(), length, piece0)
          : uncompressedEnvelopeLength(piece0, request.chunkSizeBytes(), length);
      file.position(0);
      return sealLayers(request, length, envelopeLength, compress, envelopeOut,
          sink -> sink.transferFrom(file, length));
    }
  }

  /** A first bound; the exact one is on the envelope length, checked before any byte is written. */
  private static void checkPlaintextLength(long length) {
    if (length < 0 || length > MAX_ENVELOPE_BYTES) {
      throw new IllegalArgumentException("plaintext length must be 0.." + MAX_ENVELOPE_BYTES
          + " bytes, was " + length);
    }
  }

  /** Whether {@code AUTO} would try LZ4 for this media type: not for formats that are already compressed. */
  static boolean shouldCompress(Compression compression, String mediaType) {
    switch (compression) {
      case OFF:
        return false;
      case ON:
        return true;
      default:
        String t = mediaType.toLowerCase(Locale.ROOT);
        return !(t.startsWith("video/") || t.startsWith("audio/")
            || t.equals("image/jpeg") || t.equals("image/heic") || t.equals("image/heif")
            || t.equals("image/png") || t.equals("image/webp") || t.equals("image/avif") || t.equals("image/gif")
            || t.equals("application/zip") || t.equals("application/gzip") || t.equals("application/x-7z-compressed")
            || t.equals("application/zstd") || t.equals(RELAYED_MEDIA_TYPE));
    }
  }

  /** The planning pass: compresses every chunk once to learn the envelope's exact length. */
  private static long planCompressed(FileChannel file, int chunk, long length, int piece0) throws IOException {
    ChunkEncoder planner = ChunkEncoder.forPlanning(chunk);
    byte[] in = ChunkEncoder.newChunkBuffer(chunk);
    long total = (long) piece0 + FINAL_RECORD_BYTES;
    long remaining = length;
    file.position(0);
    while (remaining > 0) {
      int n = (int) Math.min(chunk, remaining);
      ByteBuffer b = ByteBuffer.wrap(in, ChunkEncoder.DATA_OFFSET, n);
      if (IoUtil.readFully(file, b) != n) {
        throw new EnvelopeException(Reason.PLAINTEXT_LENGTH_MISMATCH, "file shrank while being planned");
      }
      int lz4 = planner.tryCompress(in, n);
      total += RECORD_LENGTH_FIELD_BYTES + 1 + (lz4 >= 0 ? lz4 : n) + TAG_BYTES;
      remaining -= n;
    }
    return total;
  }

  /** What fills a {@link LayerSealer} with plaintext. */
  interface PlaintextFeed {
    void feed(LayerSealer sink) throws IOException;
  }

  @Override
  public io.crowdbackup.api.SealingChannel openSealingChannel(SealRequest request, Path spoolDirectory,
      WritableByteChannel envelopeOut) throws IOException {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(envelopeOut, "envelopeOut");
    return new SpoolingSealChannel(this, request, spoolDirectory, envelopeOut);
  }

  @Override
  public SealResult sealStream(SealRequest request, ReadableByteChannel plaintext, Path spoolDirectory,
      WritableByteChannel envelopeOut) throws IOException {
    Objects.requireNonNull(plaintext, "plaintext");
    try (io.crowdbackup.api.SealingChannel ch = openSealingChannel(request, spoolDirectory, envelopeOut)) {
      ByteBuffer b = ByteBuffer.allocate(64 * 1024);
      while (plaintext.read(b) >= 0) {
        ((java.nio.Buffer) b).flip();
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ((java.nio.Buffer) b).clear();
      }
      return ch.finish();
    }
  }

  SealResult sealLayers(SealRequest request, long plaintextLength, long envelopeLength, boolean compress,
      WritableByteChannel out, PlaintextFeed feed) throws IOException {
    int chunk = request.chunkSizeBytes();
    long chunks = dataChunkCount(chunk, plaintextLength);
    DestinationCard relay = request.relay();
    boolean relayed = relay != null;
    MemoryPlan plan;
    try {
      plan = MemoryPlan.of(chunk, workers.parallelism, chunks, compress, relayed, MemoryPlan.heapBudgetBytes());
    } catch (EnvelopeException tooSmall) {
      // "In use" counts garbage too (a previous seal's buffers, say): collect once before refusing.
      System.gc();
      plan = MemoryPlan.of(chunk, workers.parallelism, chunks, compress, relayed, MemoryPlan.heapBudgetBytes());
    }
    if (relay == null) {
      LayerSealer direct = open(request, request.destination(), request.name(), request.mediaType(),
          ContentKind.FILE, plaintextLength, envelopeLength, compress, out, plan.slotsPerLayer);
      feed.feed(direct);
      return direct.finish();
    }
    // Relay: the inner envelope, addressed to the destination, is the outer envelope's plaintext. Both are
    // sealed in the same pass; the outer is never compressed (its plaintext is ciphertext).
    long outerLength = uncompressedEnvelopeLength(
        HeaderCodec.piece0Length(relay.locator()), request.chunkSizeBytes(), envelopeLength);
    LayerSealer outer = open(request, relay, "", RELAYED_MEDIA_TYPE, ContentKind.RELAYED_ENVELOPE,
        envelopeLength, outerLength, false, out, plan.slotsPerLayer);
    LayerSealer inner = open(request, request.destination(), request.name(), request.mediaType(),
        ContentKind.FILE, plaintextLength, envelopeLength, compress, outer, plan.slotsPerLayer);
    feed.feed(inner);
    inner.finish();
    return outer.finish();
  }

  private LayerSealer open(SealRequest request, DestinationCard to, String name, String mediaType,
      ContentKind kind, long plaintextLength, long envelopeLength, boolean compress, WritableByteChannel out,
      int slots) throws IOException {
    if (envelopeLength > MAX_ENVELOPE_BYTES) {
      throw new IllegalArgumentException("envelope would be " + envelopeLength + " bytes, more than the format's "
          + MAX_ENVELOPE_BYTES);
    }
    byte[] ephemeralSecret = new byte[32];
    byte[] salt = new byte[32];
    entropy.nextBytes(ephemeralSecret);
    entropy.nextBytes(salt);
    byte[] ephemeralPublic = new byte[32];
    X25519.generatePublicKey(ephemeralSecret, 0, ephemeralPublic, 0);
    KeySchedule keys = KeySchedule.forSealing(ephemeralSecret, ephemeralPublic, to.agreementKey(), salt);
    Arrays.fill(ephemeralSecret, (byte) 0);

    byte[] withoutMac = HeaderCodec.encodeWithoutMac(request.chunkSizeBytes(), envelopeLength,
        request.expiresAtEpochSecond(), ephemeralPublic, salt, to.receiptKey(), request.releaseKey(), to.locator());
    byte[] mac = KeySchedule.headerMac(keys.headerMacKey(), withoutMac, withoutMac.length);
    byte[] piece0 = Arrays.copyOf(withoutMac, withoutMac.length + HEADER_MAC_BYTES);
    System.arraycopy(mac, 0, piece0, withoutMac.length, HEADER_MAC_BYTES);
    byte[] piece0Digest = FingerprintAccumulator.Sha256.newDigest().digest(piece0);
    byte[] keyAndPrefix = keys.payloadKeyAndNoncePrefix(piece0Digest);
    keys.destroy();

    EnvelopeHeader header = HeaderCodec.decode(piece0);
    Meta meta = new Meta(name, mediaType, kind, request.createdAtEpochMillis());
    LayerSealer ch = new LayerSealer(header, piece0Digest, keyAndPrefix, meta, plaintextLength, compress,
        out, slots, workers.pool);
    Arrays.fill(keyAndPrefix, (byte) 0);
    ch.start(piece0);
    return ch;
  }

  /** The metadata fields fixed before sealing; the length is filled in at the end. */
  private static final class Meta {
    final String name;
    final String mediaType;
    final ContentKind kind;
    final long createdAtEpochMillis;

    Meta(String name, String mediaType, ContentKind kind, long createdAtEpochMillis) {
      this.name = name;
      this.mediaType = mediaType;
      this.kind = kind;
      this.createdAtEpochMillis = createdAtEpochMillis;
    }
  }

  /**
   * One chunk buffer, its encoder and its encoded record; reused round-robin. A slot is worked on by one
   * thread at a time, so its encoder (cipher, digest, LZ4 scratch) needs no sharing: memory is counted per
   * slot, whichever pool thread runs it.
   */
  private static final class Slot {
    /** The chunk's plaintext at {@link ChunkEncoder#DATA_OFFSET}, then its record from 0. */
    final byte[] buf;
    final byte[] digest = new byte[32];
    final ChunkEncoder encoder;
    int length;
    long counter;
    int recordLength;
    @Nullable Future<?> pending;

    Slot(int chunk, ChunkEncoder encoder) {
      buf = ChunkEncoder.newChunkBuffer(chunk);
      this.encoder = encoder;
    }
  }

  /**
   * Push side of one envelope: plaintext written in, records written out. Writing more plaintext than
   * declared, or finishing with less, fails with {@link Reason#PLAINTEXT_LENGTH_MISMATCH}.
   */
  static final class LayerSealer implements WritableByteChannel {
    private final EnvelopeHeader header;
    private final byte[] piece0Digest;
    private final Meta meta;
    private final long declaredPlaintext;
    private final WritableByteChannel out;
    private final int chunk;
    private final @Nullable ExecutorService pool;
    private final Slot[] slots;
    private final byte[] secret;
    private final boolean compress;
    /** Encodes the final chunk: no LZ4 scratch. */
    private final ChunkEncoder finalEncoder;
    private final FingerprintAccumulator fingerprint = new FingerprintAccumulator();
    private long plaintextSeen;
    private long written;
    private long nextCounter;
    private long nextToEmit;
    private Slot filling;
    private boolean open = true;

    LayerSealer(EnvelopeHeader header, byte[] piece0Digest, byte[] keyAndPrefix, Meta meta,
        long declaredPlaintext, boolean compress, WritableByteChannel out, int slotCount,
        @Nullable ExecutorService pool) {
      this.header = header;
      this.piece0Digest = piece0Digest;
      this.meta = meta;
      this.declaredPlaintext = declaredPlaintext;
      this.out = out;
      this.chunk = header.chunkSizeBytes();
      this.pool = pool;
      this.secret = keyAndPrefix.clone();
      this.compress = compress;
      this.finalEncoder = new ChunkEncoder(new ChunkCipher(secret, piece0Digest), chunk, false);
      // MemoryPlan chose how many fit: 2 * parallelism + 1 keeps every worker busy while the caller fills one.
      this.slots = new Slot[pool == null ? 1 : slotCount];
      this.filling = slotFor(0);
    }

    private Slot slotFor(long counter) {
      int i = (int) (counter % slots.length);
      if (slots[i] == null) {
        slots[i] = new Slot(chunk, new ChunkEncoder(new ChunkCipher(secret, piece0Digest), chunk, compress));
      }
      return slots[i];
    }

    void start(byte[] piece0) throws IOException {
      fingerprint.addPieceDigest(piece0Digest);
      emitBytes(piece0, piece0.length);
    }

    private void emitBytes(byte[] b, int length) throws IOException {
      IoUtil.writeFully(out, ByteBuffer.wrap(b, 0, length));
      written += length;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      ensureOpen();
      int total = src.remaining();
      if (plaintextSeen + total > declaredPlaintext) {
        throw new EnvelopeException(Reason.PLAINTEXT_LENGTH_MISMATCH, "plaintext has more than the declared "
            + declaredPlaintext + " bytes");
      }
      while (src.hasRemaining()) {
        int n = Math.min(src.remaining(), chunk - filling.length);
        src.get(filling.buf, ChunkEncoder.DATA_OFFSET + filling.length, n);
        filling.length += n;
        plaintextSeen += n;
        if (filling.length == chunk) {
          dispatch();
        }
      }
      return total;
    }

    /** Reads exactly {@code length} bytes from {@code in} straight into chunk buffers. */
    void transferFrom(ReadableByteChannel in, long length) throws IOException {
      long remaining = length;
      while (remaining > 0) {
        int n = (int) Math.min(remaining, chunk - filling.length);
        ByteBuffer b = ByteBuffer.wrap(filling.buf, ChunkEncoder.DATA_OFFSET + filling.length, n);
        int got = IoUtil.readFully(in, b);
        filling.length += got;
        plaintextSeen += got;
        remaining -= got;
        if (got < n) {
          throw new EnvelopeException(Reason.PLAINTEXT_LENGTH_MISMATCH, "plaintext ended after "
              + plaintextSeen + " bytes, " + declaredPlaintext + " were declared");
        }
        if (filling.length == chunk) {
          dispatch();
        }
      }
      if (in.read(ByteBuffer.allocate(1)) > 0) {
        throw new EnvelopeException(Reason.PLAINTEXT_LENGTH_MISMATCH, "plaintext has more than the declared "
            + declaredPlaintext + " bytes");
      }
    }

    private void dispatch() throws IOException {
      Slot s = filling;
      s.counter = nextCounter++;
      if (s.counter > 0xFFFF_FFFEL) {
        throw new IllegalStateException("chunk counter exhausted");
      }
      ExecutorService workers = pool;
      if (workers == null) {
        s.recordLength = s.encoder.encodeData(s.counter, s.buf, s.length, s.digest);
        emit(s);
      } else {
        s.pending = workers.submit(() -> {
          s.recordLength = s.encoder.encodeData(s.counter, s.buf, s.length, s.digest);
        });
      }
      filling = slotFor(nextCounter);
      if (filling.pending != null) {
        emit(filling);
      }
      filling.length = 0;
    }

    private void emit(Slot s) throws IOException {
      Future<?> pending = s.pending;
      if (pending != null) {
        s.pending = null;
        Workers.await(pending, "sealing");
      }
      if (s.counter != nextToEmit) {
        throw new IllegalStateException("chunk " + s.counter + " emitted out of order, expected " + nextToEmit);
      }
      nextToEmit++;
      fingerprint.addPieceDigest(s.digest);
      emitBytes(s.buf, s.recordLength);
    }

    SealResult finish() throws IOException {
      ensureOpen();
      open = false;
      if (plaintextSeen != declaredPlaintext) {
        throw new EnvelopeException(Reason.PLAINTEXT_LENGTH_MISMATCH, "plaintext ended after " + plaintextSeen
            + " bytes, " + declaredPlaintext + " were declared");
      }
      if (filling.length > 0) {
        dispatch();
      }
      for (long c = nextToEmit; c < nextCounter; c++) {
        emit(slots[(int) (c % slots.length)]);
      }
      InnerMetadata m = new InnerMetadata(meta.name, meta.mediaType, plaintextSeen, meta.createdAtEpochMillis,
          meta.kind);
      byte[] metadata = MetadataCodec.encode(m);
      Slot s = filling;
      byte[] finalOut = s.buf.length >= FINAL_RECORD_BYTES ? s.buf : new byte[FINAL_RECORD_BYTES];
      int length = finalEncoder.encodeFinal(nextCounter, metadata, finalOut, s.digest);
      Arrays.fill(secret, (byte) 0);
      fingerprint.addPieceDigest(s.digest);
      emitBytes(finalOut, length);
      if (written != header.envelopeLengthBytes()) {
        throw new EnvelopeException(Reason.PLAINTEXT_LENGTH_MISMATCH, "wrote " + written
            + " envelope bytes, the header declared " + header.envelopeLengthBytes()
            + " (did the file change while it was sealed?)");
      }
      return new SealResult(fingerprint.finish(), written, header);
    }

    private void ensureOpen() throws IOException {
      if (!open) {
        throw new java.nio.channels.ClosedChannelException();
      }
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void close() {
      open = false;
    }
  }
}
