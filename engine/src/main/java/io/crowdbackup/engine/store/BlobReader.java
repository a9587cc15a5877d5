package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreFormat.*;

import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.store.StoreFormat.FormatProblem;
import io.crowdbackup.engine.store.index.IndexEntry;
import java.io.EOFException;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.EnumSet;

/**
 * Streams a stored blob out, one verified piece at a time: a piece's bytes are returned only after its
 * SHA-256 matched the digest in the footer, and the footer itself was checked (CRC, and its digests hash
 * to the fingerprint) when the reader opened. Memory: one piece (at most {@link BlobFile#MAX_PIECE_BYTES})
 * and a slice of the piece table.
 */
final class BlobReader implements ReadableByteChannel {
  private static final int TABLE_BATCH = 128;

  private final FileCustodyStore store;
  private final IndexEntry entry;
  private final Path path;
  private final FileChannel ch;
  private final BlobFile file;
  private final MessageDigest sha256 = BlobFile.sha256();
  private final ByteBuffer table = ByteBuffer.allocate(TABLE_BATCH * FOOTER_PIECE_BYTES);
  private final byte[] digest = new byte[32];
  private long tableFirst = -1;
  private long pieceIndex;
  private long envelopeOffset;
  private ByteBuffer piece = ByteBuffer.allocate(0);
  private boolean open = true;

  private BlobReader(FileCustodyStore store, IndexEntry entry, Path path, FileChannel ch, BlobFile file) {
    this.store = store;
    this.entry = entry;
    this.path = path;
    this.ch = ch;
    this.file = file;
  }

  static BlobReader open(FileCustodyStore store, IndexEntry entry) throws IOException {
    Path path = store.blobPath(entry);
    FileChannel ch;
    try {
      ch = store.opener.open(path, EnumSet.of(StandardOpenOption.READ));
    } catch (java.nio.file.NoSuchFileException e) {
      throw new StoreException(StoreException.Reason.NOT_FOUND, path.toString(),
          "blob " + entry.fingerprint() + " was removed while being opened", e);
    } catch (IOException e) {
      throw StoreIo.wrap(e, path, "opening the blob for reading");
    }
    try {
      BlobFile f = BlobFile.read(ch);
      if (!f.header.fingerprint.equals(entry.fingerprint())) {
        // Files are named for their fingerprint when committed: this one's name lies about its content.
        throw new FormatProblem(false, "file name does not match the fingerprint in its header");
      }
      if (f.header.declaredLengthBytes != entry.envelopeLengthBytes() || f.header.blobId != entry.blobId()) {
        // The file proves itself; the index is derived. Distrust the index, never the data (fuzz finding F11).
        FileCustodyStore.closeQuietly(ch);
        throw new IndexDisagrees(path, "the index says blob " + entry.fingerprint() + " is "
            + entry.envelopeLengthBytes() + " bytes (upload " + Long.toHexString(entry.blobId()) + "), its file holds "
            + f.header.declaredLengthBytes + " bytes (upload " + Long.toHexString(f.header.blobId) + ")");
      }
      return new BlobReader(store, entry, path, ch, f);
    } catch (IndexDisagrees e) {
      throw e;
    } catch (FormatProblem | EOFException e) {
      FileCustodyStore.closeQuietly(ch);
      throw store.quarantine(entry, StoreFormat.why(e));
    } catch (IOException e) {
      FileCustodyStore.closeQuietly(ch);
      throw StoreIo.wrap(e, path, "reading the blob's footer");
    }
  }

  /** A blob file that verifies itself but is not what the index entry says: the index is wrong. */
  static final class IndexDisagrees extends IOException {
    private static final long serialVersionUID = 1L;
    final Path path;

    IndexDisagrees(Path path, String message) {
      super(message);
      this.path = path;
    }
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
    while (!piece.hasRemaining()) {
      if (pieceIndex == file.pieceCount) {
        return -1;
      }
      loadNextPiece();
    }
    int n = Math.min(dst.remaining(), piece.remaining());
    ByteBuffer src = piece.duplicate();
    ((Buffer) src).limit(src.position() + n);
    dst.put(src);
    ((Buffer) piece).position(piece.position() + n);
    return n;
  }

  private void loadNextPiece() throws IOException {
    try {
      if (tableFirst < 0 || pieceIndex >= tableFirst + TABLE_BATCH) {
        int n = (int) Math.min(TABLE_BATCH, file.pieceCount - pieceIndex);
        ((Buffer) table).clear();
        ((Buffer) table).limit(n * FOOTER_PIECE_BYTES);
        StoreIo.readFully(ch, table, file.pieceTableStart() + pieceIndex * FOOTER_PIECE_BYTES);
        tableFirst = pieceIndex;
      }
      int at = (int) (pieceIndex - tableFirst) * FOOTER_PIECE_BYTES;
      byte[] t = table.array();
      long length = getU32(t, at + 32) & 0xffff_ffffL;
      boolean last = pieceIndex == file.pieceCount - 1;
      if (length == 0 || length > BlobFile.MAX_PIECE_BYTES || envelopeOffset + length > entry.envelopeLengthBytes()
          || (last && envelopeOffset + length != entry.envelopeLengthBytes())) {
        throw corrupt("piece " + pieceIndex + " has an impossible length " + length);
      }
      if (piece.capacity() < length) {
        piece = ByteBuffer.allocate((int) Math.min(BlobFile.MAX_PIECE_BYTES, Math.max(length, piece.capacity() * 2L)));
      }
      ((Buffer) piece).clear();
      ((Buffer) piece).limit((int) length);
      StoreIo.readFully(ch, piece, file.dataStart() + envelopeOffset);
      ((Buffer) piece).flip();
      sha256.update(piece.duplicate());
      sha256.digest(digest, 0, 32);
      if (!sameDigest(digest, t, at)) {
        ((Buffer) piece).limit(0);
        throw corrupt("piece " + pieceIndex + " at envelope offset " + envelopeOffset
            + " does not match its SHA-256 digest (bit rot or a torn write)");
      }
      envelopeOffset += length;
      pieceIndex++;
    } catch (EOFException e) {
      throw corrupt("file ends early: " + e.getMessage());
    } catch (java.security.DigestException e) {
      throw new IllegalStateException(e);
    } catch (StoreException e) {
      throw e;
    } catch (IOException e) {
      throw StoreIo.wrap(e, path, "reading the blob");
    }
  }

  /** Arrays.equals with ranges is Java 9+, absent from Android API 26. */
  private static boolean sameDigest(byte[] a, byte[] b, int offset) {
    int diff = 0;
    for (int i = 0; i < 32; i++) {
      diff |= a[i] ^ b[offset + i];
    }
    return diff == 0;
  }

  private StoreException corrupt(String why) {
    open = false;
    FileCustodyStore.closeQuietly(ch);
    return store.quarantine(entry, why);
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() throws IOException {
    if (open) {
      open = false;
      ch.close();
    }
  }
}
