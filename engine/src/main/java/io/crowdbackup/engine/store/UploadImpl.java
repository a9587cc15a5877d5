package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreFormat.*;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreException.Reason;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.envelope.EnvelopeScanner;
import io.crowdbackup.engine.store.FileCustodyStore.PartialUpload;
import io.crowdbackup.engine.store.StoreFormat.FormatProblem;
import io.crowdbackup.engine.policy.RetentionPolicy;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.EnumSet;
import java.util.Objects;
import java.util.zip.CRC32;
import org.jspecify.annotations.Nullable;

/**
 * A resumable upload. The data file ({@code .part}) holds the record header then the envelope bytes as
 * they arrive; the journal ({@code .pieces}) holds one CRC'd entry (digest, length) per complete piece.
 * Ordering is what makes a crash harmless: a journal entry is written only after the data it describes
 * was fsynced, so every journaled piece is on disk. On resume the journal is replayed into
 * {@link EnvelopeScanner#resume} (digests, not bytes) and only the last journaled piece is re-read to
 * check it.
 */
final class UploadImpl implements Upload {
  /** Largest slice fed to the scanner at once, which bounds the pending journal entries in memory. */
  private static final int MAX_SLICE_BYTES = 1 << 20;
  private static final int MAX_PENDING_ENTRIES = 4096;

  private final FileCustodyStore store;
  private final PartialUpload u;
  private final FileChannel data;
  private final FileChannel journal;
  private final long dataStart;
  private final long journalStart;
  private EnvelopeScanner scanner;
  private long offset;
  private long durable;
  private long journalEntries;
  private long sinceCheckpointBytes;
  private ByteBuffer pending = ByteBuffer.allocate(64 * JOURNAL_ENTRY_BYTES);
  private long pendingEnd;
  private boolean headerChecked;
  /** A put, not a resumable upload: nobody resumes it, so it checkpoints only to bound memory. */
  private boolean oneShot;
  /** Whether the partial directory's entries for this upload are known durable. */
  private boolean directorySynced;
  private @Nullable String failed;
  /** Offset up to which a flush behind was last started, and that flush while it may still run. */
  private long flushedBehindTo;
  private java.util.concurrent.@Nullable Future<Void> flushingBehind;
  private boolean done;
  private boolean closed;

  private UploadImpl(FileCustodyStore store, PartialUpload u, FileChannel data, FileChannel journal) {
    this.store = store;
    this.u = u;
    this.data = data;
    this.journal = journal;
    this.dataStart = u.header.encodedLength;
    this.journalStart = u.header.encodedLength;
    this.scanner = new EnvelopeScanner(listener); // a resumed upload replaces it
  }

  private final EnvelopeScanner.PieceListener listener = (index, pieceOffset, length, digest) -> {
    if (pending.remaining() < JOURNAL_ENTRY_BYTES) {
      ByteBuffer bigger = ByteBuffer.allocate(pending.capacity() * 2);
      ((Buffer) pending).flip();
      bigger.put(pending);
      pending = bigger;
    }
    int at = pending.position();
    pending.put(digest, 0, 32).putInt(length);
    pending.putInt(crc(pending.array(), at, 36));
    pendingEnd = pieceOffset + length;
  };

  /**
   * Creates the upload's files. Nothing is fsynced here: until its first checkpoint an upload promises
   * nothing, and a crash before it leaves files that recovery removes. That keeps a put at two fsyncs
   * (data, then the group directory after the rename).
   */
  static UploadImpl create(FileCustodyStore store, PartialUpload u, boolean oneShot) throws IOException {
    FileChannel data = store.opener.open(u.dataPath,
        EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ));
    FileChannel journal;
    try {
      journal = store.opener.open(u.journalPath,
          EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ));
    } catch (IOException e) {
      FileCustodyStore.closeQuietly(data);
      throw e;
    }
    try {
      StoreIo.writeFully(data, ByteBuffer.wrap(u.header.encode(BLOB_MAGIC)), 0);
      StoreIo.writeFully(journal, ByteBuffer.wrap(u.header.encode(JOURNAL_MAGIC)), 0);
    } catch (IOException e) {
      FileCustodyStore.closeQuietly(data);
      FileCustodyStore.closeQuietly(journal);
      throw e;
    }
    UploadImpl up = new UploadImpl(store, u, data, journal);
    up.oneShot = oneShot;
    return up;
  }

  /** What a journal proves: how many pieces, where they end, piece 0's bytes and the record digests. */
  private static final class Recovered {
    long pieces;
    long endOffset;
    byte @Nullable [] piece0;
    byte @Nullable [] recordDigests;
  }

  /**
   * Reads what the journal proves.
   *
   * @param forResume whether to verify pieces against the data file and collect the digests the scanner
   *     needs (32 bytes a piece); at open only the offset is wanted, in memory independent of the size
   */
  private static Recovered recover(FileChannel data, FileChannel journal, PartialUpload u, boolean forResume)
      throws IOException {
    long headerLength = u.header.encodedLength;
    long journalSize = journal.size();
    long available = Math.max(0, (journalSize - headerLength) / JOURNAL_ENTRY_BYTES);
    long maxPieces = u.header.declaredLengthBytes / 20 + 2;
    if (available > maxPieces) {
      available = maxPieces;
    }
    if (!forResume) {
      return durableOnly(data, journal, u, available);
    }
    // Digests of all journaled pieces: 32 bytes a piece (4 KiB a GiB at 1 MiB chunks), the one allocation
    // that grows with the upload, because EnvelopeScanner.resume takes them all.
    byte[] digests = new byte[(int) Math.min(Integer.MAX_VALUE - 64, available * 32)];
    long[] ends = new long[(int) Math.min(Integer.MAX_VALUE - 64, available)];
    ByteBuffer buf = ByteBuffer.allocate(256 * JOURNAL_ENTRY_BYTES);
    long n = 0;
    long end = 0;
    long pos = headerLength;
    outer:
    while (n < available) {
      ((Buffer) buf).clear();
      int got = StoreIo.readUpTo(journal, buf, pos);
      int entries = got / JOURNAL_ENTRY_BYTES;
      byte[] b = buf.array();
      for (int i = 0; i < entries && n < available; i++) {
        int at = i * JOURNAL_ENTRY_BYTES;
        if (getU32(b, at + 36) != crc(b, at, 36)) {
          break outer; // A torn entry from a crash mid-append: the journal ends here.
        }
        end += getU32(b, at + 32) & 0xffff_ffffL;
        System.arraycopy(b, at, digests, (int) n * 32, 32);
        ends[(int) n] = end;
        n++;
      }
      if (entries == 0) {
        break;
      }
      pos += (long) entries * JOURNAL_ENTRY_BYTES;
    }
    long dataAvailable = data.size() - headerLength;
    while (n > 0 && (ends[(int) n - 1] > dataAvailable || ends[(int) n - 1] > u.header.declaredLengthBytes)) {
      n--;
    }
    MessageDigest sha = BlobFile.sha256();
    {
      // Re-read the last journaled piece (at most one chunk): the one a power cut could have lost even
      // though the journal claims it.
      while (n > 1) {
        long start = ends[(int) n - 2];
        if (pieceMatches(data, headerLength + start, ends[(int) n - 1] - start, digests, (int) (n - 1), sha)) {
          break;
        }
        n--;
      }
    }
    Recovered r = new Recovered();
    if (n >= 1 && ends[0] <= BlobFile.MAX_PIECE_BYTES) {
      ByteBuffer p0 = ByteBuffer.allocate((int) ends[0]);
      StoreIo.readFully(data, p0, headerLength);
      byte[] piece0 = p0.array();
      byte[] d = sha.digest(piece0);
      if (MessageDigest.isEqual(d, java.util.Arrays.copyOf(digests, 32))) {
        r.piece0 = piece0;
      } else {
        n = 0;
      }
    } else {
      n = 0;
    }
    r.pieces = n;
    r.endOffset = n == 0 ? 0 : ends[(int) n - 1];
    r.recordDigests = n == 0 ? new byte[0] : java.util.Arrays.copyOfRange(digests, 32, (int) n * 32);
    return r;
  }

  /** The durable offset alone: intact journal entries, bounded by what the data file holds. */
  private static Recovered durableOnly(FileChannel data, FileChannel journal, PartialUpload u, long available)
      throws IOException {
    long dataAvailable = Math.min(data.size() - u.header.encodedLength, u.header.declaredLengthBytes);
    ByteBuffer buf = ByteBuffer.allocate(256 * JOURNAL_ENTRY_BYTES);
    long n = 0;
    long end = 0;
    long pos = u.header.encodedLength;
    while (n < available) {
      ((Buffer) buf).clear();
      int entries = StoreIo.readUpTo(journal, buf, pos) / JOURNAL_ENTRY_BYTES;
      if (entries == 0) {
        break;
      }
      byte[] b = buf.array();
      for (int i = 0; i < entries && n < available; i++) {
        int at = i * JOURNAL_ENTRY_BYTES;
        long next = end + (getU32(b, at + 32) & 0xffff_ffffL);
        if (getU32(b, at + 36) != crc(b, at, 36) || next > dataAvailable) {
          Recovered r = new Recovered();
          r.pieces = n;
          r.endOffset = end;
          return r;
        }
        end = next;
        n++;
      }
      pos += (long) entries * JOURNAL_ENTRY_BYTES;
    }
    Recovered r = new Recovered();
    r.pieces = n;
    r.endOffset = end;
    return r;
  }

  private static boolean pieceMatches(FileChannel data, long position, long length, byte[] digests, int index,
      MessageDigest sha) throws IOException {
    if (length <= 0 || length > BlobFile.MAX_PIECE_BYTES) {
      return false;
    }
    ByteBuffer b = ByteBuffer.allocate((int) length);
    if (StoreIo.readUpTo(data, b, position) != length) {
      return false;
    }
    ((Buffer) b).flip();
    sha.update(b);
    byte[] d = sha.digest();
    return MessageDigest.isEqual(d, java.util.Arrays.copyOfRange(digests, index * 32, index * 32 + 32));
  }

  /** The durable offset of an upload found at open, without changing its files. */
  static long durableOffsetOf(FileCustodyStore store, PartialUpload u) throws IOException {
    try (FileChannel data = store.opener.open(u.dataPath, EnumSet.of(StandardOpenOption.READ));
        FileChannel journal = store.opener.open(u.journalPath, EnumSet.of(StandardOpenOption.READ))) {
      return recover(data, journal, u, false).endOffset;
    }
  }

  static UploadImpl reopen(FileCustodyStore store, PartialUpload u) throws IOException {
    FileChannel data = store.opener.open(u.dataPath, EnumSet.of(StandardOpenOption.WRITE, StandardOpenOption.READ));
    FileChannel journal;
    try {
      journal = store.opener.open(u.journalPath, EnumSet.of(StandardOpenOption.WRITE, StandardOpenOption.READ));
    } catch (IOException e) {
      FileCustodyStore.closeQuietly(data);
      throw e;
    }
    try {
      try {
        if (!BlobFile.readHeader(data, BLOB_MAGIC).sameRecordAs(u.header)) {
          throw new FormatProblem(false, "it describes another upload than its journal");
        }
      } catch (FormatProblem e) {
        throw new StoreException(Reason.CORRUPT, u.dataPath.toString(),
            "the partial upload's header is damaged (" + e.getMessage() + "); abort it and begin again");
      }
      Recovered r = recover(data, journal, u, true);
      // Cut both files back to what the journal proves, so the next bytes land where they belong.
      journal.truncate(u.header.encodedLength + r.pieces * JOURNAL_ENTRY_BYTES);
      data.truncate(u.header.encodedLength + r.endOffset);
      journal.force(true);
      data.force(true);
      UploadImpl up = new UploadImpl(store, u, data, journal);
      up.directorySynced = true; // recovery at open fsynced the partial directory
      up.journalEntries = r.pieces;
      up.offset = r.endOffset;
      up.durable = r.endOffset;
      up.pendingEnd = r.endOffset;
      if (r.pieces > 0) {
        // A full recovery (recover(..., true)) sets both whenever it proves a piece.
        up.scanner = EnvelopeScanner.resume(Objects.requireNonNull(r.piece0, "piece 0"),
            Objects.requireNonNull(r.recordDigests, "record digests"), r.pieces - 1, r.endOffset, up.listener);
        up.checkHeader();
      }
      synchronized (store) {
        u.durableOffset = r.endOffset;
      }
      store.recordProgress(u, store.config.clock().millis()); // a resume is activity: a full window again
      return up;
    } catch (IOException | RuntimeException e) {
      FileCustodyStore.closeQuietly(data);
      FileCustodyStore.closeQuietly(journal);
      throw e;
    }
  }

  @Override
  public UploadRequest request() {
    return u.header.toRequest();
  }

  @Override
  public long offset() {
    return offset;
  }

  @Override
  public long durableOffset() {
    return durable;
  }

  @Override
  public void write(ByteBuffer src) throws IOException {
    ensureUsable();
    while (src.hasRemaining()) {
      int n = Math.min(src.remaining(), MAX_SLICE_BYTES);
      ByteBuffer slice = src.duplicate();
      ((Buffer) slice).limit(slice.position() + n);
      ByteBuffer forFile = slice.duplicate();
      try {
        scanner.update(slice);
      } catch (EnvelopeException e) {
        throw rejectAndAbort(e);
      }
      checkHeader();
      try {
        StoreIo.writeFully(data, forFile, dataStart + offset);
      } catch (IOException e) {
        failed = "writing failed: " + e;
        throw StoreIo.wrap(e, u.dataPath, "writing upload bytes at offset " + offset
            + " (" + afterFailure() + ")");
      }
      ((Buffer) src).position(src.position() + n);
      offset += n;
      sinceCheckpointBytes += n;
      flushBehindIfDue();
      if ((!oneShot && sinceCheckpointBytes >= store.config.checkpointEveryBytes())
          || pending.position() >= MAX_PENDING_ENTRIES * JOURNAL_ENTRY_BYTES) {
        checkpoint();
      }
    }
  }

  /** Starts a background fsync once {@link StoreConfig#flushBehindBytes} more bytes were written. */
  private void flushBehindIfDue() throws IOException {
    long every = store.config.flushBehindBytes();
    if (every == 0 || offset - flushedBehindTo < every
        || (flushingBehind != null && !flushingBehind.isDone())) {
      return;
    }
    awaitFlushBehind(); // done already: only collects its outcome
    flushedBehindTo = offset;
    flushingBehind = store.flushBehind(data);
  }

  /**
   * Waits for the flush behind in flight, if any, and fails the upload if it failed: its error would not
   * be reported again by the next fsync of the same file.
   */
  private void awaitFlushBehind() throws IOException {
    java.util.concurrent.Future<Void> f = flushingBehind;
    if (f == null) {
      return;
    }
    flushingBehind = null;
    boolean interrupted = false;
    try {
      while (true) {
        try {
          f.get();
          return;
        } catch (InterruptedException e) {
          interrupted = true; // the fsync runs on regardless; its outcome decides what is durable
        } catch (java.util.concurrent.ExecutionException e) {
          Throwable cause = e.getCause();
          failed = "a background fsync failed: " + cause;
          throw cause instanceof IOException ? StoreIo.wrap((IOException) cause, u.dataPath, "flushing upload bytes "
              + "to disk (" + afterFailure() + ")")
              : new StoreException(Reason.IO_ERROR, u.dataPath.toString(), "flushing upload bytes to disk failed: "
                  + cause, cause);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Before closing the files: let a flush in flight finish; its outcome no longer matters. */
  private void awaitFlushBehindQuietly() {
    try {
      awaitFlushBehind();
    } catch (IOException ignored) {
      // The upload is being closed or aborted; durability was never claimed for these bytes.
    }
  }

  /**
   * What a failure leaves, for its message: a one-shot put is aborted by its caller, so it must not
   * promise a resume.
   */
  private String afterFailure() {
    return oneShot ? "nothing was stored" : "the upload stays resumable from offset " + durable;
  }

  private void checkHeader() throws IOException {
    if (headerChecked || scanner.header() == null) {
      return;
    }
    EnvelopeHeader h = scanner.header();
    if (h.envelopeLengthBytes() != u.header.declaredLengthBytes) {
      StoreException e = new StoreException(Reason.LENGTH_MISMATCH, u.dataPath.toString(), "the envelope header "
          + "declares " + h.envelopeLengthBytes() + " bytes, the sender declared " + u.header.declaredLengthBytes
          + "; nothing was stored");
      abortQuietly();
      throw e;
    }
    long expires = Math.min(h.expiresAtEpochSecond(), u.header.expiresNoLaterThanEpochSecond);
    if (expires <= store.nowEpochSecond()) {
      StoreException e = new StoreException(Reason.EXPIRED, u.dataPath.toString(), "the envelope expires at "
          + RetentionPolicy.isoInstant(expires) + ", which has passed; nothing was stored");
      abortQuietly();
      throw e;
    }
    headerChecked = true;
  }

  @Override
  public long checkpoint() throws IOException {
    ensureUsable();
    if (pending.position() == 0) {
      return durable;
    }
    try {
      awaitFlushBehind();
      data.force(false);
      long entries = pending.position() / JOURNAL_ENTRY_BYTES;
      ((Buffer) pending).flip();
      StoreIo.writeFully(journal, pending, journalStart + journalEntries * JOURNAL_ENTRY_BYTES);
      journal.force(false);
      journalEntries += entries;
      ((Buffer) pending).clear();
      if (!directorySynced) {
        StoreIo.fsyncDirectory(store.opener, store.partialDir);
        directorySynced = true;
      }
    } catch (IOException e) {
      failed = "checkpoint failed: " + e;
      throw StoreIo.wrap(e, u.journalPath, "making the upload durable ("
          + afterFailure() + ")");
    }
    durable = pendingEnd;
    sinceCheckpointBytes = 0;
    synchronized (store) {
      u.durableOffset = durable;
    }
    store.recordProgress(u, store.config.clock().millis());
    return durable;
  }

  @Override
  public BlobStat commit() throws IOException {
    ensureUsable();
    Fingerprint actual;
    try {
      actual = scanner.finish();
    } catch (EnvelopeException e) {
      throw rejectAndAbort(e);
    }
    if (!actual.equals(u.header.fingerprint)) {
      StoreException e = new StoreException(Reason.FINGERPRINT_MISMATCH, u.dataPath.toString(), "the bytes hash to "
          + actual + ", the sender promised " + u.header.fingerprint + "; nothing was stored");
      abortQuietly();
      throw e;
    }
    EnvelopeHeader h = Objects.requireNonNull(scanner.header(), "header of a finished scan");
    long expires = Math.min(h.expiresAtEpochSecond(), u.header.expiresNoLaterThanEpochSecond);
    try {
      // Journal the last pieces (no fsync: the footer below is fsynced with the data and is what counts).
      if (pending.position() > 0) {
        long entries = pending.position() / JOURNAL_ENTRY_BYTES;
        ((Buffer) pending).flip();
        StoreIo.writeFully(journal, pending, journalStart + journalEntries * JOURNAL_ENTRY_BYTES);
        journalEntries += entries;
        ((Buffer) pending).clear();
      }
      awaitFlushBehind();
      writeFooter(expires, h.locator());
      data.force(true);
    } catch (IOException e) {
      failed = "commit failed: " + e;
      throw StoreIo.wrap(e, u.dataPath, "writing the blob's footer ("
          + (oneShot ? "nothing was stored" : "nothing is visible; resume to retry") + ")");
    }
    FileCustodyStore.closeQuietly(data);
    FileCustodyStore.closeQuietly(journal);
    BlobStat stat;
    try {
      stat = store.publish(u, expires, h.locator());
    } catch (IOException e) {
      failed = "publishing failed: " + e;
      throw e;
    }
    done = true;
    closed = true;
    return stat;
  }

  /** Copies the journal's (digest, length) pairs into the footer, then the tail; CRC over all of it. */
  private void writeFooter(long expiresAtEpochSecond, String locator) throws IOException {
    CRC32 crc = new CRC32();
    long footerStart = dataStart + u.header.declaredLengthBytes;
    ByteBuffer count = ByteBuffer.allocate(8).putLong(0, journalEntries);
    crc.update(count.array(), 0, 8);
    StoreIo.writeFully(data, count, footerStart);
    long out = footerStart + 8;
    ByteBuffer in = ByteBuffer.allocate(1024 * JOURNAL_ENTRY_BYTES);
    ByteBuffer table = ByteBuffer.allocate(1024 * FOOTER_PIECE_BYTES);
    long copied = 0;
    while (copied < journalEntries) {
      int n = (int) Math.min(1024, journalEntries - copied);
      ((Buffer) in).clear().limit(n * JOURNAL_ENTRY_BYTES);
      StoreIo.readFully(journal, in, journalStart + copied * JOURNAL_ENTRY_BYTES);
      ((Buffer) table).clear();
      byte[] b = in.array();
      for (int i = 0; i < n; i++) {
        int at = i * JOURNAL_ENTRY_BYTES;
        if (getU32(b, at + 36) != crc(b, at, 36)) {
          throw new StoreException(Reason.IO_ERROR, u.journalPath.toString(),
              "journal entry " + (copied + i) + " changed on disk while uploading; abort and begin again");
        }
        table.put(b, at, FOOTER_PIECE_BYTES);
      }
      ((Buffer) table).flip();
      crc.update(table.array(), 0, table.limit());
      StoreIo.writeFully(data, table, out);
      out += (long) n * FOOTER_PIECE_BYTES;
      copied += n;
    }
    byte[] tail = BlobFile.footerTail(expiresAtEpochSecond, locator, journalEntries, crc);
    StoreIo.writeFully(data, ByteBuffer.wrap(tail), out);
    data.truncate(out + tail.length);
  }

  private StoreException rejectAndAbort(EnvelopeException e) {
    EnvelopeException.Reason r = e.reason();
    boolean length = r == EnvelopeException.Reason.TRUNCATED || r == EnvelopeException.Reason.MISSING_FINAL_CHUNK
        || r == EnvelopeException.Reason.TRAILING_DATA || r == EnvelopeException.Reason.LENGTH_MISMATCH;
    StoreException se = new StoreException(length ? Reason.LENGTH_MISMATCH : Reason.MALFORMED, u.dataPath.toString(),
        "the envelope was rejected (" + e.getMessage() + "); nothing was stored", e);
    abortQuietly();
    return se;
  }

  private void abortQuietly() {
    try {
      abort();
    } catch (IOException ignored) {
      // Leftover partial files are removed on the next open.
    }
  }

  private void ensureUsable() throws StoreException {
    if (done) {
      throw new StoreException(Reason.CLOSED, u.dataPath.toString(), "the upload was already committed or aborted");
    }
    if (closed) {
      throw new StoreException(Reason.CLOSED, u.dataPath.toString(), "the upload handle was closed; resume it");
    }
    if (failed != null) {
      throw new StoreException(Reason.IO_ERROR, u.dataPath.toString(),
          "an earlier operation on this upload failed (" + failed + "); close it and resume from offset " + durable);
    }
    store.ensureOpen();
  }

  @Override
  public void abort() throws IOException {
    if (done) {
      return;
    }
    done = true;
    closed = true;
    awaitFlushBehindQuietly();
    FileCustodyStore.closeQuietly(data);
    FileCustodyStore.closeQuietly(journal);
    try {
      store.abortFromHandle(u);
    } catch (IOException e) {
      throw StoreIo.wrap(e, u.dataPath, "removing the aborted upload (it is removed on the next open)");
    }
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    IOException failure = null;
    if (!done && failed == null) {
      try {
        checkpoint();
      } catch (IOException e) {
        failure = e;
      }
    }
    closed = true;
    awaitFlushBehindQuietly();
    FileCustodyStore.closeQuietly(data);
    FileCustodyStore.closeQuietly(journal);
    if (!done) {
      store.detach(u);
    }
    if (failure != null) {
      throw failure;
    }
  }
}
