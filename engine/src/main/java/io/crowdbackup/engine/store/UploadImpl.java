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
 * check it. A checkpoint that ends inside a piece also makes that partial piece durable: after the data
 * fsync it writes a tail record (where the journaled pieces end, where the bytes end, a CRC of the bytes
 * between) into the next of two slots of {@code .tail}, and fsyncs it; a resume re-reads those bytes
 * (less than one piece) into the scanner, so a resumable upload is durable up to every byte a checkpoint
 * covered, not only up to its last whole piece.
 *
 * <p>A one-shot {@code put} is not resumable, so it has no journal: its piece table goes straight to where
 * the footer will hold it (the footer's place is known from the declared length), and a crash leaves only
 * a data file without journal, which recovery deletes. A put of {@link #OVERLAP_MIN_BYTES} or more hashes
 * on the caller's thread while one of the store's writer threads writes the bytes already hashed, through
 * {@link #OVERLAP_BUFFERS} buffers of {@link #OVERLAP_SLICE_BYTES}.
 */
final class UploadImpl implements Upload {
  /** Largest slice fed to the scanner at once, which bounds the pending journal entries in memory. */
  private static final int MAX_SLICE_BYTES = 1 << 20;
  private static final int MAX_PENDING_ENTRIES = 4096;
  /**
   * Puts this large hash and write on two threads. Below it the commit's fsync dwarfs both (writing 1 MiB
   * to the page cache takes a fraction of a millisecond, its fsync several), and the hand-overs cost more
   * than they save on a busy CPU: at 1 MiB a threshold of 512 KiB measured 0.77x file-per-blob-verified,
   * 1.02x without overlap (bench/RESULTS-store.md, section 1d). The same size as the default flush behind.
   */
  static final long OVERLAP_MIN_BYTES = 4L << 20;
  static final int OVERLAP_SLICE_BYTES = 256 * 1024;
  /**
   * A put of up to this many bytes is read whole into one buffer (a {@link PutBuffers} buffer limited to its
   * length): a 64 KiB envelope (66,297 bytes at 64 KiB chunks) is then one read and one write, not two. Larger puts below {@link #OVERLAP_MIN_BYTES}
   * go through 64 KiB as before, which stays in the CPU cache between hashing and writing (a 256 KiB buffer
   * measured no less CPU per 1 MiB put on the 2-core test machine, though it saved 12 of 17 writes).
   */
  static final int WHOLE_PUT_BUFFER_MAX_BYTES = 128 * 1024;
  static final int OVERLAP_BUFFERS = 4;
  /**
   * A resumable upload's slice is hashed and written in parts of this size on two threads (see
   * {@link #writeOverlapped}).
   */
  static final int OVERLAP_PART_BYTES = 64 * 1024;

  private final FileCustodyStore store;
  private final PartialUpload u;
  private final FileChannel data;
  /** Null for a one-shot put. */
  private final @Nullable FileChannel journal; // none for a one-shot put
  /** A put's record header until it goes to the file with the first envelope bytes (one write, not two). */
  private @Nullable ByteBuffer headerToWrite;
  private final long dataStart;
  private final long journalStart;
  private EnvelopeScanner scanner;
  private long offset;
  /** Set by a checkpoint, on this thread or on the store's flush-behind thread ({@link #checkpointBehind}). */
  private volatile long durable;
  private long journalEntries;
  private long sinceCheckpointBytes;
  private ByteBuffer pending = ByteBuffer.allocate(64 * JOURNAL_ENTRY_BYTES);
  private long pendingEnd;
  /** The tail file, opened at the first checkpoint that ends inside a piece; null for a one-shot put. */
  private @Nullable FileChannel tail;
  private int tailWrites;
  /** CRC of the bytes from {@link #tailCrcBase} to {@link #tailCrcEnd}: extended, not recomputed, per checkpoint. */
  private final CRC32 tailCrc = new CRC32();
  private long tailCrcBase = -1;
  private long tailCrcEnd;
  private boolean headerChecked;
  /** A put, not a resumable upload: nobody resumes it, so it checkpoints only to bound memory. */
  private boolean oneShot;
  /** While a put's writer thread runs: rejections leave the abort to {@code put}, after the writer stops. */
  private boolean deferAbort;
  /** A rejection asked for an abort while {@link #deferAbort}; a resumable upload's overlap then aborts. */
  private boolean abortDeferred;
  /** Whether the partial directory's entries for this upload are known durable. */
  private boolean directorySynced;
  private @Nullable String failed;
  /** Offset up to which a flush behind was last started, and that flush while it may still run. */
  private long flushedBehindTo;
  private java.util.concurrent.@Nullable Future<Void> flushingBehind;
  private boolean done;
  private boolean closed;

  /** The journal; only a resumable upload (not a one-shot put) journals, so only its paths call this. */
  private FileChannel journal() {
    return Objects.requireNonNull(journal, "journal of a one-shot put");
  }

  private UploadImpl(FileCustodyStore store, PartialUpload u, FileChannel data, @Nullable FileChannel journal) {
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
   * Creates the upload's files (a one-shot put: its data file only). Nothing is fsynced here: until its
   * first checkpoint an upload promises nothing, and a crash before it leaves files that recovery removes.
   * That keeps a put at two fsyncs (data, then the group directory after the rename, shared with other
   * commits).
   */
  static UploadImpl create(FileCustodyStore store, PartialUpload u, boolean oneShot) throws IOException {
    FileChannel data = store.opener.open(u.dataPath,
        EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ));
    FileChannel journal = null;
    try {
      if (!oneShot) {
        journal = store.opener.open(u.journalPath,
            EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ));
        StoreIo.writeFully(journal, ByteBuffer.wrap(u.header.encode(JOURNAL_MAGIC)), 0);
        StoreIo.writeFully(data, ByteBuffer.wrap(u.header.encode(BLOB_MAGIC)), 0);
      }
    } catch (IOException e) {
      FileCustodyStore.closeQuietly(data);
      if (journal != null) {
        FileCustodyStore.closeQuietly(journal);
      }
      throw e;
    }
    UploadImpl up = new UploadImpl(store, u, data, journal);
    up.oneShot = oneShot;
    if (oneShot) {
      // Nobody reads a put's file before its commit, and a crash leaves a file without journal that
      // recovery deletes whatever it holds: the header can wait for the first bytes.
      up.headerToWrite = ByteBuffer.wrap(u.header.encode(BLOB_MAGIC));
    }
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
      // At open the tail's bytes are not re-read (a resume does that): the offset only, cheaply.
      return tailRecord(store, u, data, recover(data, journal, u, false).endOffset, false)[0];
    }
  }

  /** One slot of {@code .tail}: base u64, end u64, blob id u64, CRC-32 of the bytes, CRC-32 of the 28 before. */
  static final int TAIL_SLOT_BYTES = 32;

  /**
   * How far the tail record carries a resume past the journaled pieces: the largest end among the slots
   * that are intact, belong to this upload (blob id), start exactly where the pieces end, stay within one
   * piece and within the data file, and (with {@code verifyBytes}) whose bytes still match their CRC.
   *
   * @return that end ({@code pieceEnd} when no slot qualifies) and the slot it is in (-1 for none)
   */
  private static long[] tailRecord(FileCustodyStore store, PartialUpload u, FileChannel data, long pieceEnd,
      boolean verifyBytes) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(2 * TAIL_SLOT_BYTES);
    int got;
    try (FileChannel t = store.opener.open(u.tailPath, EnumSet.of(StandardOpenOption.READ))) {
      got = StoreIo.readUpTo(t, b, 0);
    } catch (java.nio.file.NoSuchFileException e) {
      return new long[] {pieceEnd, -1}; // no checkpoint ended inside a piece
    }
    long dataAvailable = Math.min(data.size() - u.header.encodedLength, u.header.declaredLengthBytes);
    byte[] a = b.array();
    long best = pieceEnd;
    long slot = -1;
    for (int at = 0; at + TAIL_SLOT_BYTES <= got; at += TAIL_SLOT_BYTES) {
      long base = b.getLong(at);
      long end = b.getLong(at + 8);
      if (getU32(a, at + 28) != crc(a, at, 28) || b.getLong(at + 16) != u.header.blobId || base != pieceEnd
          || end <= best || end > dataAvailable || end - base >= BlobFile.MAX_PIECE_BYTES) {
        continue;
      }
      if (verifyBytes) {
        CRC32 c = new CRC32();
        updateCrc(c, data, u.header.encodedLength + base, end - base);
        if ((int) c.getValue() != b.getInt(at + 24)) {
          continue; // the data pages were lost although the record survived: fall back
        }
      }
      best = end;
      slot = at / TAIL_SLOT_BYTES;
    }
    return new long[] {best, slot};
  }

  /** Feeds {@code length} bytes of {@code ch} from {@code position} to {@code crc}. */
  private static void updateCrc(CRC32 crc, FileChannel ch, long position, long length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(length, 64 * 1024));
    for (long done = 0; done < length; ) {
      ((Buffer) buf).clear();
      ((Buffer) buf).limit((int) Math.min(buf.capacity(), length - done));
      StoreIo.readFully(ch, buf, position + done);
      ((Buffer) buf).flip();
      crc.update(buf.array(), 0, buf.limit());
      done += buf.limit();
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
      long[] tailRecord = tailRecord(store, u, data, r.endOffset, true);
      long end = tailRecord[0];
      // Cut both files back to what the journal and the tail prove, so the next bytes land where they belong.
      journal.truncate(u.header.encodedLength + r.pieces * JOURNAL_ENTRY_BYTES);
      data.truncate(u.header.encodedLength + end);
      journal.force(true);
      data.force(true);
      UploadImpl up = new UploadImpl(store, u, data, journal);
      up.directorySynced = true; // recovery at open fsynced the partial directory
      up.journalEntries = r.pieces;
      up.offset = end;
      up.durable = end;
      up.pendingEnd = r.endOffset;
      up.tailWrites = (int) tailRecord[1] + 1; // the next record goes to the other slot: this one stays whole
      if (r.pieces > 0) {
        // A full recovery (recover(..., true)) sets both whenever it proves a piece.
        up.scanner = EnvelopeScanner.resume(Objects.requireNonNull(r.piece0, "piece 0"),
            Objects.requireNonNull(r.recordDigests, "record digests"), r.pieces - 1, r.endOffset, up.listener);
      }
      if (end > r.endOffset) {
        up.rescanTail(r.endOffset, end);
      }
      if (r.pieces > 0 || end > r.endOffset) {
        up.checkHeader();
      }
      synchronized (store.mu) {
        u.durableOffset = end;
      }
      store.recordProgress(u, store.config.clock().millis()); // a resume is activity: a full window again
      return up;
    } catch (IOException | RuntimeException e) {
      FileCustodyStore.closeQuietly(data);
      FileCustodyStore.closeQuietly(journal);
      throw e;
    }
  }

  /** Feeds the tail's bytes (part of one piece, already checked when they arrived) to the resumed scanner. */
  private void rescanTail(long from, long to) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(to - from, 64 * 1024));
    for (long at = from; at < to; ) {
      ((Buffer) buf).clear();
      ((Buffer) buf).limit((int) Math.min(buf.capacity(), to - at));
      StoreIo.readFully(data, buf, dataStart + at);
      ((Buffer) buf).flip();
      try {
        scanner.update(buf);
      } catch (EnvelopeException e) {
        throw new StoreException(Reason.CORRUPT, u.dataPath.toString(), "the partial upload's last "
            + (to - from) + " bytes no longer read as the envelope they were (" + e.getMessage()
            + "); abort it and begin again", e);
      }
      at += buf.limit();
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
      if (overlaps(n)) {
        writeOverlapped(slice);
      } else {
        ByteBuffer forFile = slice.duplicate();
        absorb(slice);
        try {
          writeData(forFile, offset);
        } catch (IOException e) {
          failed = "writing failed: " + e;
          throw StoreIo.wrap(e, u.dataPath, "writing upload bytes at offset " + offset
              + " (" + afterFailure() + ")");
        }
      }
      // Only now, with every byte of the slice written, may a checkpoint (advance) count its pieces.
      ((Buffer) src).position(src.position() + n);
      advance(n);
      flushBehindIfDue(offset);
    }
  }

  /**
   * Whether a resumable upload's slice of {@code n} bytes is hashed on this thread while a writer thread
   * writes it: only for uploads of {@link #OVERLAP_MIN_BYTES} or more (below, the commit's fsync dominates,
   * as for a put) and slices of at least two parts.
   */
  private boolean overlaps(int n) {
    return !oneShot && u.header.declaredLengthBytes >= OVERLAP_MIN_BYTES && n >= 2 * OVERLAP_PART_BYTES;
  }

  /**
   * A resumable upload's slice, hashed here part by part while one of the store's writer threads writes
   * the parts already hashed (bytes are written only after the scanner took them). The parts are views of
   * the caller's buffer, so nothing is copied and nothing is allocated but the queue; this returns only
   * after the writer wrote (or failed on) every part, so the caller may reuse its buffer, a checkpoint
   * (which runs after this) counts only written bytes, and an abort or close never races the writer. The
   * last part's write is not overlapped: the holder's 256 KiB body pieces overlap three parts of four.
   */
  private void writeOverlapped(ByteBuffer slice) throws IOException {
    int parts = (slice.remaining() + OVERLAP_PART_BYTES - 1) / OVERLAP_PART_BYTES;
    java.util.concurrent.BlockingQueue<ByteBuffer> full = new java.util.concurrent.ArrayBlockingQueue<>(parts + 1);
    ByteBuffer end = ByteBuffer.allocate(0);
    Writer writer = new Writer(null, full, end);
    java.util.concurrent.Future<Void> running = store.startWriter(writer);
    deferAbort = true;
    abortDeferred = false;
    try {
      while (slice.hasRemaining() && writer.failure == null) {
        ByteBuffer part = slice.duplicate();
        ((Buffer) part).limit(part.position() + Math.min(OVERLAP_PART_BYTES, slice.remaining()));
        ((Buffer) slice).position(part.limit());
        absorb(part.duplicate());
        full.add(part); // never blocks: the queue holds every part and the end marker
      }
    } finally {
      full.add(end);
      awaitWriter(running);
      deferAbort = false;
      if (abortDeferred) {
        abortQuietly(); // the scanner rejected the bytes while the writer ran: now it has stopped
      }
    }
    IOException failure = writer.failure;
    if (failure != null) {
      failed = "writing failed: " + failure;
      throw StoreIo.wrap(failure, u.dataPath, "writing upload bytes after offset " + offset
          + " (" + afterFailure() + ")");
    }
  }

  /** Writes envelope bytes at {@code envelopeOffset}; a put's header goes with its first bytes, in one write. */
  private void writeData(ByteBuffer src, long envelopeOffset) throws IOException {
    ByteBuffer header = headerToWrite;
    if (header == null) {
      StoreIo.writeFully(data, src, dataStart + envelopeOffset);
      return;
    }
    if (envelopeOffset != 0) {
      throw new IllegalStateException("a put's first bytes at envelope offset " + envelopeOffset + ", expected 0");
    }
    // A gathering write goes at the channel's position: 0, as this put's channel was opened, because the
    // store otherwise writes only at explicit positions (which leave it alone).
    ByteBuffer[] both = {header, src};
    while (header.hasRemaining() || src.hasRemaining()) {
      data.write(both);
    }
    headerToWrite = null;
  }

  /** Feeds bytes to the scanner (fingerprint, header checks); they are not written yet. */
  private void absorb(ByteBuffer slice) throws IOException {
    try {
      scanner.update(slice);
    } catch (EnvelopeException e) {
      throw rejectAndAbort(e);
    }
    checkHeader();
  }

  /** Counts {@code n} absorbed bytes; checkpoints (or, for a put, moves the piece table out of memory). */
  private void advance(int n) throws IOException {
    offset += n;
    sinceCheckpointBytes += n;
    boolean pendingFull = pending.position() >= MAX_PENDING_ENTRIES * JOURNAL_ENTRY_BYTES;
    if (oneShot) {
      if (pendingFull) {
        spillToFooter();
      }
    } else if (pendingFull) {
      checkpoint(false); // mid-write, nobody is told this offset: whole pieces are enough
    } else if (sinceCheckpointBytes >= store.config.checkpointEveryBytes()) {
      checkpointBehind();
    }
  }

  /**
   * A checkpoint that does not stall the upload: the fsyncs (data, then the journal entries of the pieces
   * written so far) run on the store's flush-behind thread while this thread goes on hashing and writing,
   * and the durable offset moves when they are done. The order that makes a crash harmless is the same as
   * in {@link #checkpoint}: an entry is written only after the data it describes was fsynced. With a
   * background fsync still running it waits for the next write; one at a time keeps the error of a failed
   * fsync with the upload it belongs to. At 64 MiB the eight synchronous checkpoints were half of the time
   * a custody upload's thread spent (bench/RESULTS.md, issue 13).
   */
  private void checkpointBehind() throws IOException {
    if (pending.position() == 0 || (flushingBehind != null && !flushingBehind.isDone())) {
      return;
    }
    awaitFlushBehind(); // done already: only collects its outcome
    ByteBuffer entries = ByteBuffer.allocate(pending.position());
    ((Buffer) pending).flip();
    entries.put(pending);
    ((Buffer) entries).flip();
    ((Buffer) pending).clear();
    long at = journalStart + journalEntries * JOURNAL_ENTRY_BYTES;
    journalEntries += entries.remaining() / JOURNAL_ENTRY_BYTES; // later entries go after these
    long end = pendingEnd;
    boolean syncDirectory = !directorySynced;
    directorySynced = true; // if that fsync fails, the upload fails with it
    sinceCheckpointBytes = 0;
    flushedBehindTo = offset;
    FileChannel j = journal();
    flushingBehind = store.flushBehind(() -> {
      data.force(false);
      StoreIo.writeFully(j, entries, at);
      j.force(false);
      if (syncDirectory) {
        StoreIo.fsyncDirectory(store.opener, store.partialDir);
      }
      durable = end;
      synchronized (store.mu) {
        u.durableOffset = end;
      }
      store.recordProgress(u, store.config.clock().millis());
      return null;
    });
  }

  /**
   * A put's whole envelope from {@code in}, then commit. From {@link #OVERLAP_MIN_BYTES} on, this thread
   * reads and hashes while a writer thread writes what was hashed, through a few bounded buffers; bytes
   * are written only after the scanner took them, so a rejected envelope never writes past its length.
   */
  BlobStat putAll(java.nio.channels.ReadableByteChannel in) throws IOException {
    if (u.header.declaredLengthBytes < OVERLAP_MIN_BYTES) {
      long declared = u.header.declaredLengthBytes;
      int size = declared <= WHOLE_PUT_BUFFER_MAX_BYTES ? (int) Math.max(declared, 4096) : 64 * 1024;
      ByteBuffer buf = store.putBuffers.take();
      try {
        while (true) {
          ((Buffer) buf).clear();
          ((Buffer) buf).limit(size);
          int n = in.read(buf);
          if (n < 0) {
            break;
          }
          ((Buffer) buf).flip();
          write(buf); // synchronous: neither the scanner nor the file keeps a view of buf after it
        }
      } finally {
        store.putBuffers.give(buf); // on failure too: the caller's abort never reads it
      }
      return commit();
    }
    ensureUsable();
    java.util.concurrent.BlockingQueue<ByteBuffer> free = new java.util.concurrent.ArrayBlockingQueue<>(OVERLAP_BUFFERS);
    java.util.concurrent.BlockingQueue<ByteBuffer> full =
        new java.util.concurrent.ArrayBlockingQueue<>(OVERLAP_BUFFERS + 1);
    for (int i = 0; i < OVERLAP_BUFFERS; i++) {
      free.add(ByteBuffer.allocate(OVERLAP_SLICE_BYTES));
    }
    ByteBuffer end = ByteBuffer.allocate(0);
    Writer writer = new Writer(free, full, end);
    java.util.concurrent.Future<Void> running = store.startWriter(writer);
    deferAbort = true;
    try {
      boolean eof = false;
      while (!eof && writer.failure == null) {
        ByteBuffer b = free.take();
        ((Buffer) b).clear();
        while (b.hasRemaining()) {
          if (in.read(b) < 0) {
            eof = true;
            break;
          }
        }
        ((Buffer) b).flip();
        int n = b.remaining();
        if (n > 0) {
          absorb(b.duplicate());
          advance(n);
          full.add(b); // never full: there are only OVERLAP_BUFFERS buffers and one end marker
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while putting " + u.header.fingerprint);
    } finally {
      full.add(end);
      awaitWriter(running);
      deferAbort = false;
    }
    if (writer.failure != null) {
      failed = "writing failed: " + writer.failure;
      throw StoreIo.wrap(writer.failure, u.dataPath, "writing upload bytes (" + afterFailure() + ")");
    }
    return commit();
  }

  /** Waits for the writer (told to stop by the end marker) to be gone; its I/O errors are in its fields. */
  private static void awaitWriter(java.util.concurrent.Future<Void> running) {
    try {
      getUninterruptibly(running);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("a put's writer thread failed: " + e.getCause(), e.getCause());
    }
  }

  /**
   * The outcome of work that runs on regardless of an interrupt (a write, an fsync) and decides what is
   * durable: wait for it, and keep the interrupt for the caller.
   */
  static void getUninterruptibly(java.util.concurrent.Future<Void> f)
      throws java.util.concurrent.ExecutionException {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          f.get();
          return;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Writes a put's hashed buffers in order and fsyncs behind them; after a failure it only hands the
   * buffers back, so the hashing thread never waits for ever. Its fields are read after it has stopped.
   */
  private final class Writer implements java.util.concurrent.Callable<Void> {
    /** Where written buffers go back to a put's reader; null for a resumable upload's parts (views). */
    private final java.util.concurrent.@Nullable BlockingQueue<ByteBuffer> free;
    private final java.util.concurrent.BlockingQueue<ByteBuffer> full;
    private final ByteBuffer end;
    /** Where the first buffer goes; taken when the writer is made, before the hashing thread moves on. */
    private final long startOffset = offset;
    volatile @Nullable IOException failure;

    Writer(java.util.concurrent.@Nullable BlockingQueue<ByteBuffer> free,
        java.util.concurrent.BlockingQueue<ByteBuffer> full,
        ByteBuffer end) {
      this.free = free;
      this.full = full;
      this.end = end;
    }

    @Override
    @SuppressWarnings("ReferenceEquality") // `end` is a sentinel buffer: identity is the point
    public Void call() {
      long written = startOffset;
      while (true) {
        ByteBuffer b;
        try {
          b = full.take();
        } catch (InterruptedException e) {
          failure = new java.io.InterruptedIOException("the writer thread was interrupted");
          continue; // keep serving the queue until the end marker
        }
        if (b == end) {
          return null;
        }
        if (failure == null) {
          try {
            int n = b.remaining();
            writeData(b, written);
            written += n;
            if (free != null) {
              flushBehindIfDue(written); // a resumable upload's caller does it once the slice is written
            }
          } catch (IOException e) {
            failure = e;
          }
        }
        if (free != null) {
          free.add(b);
        }
      }
    }
  }

  /** Starts a background fsync once {@link StoreConfig#flushBehindBytes} more bytes were written. */
  private void flushBehindIfDue(long writtenTo) throws IOException {
    long every = store.config.flushBehindBytes();
    if (every == 0 || writtenTo - flushedBehindTo < every
        || (flushingBehind != null && !flushingBehind.isDone())) {
      return;
    }
    awaitFlushBehind(); // done already: only collects its outcome
    flushedBehindTo = writtenTo;
    flushingBehind = store.flushBehind(() -> {
      data.force(false);
      return null;
    });
  }

  /**
   * A put's piece table, out of memory: written where the footer will hold it ({@link #writeFooter}), in
   * the footer's form, so a put needs no journal however many pieces it has.
   */
  private void spillToFooter() throws IOException {
    int n = pending.position() / JOURNAL_ENTRY_BYTES;
    if (n == 0) {
      return;
    }
    ByteBuffer table = ByteBuffer.allocate(n * FOOTER_PIECE_BYTES);
    byte[] b = pending.array();
    for (int i = 0; i < n; i++) {
      table.put(b, i * JOURNAL_ENTRY_BYTES, FOOTER_PIECE_BYTES);
    }
    ((Buffer) table).flip();
    StoreIo.writeFully(data, table, footerTableStart() + journalEntries * FOOTER_PIECE_BYTES);
    journalEntries += n;
    ((Buffer) pending).clear();
  }

  private long footerTableStart() {
    return dataStart + u.header.declaredLengthBytes + 8;
  }

  /**
   * The outcome of a background fsync of {@code file}, waited for: its failure as this store's exception,
   * {@code what} naming the work and {@code note} what the failure leaves.
   */
  static void awaitFsync(java.util.concurrent.Future<Void> f, java.nio.file.Path file, String what, String note)
      throws IOException {
    try {
      getUninterruptibly(f);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof IOException ? StoreIo.wrap((IOException) cause, file, what + " (" + note + ")")
          : new StoreException(Reason.IO_ERROR, file.toString(), what + " failed: " + cause, cause);
    }
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
    try {
      awaitFsync(f, u.dataPath, "flushing upload bytes to disk", afterFailure());
    } catch (IOException e) {
      failed = "a background fsync failed: " + e;
      throw e;
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
      EnvelopeException e = new EnvelopeException(EnvelopeException.Reason.LENGTH_MISMATCH, "upload of "
          + u.header.fingerprint + ": the envelope header declares " + h.envelopeLengthBytes()
          + " bytes, the sender declared " + u.header.declaredLengthBytes + "; nothing was stored");
      abortQuietly();
      throw e;
    }
    long expires = Math.min(h.expiresAtEpochSecond(), u.header.expiresNoLaterThanEpochSecond);
    if (expires <= store.nowEpochSecond()) {
      StoreException e = new StoreException(Reason.PAST_EXPIRY, u.dataPath.toString(), "the envelope expires at "
          + RetentionPolicy.isoInstant(expires) + ", which has passed; nothing was stored");
      abortQuietly();
      throw e;
    }
    headerChecked = true;
  }

  @Override
  public long checkpoint() throws IOException {
    return checkpoint(true);
  }

  /** With {@code partialPiece}, the bytes past the last whole piece too (a tail record), as the API promises. */
  private long checkpoint(boolean partialPiece) throws IOException {
    ensureUsable();
    if (oneShot) {
      return durable; // a put promises nothing before its commit
    }
    boolean pieces;
    boolean partial;
    try {
      awaitFlushBehind(); // a checkpoint behind in flight moves the durable offset first
      pieces = pending.position() > 0;
      partial = partialPiece && offset > pendingEnd && offset > durable; // bytes of an incomplete piece
      if (!pieces && !partial) {
        return durable;
      }
      data.force(false);
      if (pieces) {
        long entries = pending.position() / JOURNAL_ENTRY_BYTES;
        ((Buffer) pending).flip();
        StoreIo.writeFully(journal(), pending, journalStart + journalEntries * JOURNAL_ENTRY_BYTES);
        journal().force(false);
        journalEntries += entries;
        ((Buffer) pending).clear();
      }
      if (partial) {
        writeTail();
      }
      if (!directorySynced) {
        StoreIo.fsyncDirectory(store.opener, store.partialDir);
        directorySynced = true;
      }
    } catch (IOException e) {
      failed = "checkpoint failed: " + e;
      throw StoreIo.wrap(e, u.journalPath, "making the upload durable ("
          + afterFailure() + ")");
    }
    durable = partial ? offset : pendingEnd;
    sinceCheckpointBytes = 0;
    synchronized (store.mu) {
      u.durableOffset = durable;
    }
    store.recordProgress(u, store.config.clock().millis());
    return durable;
  }

  /**
   * Records, after the data fsync, that the bytes past the last whole piece are durable too: one slot of
   * {@code .tail} (the other keeps the previous record, should this write tear), then its fsync.
   */
  private void writeTail() throws IOException {
    if (tailCrcBase != pendingEnd) {
      tailCrc.reset();
      tailCrcBase = pendingEnd;
      tailCrcEnd = pendingEnd;
    }
    updateCrc(tailCrc, data, dataStart + tailCrcEnd, offset - tailCrcEnd); // from the page cache
    tailCrcEnd = offset;
    FileChannel t = tail;
    if (t == null) {
      t = store.opener.open(u.tailPath, EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.READ));
      tail = t;
      directorySynced = false; // the new name must be durable before the offset is promised
    }
    ByteBuffer slot = ByteBuffer.allocate(TAIL_SLOT_BYTES);
    slot.putLong(pendingEnd).putLong(offset).putLong(u.header.blobId).putInt((int) tailCrc.getValue());
    slot.putInt(crc(slot.array(), 0, 28));
    ((Buffer) slot).flip();
    StoreIo.writeFully(t, slot, (long) (tailWrites++ & 1) * TAIL_SLOT_BYTES);
    t.force(false);
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
      EnvelopeException e = new EnvelopeException(EnvelopeException.Reason.FINGERPRINT_MISMATCH, "upload of "
          + u.header.fingerprint + ": the bytes hash to " + actual + ", the sender promised "
          + u.header.fingerprint + "; nothing was stored");
      abortQuietly();
      throw e;
    }
    EnvelopeHeader h = Objects.requireNonNull(scanner.header(), "header of a finished scan");
    long expires = Math.min(h.expiresAtEpochSecond(), u.header.expiresNoLaterThanEpochSecond);
    try {
      awaitFlushBehind(); // a checkpoint behind writes journal entries: let it end before more are added
      // Journal the last pieces (no fsync: the footer below is fsynced with the data and is what counts).
      if (oneShot && journalEntries > 0) {
        spillToFooter(); // the table already left memory: the rest follows it
      } else if (!oneShot && pending.position() > 0) {
        long entries = pending.position() / JOURNAL_ENTRY_BYTES;
        ((Buffer) pending).flip();
        StoreIo.writeFully(journal(), pending, journalStart + journalEntries * JOURNAL_ENTRY_BYTES);
        journalEntries += entries;
        ((Buffer) pending).clear();
      }
      awaitFlushBehind();
      if (headerToWrite != null) {
        writeData(ByteBuffer.allocate(0), 0); // no envelope bytes were written (the scanner rejects that)
      }
      writeFooter(expires, h.locator());
      data.force(true);
    } catch (IOException e) {
      failed = "commit failed: " + e;
      throw StoreIo.wrap(e, u.dataPath, "writing the blob's footer ("
          + (oneShot ? "nothing was stored" : "nothing is visible; resume to retry") + ")");
    }
    closeFiles();
    BlobStat stat;
    try {
      stat = store.publish(u, expires, h.locator(), oneShot);
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
    long out = footerStart + 8;
    ByteBuffer count = ByteBuffer.allocate(8).putLong(0, journalEntries);
    crc.update(count.array(), 0, 8);
    if (!(oneShot && journalEntries == 0)) {
      StoreIo.writeFully(data, count, footerStart);
    }
    if (oneShot && journalEntries == 0) {
      // The whole table is still in memory (up to 4,096 pieces): the footer is one write. The file was
      // created for this put and nothing was written past here, so it ends where the footer does.
      int n = pending.position() / JOURNAL_ENTRY_BYTES;
      byte[] b = pending.array();
      ByteBuffer footer = ByteBuffer.allocate(8 + n * FOOTER_PIECE_BYTES);
      footer.putLong(n);
      for (int i = 0; i < n; i++) {
        footer.put(b, i * JOURNAL_ENTRY_BYTES, FOOTER_PIECE_BYTES);
      }
      crc.reset();
      crc.update(footer.array(), 0, footer.position());
      byte[] tail = BlobFile.footerTail(expiresAtEpochSecond, locator, n, crc);
      ByteBuffer all = ByteBuffer.allocate(footer.position() + tail.length);
      all.put(footer.array(), 0, footer.position()).put(tail);
      ((Buffer) all).flip();
      StoreIo.writeFully(data, all, footerStart);
      journalEntries = n;
      ((Buffer) pending).clear();
      return;
    }
    if (oneShot) {
      // The table is in place already (spillToFooter); the CRC covers it as it is in the file.
      ByteBuffer table = ByteBuffer.allocate(1024 * FOOTER_PIECE_BYTES);
      long tableEnd = out + journalEntries * FOOTER_PIECE_BYTES;
      while (out < tableEnd) {
        ((Buffer) table).clear().limit((int) Math.min(table.capacity(), tableEnd - out));
        StoreIo.readFully(data, table, out);
        crc.update(table.array(), 0, table.limit());
        out += table.limit();
      }
      byte[] tail = BlobFile.footerTail(expiresAtEpochSecond, locator, journalEntries, crc);
      StoreIo.writeFully(data, ByteBuffer.wrap(tail), out);
      data.truncate(out + tail.length);
      return;
    }
    ByteBuffer in = ByteBuffer.allocate(1024 * JOURNAL_ENTRY_BYTES);
    ByteBuffer table = ByteBuffer.allocate(1024 * FOOTER_PIECE_BYTES);
    long copied = 0;
    while (copied < journalEntries) {
      int n = (int) Math.min(1024, journalEntries - copied);
      ((Buffer) in).clear().limit(n * JOURNAL_ENTRY_BYTES);
      StoreIo.readFully(journal(), in, journalStart + copied * JOURNAL_ENTRY_BYTES);
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

  /** The envelope's own rejection, naming the upload; the store re-reports no envelope reason of its own. */
  private EnvelopeException rejectAndAbort(EnvelopeException e) {
    String prefix = e.reason() + ": ";
    String detail = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
    EnvelopeException named = new EnvelopeException(e.reason(), "upload of " + u.header.fingerprint + ": " + detail
        + "; nothing was stored", e);
    abortQuietly();
    return named;
  }

  private void abortQuietly() {
    if (deferAbort) {
      abortDeferred = true;
      return; // the writer thread stops first; then put (or writeOverlapped) aborts
    }
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
    closeFiles();
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
    closeFiles();
    if (!done) {
      store.detach(u);
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void closeFiles() {
    FileCustodyStore.closeQuietly(data);
    if (journal != null) {
      FileCustodyStore.closeQuietly(journal);
    }
    if (tail != null) {
      FileCustodyStore.closeQuietly(tail);
    }
  }
}
