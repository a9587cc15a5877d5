package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreFormat.*;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobState;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The per-group log of custody-state changes ({@code states.log}): fixed-size entries at fixed offsets,
 * each with its own CRC, appended and fsynced before the change is acknowledged. Entries name the blob
 * generation ({@code blobId}) they apply to.
 *
 * <p>Damage costs at most the damaged entry: because entries sit at fixed offsets and prove themselves,
 * a bad header or a bad entry is skipped and every entry after it is still read, and the damage is
 * reported. A DELIVERED entry — the tombstone that stops a replayed envelope — is written twice in one
 * append, so no single damaged entry can lose one. A torn tail (a crash mid-append, shorter than an entry)
 * is cut.
 */
final class StateLog {
  private StateLog() {}

  /** What a read found: the intact entries in order, and where the log was damaged. */
  static final class Contents {
    final List<Entry> entries = new ArrayList<>();
    /** One line per damaged part: offset and why. */
    final List<String> damage = new ArrayList<>();
    /** Bytes after the last whole entry (a torn append). */
    long tornTailBytes;

    boolean damaged() {
      return !damage.isEmpty();
    }
  }

  static final class Entry {
    final Fingerprint fingerprint;
    final long blobId;
    final int stateCode;
    final int kindCode;
    final long envelopeLengthBytes;
    final long expiresAtEpochSecond;

    Entry(Fingerprint fingerprint, long blobId, int stateCode, int kindCode, long envelopeLengthBytes,
        long expiresAtEpochSecond) {
      this.fingerprint = fingerprint;
      this.blobId = blobId;
      this.stateCode = stateCode;
      this.kindCode = kindCode;
      this.envelopeLengthBytes = envelopeLengthBytes;
      this.expiresAtEpochSecond = expiresAtEpochSecond;
    }

    byte[] encode() {
      ByteBuffer b = ByteBuffer.allocate(STATE_ENTRY_BYTES);
      b.put(fingerprint.toBytes()).putLong(blobId).put((byte) stateCode).put((byte) kindCode)
          .putLong(envelopeLengthBytes).putLong(expiresAtEpochSecond);
      b.putInt(crc(b.array(), 0, b.position()));
      return b.array();
    }

    /** The bytes one append writes: a tombstone twice, so that one damaged copy cannot lose it. */
    byte[] encodeForAppend() {
      byte[] one = encode();
      if (stateCode != BlobState.DELIVERED.ordinal()) {
        return one;
      }
      byte[] two = java.util.Arrays.copyOf(one, 2 * one.length);
      System.arraycopy(one, 0, two, one.length, one.length);
      return two;
    }

    boolean sameAs(Entry o) {
      return fingerprint.equals(o.fingerprint) && blobId == o.blobId && stateCode == o.stateCode;
    }
  }

  static byte[] header() {
    ByteBuffer b = ByteBuffer.allocate(STATE_LOG_HEADER_BYTES);
    b.put(STATE_LOG_MAGIC).putShort((short) VERSION).putShort((short) 0);
    b.putInt(crc(b.array(), 0, 12));
    return b.array();
  }

  /** Appends one entry and fsyncs it; creates the log (and fsyncs its directory) if it is new. */
  static void append(FileOpener opener, Path log, Entry e) throws IOException {
    boolean created = !Files.exists(log, LinkOption.NOFOLLOW_LINKS);
    try (FileChannel ch = opener.open(log, EnumSet.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE,
        StandardOpenOption.READ))) {
      long size = ch.size();
      if (size < STATE_LOG_HEADER_BYTES) {
        StoreIo.writeFully(ch, ByteBuffer.wrap(header()), 0);
        size = STATE_LOG_HEADER_BYTES;
      }
      // Skip a torn tail left by a crash: entries start at fixed offsets.
      long aligned = STATE_LOG_HEADER_BYTES
          + (size - STATE_LOG_HEADER_BYTES) / STATE_ENTRY_BYTES * STATE_ENTRY_BYTES;
      StoreIo.writeFully(ch, ByteBuffer.wrap(e.encodeForAppend()), aligned);
      ch.force(false);
    }
    if (created) {
      StoreIo.fsyncDirectory(opener, StoreIo.parentOf(log));
    }
  }

  /**
   * Cuts a log back to its header and whole entries, so that a torn entry left by a crash cannot hide
   * entries appended after it. Called by recovery when {@link #read} found a torn tail and nothing else.
   */
  static void cutTornTail(FileOpener opener, Path log) throws IOException {
    try (FileChannel ch = opener.open(log, EnumSet.of(StandardOpenOption.WRITE))) {
      long size = ch.size();
      long whole = size < STATE_LOG_HEADER_BYTES ? 0 : STATE_LOG_HEADER_BYTES
          + (size - STATE_LOG_HEADER_BYTES) / STATE_ENTRY_BYTES * STATE_ENTRY_BYTES;
      if (size > whole) {
        ch.truncate(whole);
        ch.force(true);
      }
    }
  }

  /**
   * Replaces a damaged log with a sound one holding {@code entries} (tombstones twice again): a temporary
   * file, fsynced and renamed over it. What was damaged has been reported and a copy kept by the caller.
   */
  static void rewrite(FileOpener opener, Path log, List<Entry> entries) throws IOException {
    Path tmp = log.resolveSibling(log.getFileName() + ".tmp");
    try (FileChannel ch = opener.open(tmp, EnumSet.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING))) {
      StoreIo.writeFully(ch, ByteBuffer.wrap(header()), 0);
      long at = STATE_LOG_HEADER_BYTES;
      Entry previous = null;
      for (Entry e : entries) {
        if (previous != null && previous.sameAs(e) && e.stateCode == BlobState.DELIVERED.ordinal()) {
          continue; // the second copy of a tombstone: written again below with the first
        }
        byte[] b = e.encodeForAppend();
        StoreIo.writeFully(ch, ByteBuffer.wrap(b), at);
        at += b.length;
        previous = e;
      }
      ch.force(true);
    }
    Files.move(tmp, log, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    StoreIo.fsyncDirectory(opener, StoreIo.parentOf(log));
  }

  /** Every intact entry in order, as {@link #readAll} finds them. */
  static List<Entry> read(FileOpener opener, Path log) throws IOException {
    return readAll(opener, log).entries;
  }

  /**
   * Reads every intact entry in order. A damaged header or entry is recorded in
   * {@link Contents#damage} and skipped; the entries after it are read all the same.
   */
  static Contents readAll(FileOpener opener, Path log) throws IOException {
    Contents out = new Contents();
    if (!Files.exists(log, LinkOption.NOFOLLOW_LINKS)) {
      return out;
    }
    try (FileChannel ch = opener.open(log, EnumSet.of(StandardOpenOption.READ))) {
      long size = ch.size();
      if (size < STATE_LOG_HEADER_BYTES) {
        out.tornTailBytes = size;
        return out;
      }
      ByteBuffer h = ByteBuffer.allocate(STATE_LOG_HEADER_BYTES);
      StoreIo.readFully(ch, h, 0);
      byte[] hb = h.array();
      if (!java.util.Arrays.equals(java.util.Arrays.copyOf(hb, 8), STATE_LOG_MAGIC)
          || getU32(hb, 12) != crc(hb, 0, 12)) {
        out.damage.add("offset 0: the log header fails its magic or checksum (disk fault?); its entries are "
            + "read by their own checksums");
      }
      ByteBuffer buf = ByteBuffer.allocate(STATE_ENTRY_BYTES);
      long pos = STATE_LOG_HEADER_BYTES;
      for (; pos + STATE_ENTRY_BYTES <= size; pos += STATE_ENTRY_BYTES) {
        ((Buffer) buf).clear();
        StoreIo.readFully(ch, buf, pos);
        byte[] b = buf.array();
        if (getU32(b, STATE_ENTRY_BYTES - 4) != crc(b, 0, STATE_ENTRY_BYTES - 4)) {
          out.damage.add("offset " + pos + ": entry " + (pos - STATE_LOG_HEADER_BYTES) / STATE_ENTRY_BYTES
              + " fails its checksum (disk fault or torn write?); dropped, the entries after it kept");
          continue;
        }
        ByteBuffer r = ByteBuffer.wrap(b);
        byte[] fp = new byte[32];
        r.get(fp);
        out.entries.add(new Entry(Fingerprint.of(fp), r.getLong(), r.get() & 0xff, r.get() & 0xff, r.getLong(),
            r.getLong()));
      }
      out.tornTailBytes = size - pos;
    }
    return out;
  }
}
