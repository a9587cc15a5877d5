package io.crowdbackup.engine.inbox;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.Closeable;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32;
import org.jspecify.annotations.Nullable;

/**
 * The inbox's durable memory of what it delivered: an append-only file of checksummed records, each
 * appended with one write and fsynced before the call returns.
 *
 * <pre>
 *   file   = "CBDL" | u16 version = 2 | u16 zero | record*
 *   record = u32 payload length | u32 CRC-32 of payload | u32 CRC-32 of the record's first 8 bytes | payload
 *   payload (PENDING, type 1) = u8 type | fingerprint (32) | u8 kind (0 file, 1 relayed envelope)
 *            | u64 published length | published SHA-256 (32) | u64 expiresAtEpochSecond
 *            | receipt (143) | u16 name length | name (UTF-8)
 *   payload (DONE 2, ABORTED 3) = u8 type | fingerprint (32)
 * </pre>
 *
 * A delivery appends PENDING (naming the file it is about to publish, with the file's length and SHA-256
 * and the already-signed receipt) before publishing, and DONE after the file and its folder entry are
 * durable. A crash can therefore leave at most a PENDING without DONE, which the inbox resolves on open by
 * looking at the named file, and at most one torn record at the end, which is cut off.
 *
 * <p><b>Torn tail or damage.</b> A crash cuts the last append short; it never changes bytes already written.
 * So the bytes after the last whole record are a torn tail only if they are fewer than a record header, or
 * a record header whose own checksum holds and whose payload runs past the end of the file, or all zeros (a
 * file system that extended the file but lost the data). The header's own checksum is what tells a record
 * cut by a crash from a record whose length field was damaged. Anything else (a header or payload that
 * fails its checksum, a checked record that does not decode) is damage: {@code LEDGER_CORRUPT}, and the
 * file is left untouched, so a damaged record never costs the records after it nor lets a delivered
 * envelope be delivered again.
 *
 * <p>Version 1 files ({@code u32 length | u32 CRC-32 | payload}, no header checksum) are still read, by the
 * same rule except that a length field running past the end counts as torn only if no whole record can be
 * found after it; they are then rewritten as version 2 (atomically) before anything is appended.
 *
 * <p>Buffer position calls go through {@link Buffer}: the covariant {@code ByteBuffer} overrides are Java 9+
 * and absent on Android API 26, which this module must run on.
 */
final class DeliveryLedger implements Closeable {
  static final String FILE_NAME = "delivered.ledger";
  private static final byte[] MAGIC = {'C', 'B', 'D', 'L'};
  static final int VERSION = 2;
  static final int FILE_HEADER_BYTES = 8;
  static final int RECORD_HEADER_BYTES = 12;
  /** Version 1 records had no header checksum. */
  static final int V1_RECORD_HEADER_BYTES = 8;
  static final int TYPE_PENDING = 1;
  static final int TYPE_DONE = 2;
  static final int TYPE_ABORTED = 3;
  static final int MAX_NAME_BYTES = 1024;
  static final int MIN_PAYLOAD_BYTES = 1 + 32;
  static final int MAX_PAYLOAD_BYTES = 1 + 32 + 1 + 8 + 32 + 8 + Receipts.ENCODED_BYTES + 2 + MAX_NAME_BYTES;
  /** One torn append leaves at most this many bytes after the last whole record. */
  static final int MAX_TORN_BYTES = RECORD_HEADER_BYTES + MAX_PAYLOAD_BYTES;
  private static final String UPGRADE_SUFFIX = ".upgrade";

  /** What a PENDING record says. */
  static final class Entry {
    final Fingerprint fingerprint;
    final boolean relayed;
    final long publishedLengthBytes;
    final byte[] publishedSha256;
    final long expiresAtEpochSecond;
    final byte[] receipt;
    final String name;

    Entry(Fingerprint fingerprint, boolean relayed, long publishedLengthBytes, byte[] publishedSha256,
        long expiresAtEpochSecond, byte[] receipt, String name) {
      this.fingerprint = fingerprint;
      this.relayed = relayed;
      this.publishedLengthBytes = publishedLengthBytes;
      this.publishedSha256 = publishedSha256.clone();
      this.expiresAtEpochSecond = expiresAtEpochSecond;
      this.receipt = receipt.clone();
      this.name = name;
    }
  }

  private final Path path;
  /** Replaced once, when a version 1 file is rewritten as version 2 on open. */
  private FileChannel channel;
  private final Map<Fingerprint, Entry> done = new HashMap<>();
  private final Map<Fingerprint, Entry> pending = new LinkedHashMap<>();
  private final long tornBytesDiscarded;

  private DeliveryLedger(Path path, FileChannel channel, long tornBytesDiscarded) {
    this.path = path;
    this.channel = channel;
    this.tornBytesDiscarded = tornBytesDiscarded;
  }

  /**
   * Opens (creating if absent) and replays the ledger, cutting off a torn last record.
   *
   * @throws InboxException {@code LEDGER_CORRUPT} if the file is damaged anywhere but a torn tail; the file
   *     is then left as it is
   */
  static DeliveryLedger open(Path path) throws IOException {
    boolean created = !Files.exists(path);
    FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    try {
      long size = ch.size();
      if (!created && size < FILE_HEADER_BYTES) {
        // The crash came while the file was being created, so it holds no record; but a byte that is not
        // what creation writes is damage, not a tear.
        byte[] start = new byte[(int) size];
        readFully(ch, ByteBuffer.wrap(start), 0);
        if (!Arrays.equals(start, Arrays.copyOf(header(VERSION), start.length))
            && !Arrays.equals(start, Arrays.copyOf(header(1), start.length))) {
          throw corrupt(path, "the file is " + size + " bytes, a cut header, but its bytes are not a header's");
        }
      }
      if (created || size < FILE_HEADER_BYTES) {
        ch.truncate(0);
        writeFully(ch, ByteBuffer.wrap(header(VERSION)), 0);
        ch.force(true);
        AtomicFiles.fsyncDirectory(folderOf(path));
        DeliveryLedger l = new DeliveryLedger(path, ch, 0);
        ch.position(FILE_HEADER_BYTES);
        return l;
      }
      return replay(path, ch);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private static byte[] header(int version) {
    return ByteBuffer.allocate(FILE_HEADER_BYTES).put(MAGIC).putShort((short) version).putShort((short) 0).array();
  }

  private static InboxException corrupt(Path path, String message) {
    return new InboxException(InboxException.Reason.LEDGER_CORRUPT, path, message);
  }

  private static DeliveryLedger replay(Path path, FileChannel ch) throws IOException {
    long size = ch.size();
    ByteBuffer h = ByteBuffer.allocate(FILE_HEADER_BYTES);
    readFully(ch, h, 0);
    ((Buffer) h).flip();
    byte[] magic = new byte[4];
    h.get(magic);
    int version = h.getShort() & 0xffff;
    int zero = h.getShort() & 0xffff;
    if (!Arrays.equals(magic, MAGIC) || (version != 1 && version != VERSION) || zero != 0) {
      throw corrupt(path, "header is not \"CBDL\" version 1 or " + VERSION + " (magic "
          + new String(magic, StandardCharsets.ISO_8859_1) + ", version " + version + ", reserved " + zero
          + "); the file is left as is for inspection");
    }
    int recordHeader = version == 1 ? V1_RECORD_HEADER_BYTES : RECORD_HEADER_BYTES;
    List<ByteBuffer> payloads = new ArrayList<>();
    long position = FILE_HEADER_BYTES;
    ByteBuffer rh = ByteBuffer.allocate(RECORD_HEADER_BYTES);
    ByteBuffer payload = ByteBuffer.allocate(MAX_PAYLOAD_BYTES);
    String damage = null;
    while (position < size && damage == null) {
      if (size - position < recordHeader) {
        break; // cut inside a record header: torn
      }
      ((Buffer) rh).clear().limit(recordHeader);
      readFully(ch, rh, position);
      int length = rh.getInt(0);
      long expectedCrc = rh.getInt(4) & 0xffff_ffffL;
      if (version != 1 && (rh.getInt(8) & 0xffff_ffffL) != crc(rh.array(), 0, 8)) {
        damage = "the record header at offset " + position + " fails its checksum";
      } else if (length < MIN_PAYLOAD_BYTES || length > MAX_PAYLOAD_BYTES) {
        damage = "the record at offset " + position + " declares " + length + " payload bytes, expected "
            + MIN_PAYLOAD_BYTES + " to " + MAX_PAYLOAD_BYTES;
      } else if (position + recordHeader + length > size) {
        // A record that runs past the end is the one a crash cut, unless (version 1, whose length field has
        // no checksum of its own) a whole record follows inside it.
        long later = version == 1 ? wholeV1RecordAfter(ch, position + 1, size) : -1;
        if (later < 0) {
          break;
        }
        damage = "the record at offset " + position + " declares " + length + " payload bytes, past the end at "
            + size + ", yet a whole record follows at offset " + later;
      } else {
        ((Buffer) payload).clear().limit(length);
        readFully(ch, payload, position + recordHeader);
        long actualCrc = crc(payload.array(), 0, length);
        if (actualCrc != expectedCrc) {
          damage = "the record at offset " + position + " fails its checksum (stored "
              + Long.toHexString(expectedCrc) + ", computed " + Long.toHexString(actualCrc)
              + "; hardware problem or damage at rest?)";
        } else {
          payloads.add(ByteBuffer.wrap(Arrays.copyOf(payload.array(), length)));
          position += recordHeader + length;
        }
      }
    }
    long torn = size - position;
    if (damage != null && !(torn <= MAX_TORN_BYTES && allZero(ch, position, size))) {
      throw corrupt(path, damage + ", with " + payloads.size() + " whole records before it and " + torn
          + " bytes from it to the end: more than a crash can leave; the file is left as is for inspection");
    }
    DeliveryLedger l = new DeliveryLedger(path, ch, torn);
    for (ByteBuffer p : payloads) {
      l.apply(p, position);
    }
    if (version == 1) {
      l.rewriteAsCurrentVersion(payloads);
    } else if (torn > 0) {
      // A crash tore the last append; nothing was acknowledged by it, so dropping it loses nothing.
      ch.truncate(position);
      ch.force(true);
    }
    l.channel.position(l.channel.size());
    return l;
  }

  /** The offset of the first whole, checksummed version 1 record at or after {@code from}, or -1. */
  private static long wholeV1RecordAfter(FileChannel ch, long from, long size) throws IOException {
    // Bounded: only called when a record runs past the end, so fewer than one record's bytes are left.
    byte[] rest = new byte[(int) (size - from)];
    readFully(ch, ByteBuffer.wrap(rest), from);
    ByteBuffer b = ByteBuffer.wrap(rest);
    for (int at = 0; at + V1_RECORD_HEADER_BYTES + MIN_PAYLOAD_BYTES <= rest.length; at++) {
      int length = b.getInt(at);
      if (length >= MIN_PAYLOAD_BYTES && length <= rest.length - at - V1_RECORD_HEADER_BYTES
          && crc(rest, at + V1_RECORD_HEADER_BYTES, length) == (b.getInt(at + 4) & 0xffff_ffffL)) {
        return from + at;
      }
    }
    return -1;
  }

  private static boolean allZero(FileChannel ch, long from, long to) throws IOException {
    ByteBuffer b = ByteBuffer.allocate((int) (to - from));
    readFully(ch, b, from);
    for (byte x : b.array()) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Replaces a version 1 file by a version 2 file holding the same records, atomically (write aside, fsync,
   * rename over, fsync the folder): a crash leaves either file whole, and the old one is read again.
   */
  @SuppressWarnings("ByteBufferBackingArray") // each payload wraps a whole array of its own (see open)
  private void rewriteAsCurrentVersion(List<ByteBuffer> payloads) throws IOException {
    Path upgrade = path.resolveSibling(path.getFileName() + UPGRADE_SUFFIX);
    try (FileChannel out = FileChannel.open(upgrade, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      long at = writeFully(out, ByteBuffer.wrap(header(VERSION)), 0);
      for (ByteBuffer p : payloads) {
        at = writeFully(out, record(p.array()), at);
      }
      out.force(true);
    }
    channel.close();
    Files.move(upgrade, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    AtomicFiles.fsyncDirectory(folderOf(path));
    channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
  }

  private static long crc(byte[] b, int offset, int length) {
    CRC32 crc = new CRC32();
    crc.update(b, offset, length);
    return crc.getValue();
  }

  private void apply(ByteBuffer p, long offset) throws InboxException {
    try {
      int type = p.get() & 0xff;
      byte[] fp = new byte[32];
      p.get(fp);
      Fingerprint f = Fingerprint.of(fp);
      if (type == TYPE_PENDING) {
        boolean relayed = p.get() != 0;
        long length = p.getLong();
        byte[] sha = new byte[32];
        p.get(sha);
        long expires = p.getLong();
        byte[] receipt = new byte[Receipts.ENCODED_BYTES];
        p.get(receipt);
        int nameLength = p.getShort() & 0xffff;
        if (nameLength > MAX_NAME_BYTES || nameLength != p.remaining()) {
          throw new IllegalArgumentException("name length " + nameLength + ", " + p.remaining() + " bytes left");
        }
        byte[] nameBytes = new byte[nameLength];
        p.get(nameBytes);
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        // Recovery resolves this name in the inbox folder: it must be one plain file name, exactly what
        // FileNames produces, never a path (fuzz finding F8).
        if (name.isEmpty() || !FileNames.sanitize(name).equals(name)) {
          throw new IllegalArgumentException("name \"" + name.replaceAll("\\p{Cntrl}", "?")
              + "\" is not a plain file name");
        }
        // The receipt handed out for a re-delivery must be for this very envelope (fuzz finding F7).
        io.crowdbackup.api.Receipt decoded;
        try {
          decoded = Receipts.decode(receipt);
        } catch (io.crowdbackup.api.ReceiptException ex) {
          throw new IllegalArgumentException("receipt does not decode: " + ex.getMessage());
        }
        if (!decoded.fingerprint().equals(f)) {
          throw new IllegalArgumentException("receipt names " + decoded.fingerprint() + ", the record " + f);
        }
        pending.put(f, new Entry(f, relayed, length, sha, expires, receipt, name));
      } else if (type == TYPE_DONE || type == TYPE_ABORTED) {
        Entry e = pending.remove(f);
        if (e == null) {
          throw new IllegalArgumentException("type " + type + " for " + f + " without a PENDING record");
        }
        if (type == TYPE_DONE) {
          done.put(f, e);
        }
      } else {
        throw new IllegalArgumentException("record type " + type + " is undefined");
      }
    } catch (RuntimeException e) {
      // The CRC matched, so the bytes are as written: this is a writer bug or a newer format, not a tear.
      throw new InboxException(InboxException.Reason.LEDGER_CORRUPT, path,
          "a checksummed record before offset " + offset + " does not decode: " + e.getMessage());
    }
  }

  /** The folder of the ledger file, which Inbox always places in its state folder. */
  private static Path folderOf(Path ledgerFile) {
    return Objects.requireNonNull(ledgerFile.toAbsolutePath().getParent(), "folder of the delivery ledger");
  }

  /** The completed delivery of a fingerprint, or {@code null}. */
  @Nullable Entry delivered(Fingerprint fingerprint) {
    return done.get(fingerprint);
  }

  /** PENDING records without an outcome, as left by a crash; resolved by the inbox on open. */
  List<Entry> unresolved() {
    return Collections.unmodifiableList(new ArrayList<>(pending.values()));
  }

  int deliveredCount() {
    return done.size();
  }

  long tornBytesDiscarded() {
    return tornBytesDiscarded;
  }

  Path path() {
    return path;
  }

  void appendPending(Entry e) throws IOException {
    byte[] name = e.name.getBytes(StandardCharsets.UTF_8);
    if (name.length > MAX_NAME_BYTES) {
      throw new IllegalArgumentException("name is " + name.length + " UTF-8 bytes, at most " + MAX_NAME_BYTES);
    }
    ByteBuffer p = ByteBuffer.allocate(1 + 32 + 1 + 8 + 32 + 8 + Receipts.ENCODED_BYTES + 2 + name.length);
    p.put((byte) TYPE_PENDING).put(e.fingerprint.toBytes()).put((byte) (e.relayed ? 1 : 0))
        .putLong(e.publishedLengthBytes).put(e.publishedSha256).putLong(e.expiresAtEpochSecond).put(e.receipt)
        .putShort((short) name.length).put(name);
    append(p.array());
    pending.put(e.fingerprint, e);
  }

  void appendDone(Fingerprint f) throws IOException {
    Entry e = pending.get(f);
    if (e == null) {
      throw new IllegalStateException("no PENDING record for " + f);
    }
    append(outcome(TYPE_DONE, f));
    pending.remove(f);
    done.put(f, e);
  }

  void appendAborted(Fingerprint f) throws IOException {
    if (!pending.containsKey(f)) {
      throw new IllegalStateException("no PENDING record for " + f);
    }
    append(outcome(TYPE_ABORTED, f));
    pending.remove(f);
  }

  private static byte[] outcome(int type, Fingerprint f) {
    return ByteBuffer.allocate(33).put((byte) type).put(f.toBytes()).array();
  }

  /** A record in the current framing, ready to write. */
  private static ByteBuffer record(byte[] payload) {
    ByteBuffer r = ByteBuffer.allocate(RECORD_HEADER_BYTES + payload.length);
    r.putInt(payload.length).putInt((int) crc(payload, 0, payload.length));
    r.putInt((int) crc(r.array(), 0, 8)).put(payload);
    ((Buffer) r).flip();
    return r;
  }

  private void append(byte[] payload) throws IOException {
    ByteBuffer r = record(payload);
    long start = channel.position();
    try {
      writeFully(channel, r, start);
      channel.force(false);
      channel.position(start + r.capacity());
    } catch (IOException e) {
      // Leave no half record behind a live writer: cut back to the last whole one (best effort; a torn
      // tail is also cut on the next open).
      try {
        channel.truncate(start);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw InboxException.io(path, "appending a ledger record failed: " + e, e);
    }
  }

  /** Writes all of {@code b} at {@code at}; returns the offset after it. */
  private static long writeFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
    long p = at;
    while (b.hasRemaining()) {
      p += ch.write(b, p);
    }
    return p;
  }

  private static int readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
    int total = 0;
    while (b.hasRemaining()) {
      int n = ch.read(b, at + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
