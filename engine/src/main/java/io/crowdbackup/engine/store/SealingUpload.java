package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreFormat.*;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreException.Reason;
import io.crowdbackup.engine.envelope.EnvelopeScanner;
import io.crowdbackup.engine.policy.RetentionPolicy;
import io.crowdbackup.engine.store.FileCustodyStore.PartialUpload;
import io.crowdbackup.engine.store.StoreFormat.RecordHeader;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Objects;
import java.util.zip.CRC32;
import org.jspecify.annotations.Nullable;

/**
 * One of this device's own envelopes written into the store as it is sealed, before its fingerprint is
 * known ({@link FileCustodyStore#beginOwnSeal}): a sealer writes the envelope here, so the bytes reach the
 * flash once, straight into the file that becomes the blob. Each byte is checked (framing) and hashed
 * into its piece digest on the way, before it is written; {@link #commit} then writes the record header
 * (now that the fingerprint is known) and the footer, fsyncs once, and files the blob under the
 * fingerprint its bytes hash to, which must be the one the sealer reports.
 *
 * <p>The data file ({@code partial/seal-<random>.part}) leaves the record header's place empty until the
 * commit and has no journal, so a crash before the commit leaves a file that the next open removes, and
 * never a blob. {@link #abort()}, or {@link #close()} before {@link #commit}, removes it at once. Not
 * thread-safe: one sealer writes.
 */
public final class SealingUpload implements WritableByteChannel {
  static final String FILE_PREFIX = "seal-";
  /** The record header of an own blob: no source peer ({@link RecordHeader}). */
  static final int OWN_RECORD_HEADER_BYTES = 8 + 2 + 2 + 32 + 8 * 4 + 1 + 1 + 4;
  /** Piece-table entries kept in memory before they move to their place in the footer. */
  private static final int MAX_PENDING_PIECES = 4096;
  /** Bytes fed to the scanner at once. */
  private static final int SLICE_BYTES = 16 * 1024;

  private final FileCustodyStore store;
  private final Path dataPath;
  private final FileChannel data;
  private final long startedAtMillis;
  private final EnvelopeScanner scanner;
  /** Piece-table entries (digest, u32 length) not yet written to the footer's place. */
  private final ByteBuffer pending = ByteBuffer.allocate(MAX_PENDING_PIECES * FOOTER_PIECE_BYTES);
  private long writtenPieces;
  private long offset;
  /** The envelope length its header declares, -1 until the header has arrived. */
  private long declared = -1;
  private @Nullable PartialUpload registered;
  private boolean ended;
  /** Offset up to which a flush behind was last started, and that flush while it may still run. */
  private long flushedBehindTo;
  private java.util.concurrent.@Nullable Future<Void> flushingBehind;

  private SealingUpload(FileCustodyStore store, Path dataPath, FileChannel data, long startedAtMillis) {
    this.store = store;
    this.dataPath = dataPath;
    this.data = data;
    this.startedAtMillis = startedAtMillis;
    this.scanner = new EnvelopeScanner((index, pieceOffset, length, digest) ->
        pending.put(digest, 0, 32).putInt(length));
  }

  static SealingUpload create(FileCustodyStore store, Path dataPath, long startedAtMillis) throws IOException {
    FileChannel data = store.opener.open(dataPath,
        EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ));
    return new SealingUpload(store, dataPath, data, startedAtMillis);
  }

  /** Envelope bytes taken so far. */
  public long offset() {
    return offset;
  }

  /**
   * Checks and writes all of {@code src}.
   *
   * @throws StoreException MALFORMED or LENGTH_MISMATCH if the bytes are not an envelope, EXPIRED if its
   *     header's expiry has passed, DISK_FULL or another I/O reason if writing failed; abort then
   */
  @Override
  public int write(ByteBuffer src) throws IOException {
    if (ended) {
      throw new ClosedChannelException();
    }
    store.ensureOpen();
    int n = src.remaining();
    ByteBuffer forFile = src.duplicate();
    try {
      while (src.hasRemaining()) {
        // A slice completes at most SLICE_BYTES / 20 + 1 pieces (the smallest record is 21 bytes): room
        // for them is made first, so the scanner's listener never finds the pending table full.
        if (pending.remaining() < (SLICE_BYTES / 20 + 2) * FOOTER_PIECE_BYTES) {
          writePendingPieces();
        }
        ByteBuffer slice = src.duplicate();
        ((Buffer) slice).limit(slice.position() + Math.min(slice.remaining(), SLICE_BYTES));
        int sliceBytes = slice.remaining();
        scanner.update(slice);
        ((Buffer) src).position(src.position() + sliceBytes);
        if (declared < 0 && scanner.header() != null) {
          checkHeader(Objects.requireNonNull(scanner.header()));
        }
      }
    } catch (EnvelopeException e) {
      throw rejected(e);
    }
    try {
      StoreIo.writeFully(data, forFile, OWN_RECORD_HEADER_BYTES + offset);
    } catch (IOException e) {
      throw StoreIo.wrap(e, dataPath, "writing sealed bytes at offset " + offset + " (nothing was stored)");
    }
    offset += n;
    flushBehindIfDue();
    return n;
  }

  /**
   * Starts an fsync of what was written once {@link StoreConfig#flushBehindBytes} more bytes are in, as a
   * put does, so that the commit's fsync does not wait for a whole video at once.
   */
  private void flushBehindIfDue() throws IOException {
    long every = store.config.flushBehindBytes();
    java.util.concurrent.Future<Void> f = flushingBehind;
    if (every == 0 || offset - flushedBehindTo < every || (f != null && !f.isDone())) {
      return;
    }
    awaitFlushBehind(); // done already: only collects its outcome
    flushedBehindTo = offset;
    FileChannel d = data;
    flushingBehind = store.flushBehind(() -> {
      d.force(false);
      return null;
    });
  }

  /** Waits for the flush behind in flight; its failure is this seal's (a later fsync would not report it). */
  private void awaitFlushBehind() throws IOException {
    java.util.concurrent.Future<Void> f = flushingBehind;
    if (f == null) {
      return;
    }
    flushingBehind = null;
    // The fsync runs on regardless of an interrupt; its outcome decides what is durable.
    UploadImpl.awaitFsync(f, dataPath, "flushing sealed bytes to disk", "nothing was stored");
  }

  private void checkHeader(EnvelopeHeader h) throws StoreException {
    long now = store.nowEpochSecond();
    if (h.expiresAtEpochSecond() <= now) {
      throw new StoreException(Reason.PAST_EXPIRY, dataPath.toString(), "the sealed envelope expires at "
          + RetentionPolicy.isoInstant(h.expiresAtEpochSecond()) + ", which has passed; nothing was stored");
    }
    declared = h.envelopeLengthBytes();
    store.sealDeclared(declared);
  }

  /** Moves the pending piece-table entries to their place in the footer (known once the header arrived). */
  private void writePendingPieces() throws IOException {
    if (declared < 0 || pending.position() == 0) {
      return; // the header is piece 0: before it has arrived nothing is pending
    }
    ((Buffer) pending).flip();
    int n = pending.remaining() / FOOTER_PIECE_BYTES;
    try {
      StoreIo.writeFully(data, pending, pieceTableStart() + writtenPieces * FOOTER_PIECE_BYTES);
    } catch (IOException e) {
      throw StoreIo.wrap(e, dataPath, "writing the piece table (nothing was stored)");
    }
    ((Buffer) pending).clear();
    writtenPieces += n;
  }

  private long pieceTableStart() {
    return OWN_RECORD_HEADER_BYTES + declared + 8;
  }

  /** The envelope's own rejection, naming the seal; the store re-reports no envelope reason of its own. */
  private EnvelopeException rejected(EnvelopeException e) {
    String prefix = e.reason() + ": ";
    String detail = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
    return new EnvelopeException(e.reason(), "seal into " + dataPath + ": the sealed bytes are not an envelope ("
        + detail + "); nothing was stored", e);
  }

  /**
   * Checks the whole envelope arrived, that its bytes hash to {@code expected} (the fingerprint the sealer
   * computed on its side), and files it under that fingerprint: record header, footer, one fsync, then the
   * store's atomic publish. On any failure nothing is visible and the file is removed.
   *
   * @return the stored blob (own, {@code HELD})
   * @throws EnvelopeException the bytes are not the envelope the sealer reported (its reason: FINGERPRINT_MISMATCH,
   *     LENGTH_MISMATCH, TRUNCATED …)
   * @throws StoreException DUPLICATE or DELIVERED (the fingerprint is known), or an I/O reason
   */
  public BlobStat commit(Fingerprint expected) throws IOException {
    if (ended) {
      throw new StoreException(Reason.CLOSED, dataPath.toString(), "the seal was already committed or aborted");
    }
    boolean done = false;
    try {
      Fingerprint actual;
      try {
        actual = scanner.finish();
      } catch (EnvelopeException e) {
        throw rejected(e);
      }
      if (!actual.equals(expected)) {
        throw new EnvelopeException(EnvelopeException.Reason.FINGERPRINT_MISMATCH, "seal into " + dataPath
            + ": the sealed bytes hash to "
            + actual + ", the sealer reported " + expected + "; nothing was stored");
      }
      EnvelopeHeader h = Objects.requireNonNull(scanner.header(), "header of a finished scan");
      PartialUpload u = store.registerSeal(actual, declared, startedAtMillis, dataPath);
      registered = u;
      if (u.header.encodedLength != OWN_RECORD_HEADER_BYTES) {
        throw new IllegalStateException("an own record header is " + u.header.encodedLength + " bytes, expected "
            + OWN_RECORD_HEADER_BYTES);
      }
      try {
        StoreIo.writeFully(data, ByteBuffer.wrap(u.header.encode(BLOB_MAGIC)), 0);
        writeFooter(h.expiresAtEpochSecond(), h.locator());
        awaitFlushBehind();
        data.force(true);
      } catch (IOException e) {
        throw StoreIo.wrap(e, dataPath, "writing the sealed blob's header and footer (nothing was stored)");
      }
      FileCustodyStore.closeQuietly(data);
      BlobStat stat = store.publish(u, h.expiresAtEpochSecond(), h.locator(), true);
      done = true;
      ended = true;
      return stat;
    } finally {
      if (!done) {
        abortQuietly();
      }
    }
  }

  /** The footer: piece count, the piece table (the part not written yet), expiry, locator; CRC over it all. */
  private void writeFooter(long expiresAtEpochSecond, String locator) throws IOException {
    long footerStart = OWN_RECORD_HEADER_BYTES + declared;
    long pieces = writtenPieces + pending.position() / FOOTER_PIECE_BYTES;
    ByteBuffer count = ByteBuffer.allocate(8).putLong(0, pieces);
    CRC32 crc = new CRC32();
    crc.update(count.array(), 0, 8);
    if (writtenPieces > 0) {
      // Part of the table is in the file already: the CRC covers it as it is there.
      ByteBuffer table = ByteBuffer.allocate(1024 * FOOTER_PIECE_BYTES);
      long at = pieceTableStart();
      long end = at + writtenPieces * FOOTER_PIECE_BYTES;
      while (at < end) {
        ((Buffer) table).clear().limit((int) Math.min(table.capacity(), end - at));
        StoreIo.readFully(data, table, at);
        crc.update(table.array(), 0, table.limit());
        at += table.limit();
      }
    }
    crc.update(pending.array(), 0, pending.position());
    byte[] tail = BlobFile.footerTail(expiresAtEpochSecond, locator, pieces, crc);
    ByteBuffer rest = ByteBuffer.allocate(pending.position() + tail.length);
    rest.put(pending.array(), 0, pending.position()).put(tail);
    ((Buffer) rest).flip();
    StoreIo.writeFully(data, count, footerStart);
    StoreIo.writeFully(data, rest, pieceTableStart() + writtenPieces * FOOTER_PIECE_BYTES);
  }

  /** Removes the file and ends the seal's accounting. Safe twice, and after {@link #commit}. */
  public void abort() throws IOException {
    if (ended) {
      return;
    }
    ended = true;
    try {
      awaitFlushBehind(); // before the file is closed under it
    } catch (IOException ignored) {
      // The seal is being removed; durability was never claimed for these bytes.
    }
    FileCustodyStore.closeQuietly(data);
    PartialUpload u = registered;
    if (u != null) {
      store.abortFromHandle(u); // it is an upload by now: the store removes and forgets it as any other
      return;
    }
    store.sealEnded(declared);
    try {
      StoreIo.deleteIfExists(dataPath);
    } catch (IOException e) {
      throw StoreIo.wrap(e, dataPath, "removing an unfinished seal (it is removed on the next open)");
    }
  }

  private void abortQuietly() {
    try {
      abort();
    } catch (IOException ignored) {
      // The first failure is the one to report; the file is removed on the next open.
    }
  }

  @Override
  public boolean isOpen() {
    return !ended;
  }

  /** Aborts unless committed: a seal cannot be resumed. */
  @Override
  public void close() throws IOException {
    abort();
  }
}
