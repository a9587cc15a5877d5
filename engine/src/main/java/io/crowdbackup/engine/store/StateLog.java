package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreFormat.*;

import io.crowdbackup.api.Fingerprint;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The per-group log of custody-state changes ({@code states.log}): fixed-size entries, each with its own
 * CRC, appended and fsynced before the change is acknowledged. Entries name the blob generation
 * ({@code blobId}) they apply to. A torn last entry (a crash mid-append) is dropped on recovery.
 */
final class StateLog {
  private StateLog() {}

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
  }

  static byte[] header() {
    ByteBuffer b = ByteBuffer.allocate(STATE_LOG_HEADER_BYTES);
    b.put(STATE_LOG_MAGIC).putShort((short) VERSION).putShort((short) 0);
    b.putInt(crc(b.array(), 0, 12));
    return b.array();
  }

  /** Appends one entry and fsyncs it; creates the log (and fsyncs its directory) if it is new. */
  static void append(FileOpener opener, Path log, Entry e) throws IOException {
    boolean created = !Files.exists(log);
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
      StoreIo.writeFully(ch, ByteBuffer.wrap(e.encode()), aligned);
      ch.force(false);
    }
    if (created) {
      StoreIo.fsyncDirectory(opener, log.getParent());
    }
  }

  /**
   * Cuts a log back to its header and {@code entries} intact entries, so that a torn entry left by a crash
   * cannot hide entries appended after it. Called by recovery with the count {@link #read} returned.
   */
  static void truncateTo(FileOpener opener, Path log, int entries) throws IOException {
    if (!Files.exists(log)) {
      return;
    }
    try (FileChannel ch = opener.open(log, EnumSet.of(StandardOpenOption.WRITE))) {
      long valid = STATE_LOG_HEADER_BYTES + (long) entries * STATE_ENTRY_BYTES;
      if (ch.size() > valid) {
        ch.truncate(valid);
        ch.force(true);
      }
    }
  }

  /** Reads every intact entry in order, stopping at the first that fails its CRC. */
  static List<Entry> read(FileOpener opener, Path log) throws IOException {
    List<Entry> out = new ArrayList<>();
    if (!Files.exists(log)) {
      return out;
    }
    try (FileChannel ch = opener.open(log, EnumSet.of(StandardOpenOption.READ))) {
      long size = ch.size();
      if (size < STATE_LOG_HEADER_BYTES) {
        return out;
      }
      ByteBuffer h = ByteBuffer.allocate(STATE_LOG_HEADER_BYTES);
      StoreIo.readFully(ch, h, 0);
      byte[] hb = h.array();
      if (!java.util.Arrays.equals(java.util.Arrays.copyOf(hb, 8), STATE_LOG_MAGIC)
          || getU32(hb, 12) != crc(hb, 0, 12)) {
        return out;
      }
      ByteBuffer buf = ByteBuffer.allocate(STATE_ENTRY_BYTES);
      for (long pos = STATE_LOG_HEADER_BYTES; pos + STATE_ENTRY_BYTES <= size; pos += STATE_ENTRY_BYTES) {
        ((Buffer) buf).clear();
        StoreIo.readFully(ch, buf, pos);
        byte[] b = buf.array();
        if (getU32(b, STATE_ENTRY_BYTES - 4) != crc(b, 0, STATE_ENTRY_BYTES - 4)) {
          break;
        }
        ByteBuffer r = ByteBuffer.wrap(b);
        byte[] fp = new byte[32];
        r.get(fp);
        out.add(new Entry(Fingerprint.of(fp), r.getLong(), r.get() & 0xff, r.get() & 0xff, r.getLong(),
            r.getLong()));
      }
    }
    return out;
  }
}
