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
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The inbox's durable memory of what it delivered: an append-only file of checksummed records, each
 * appended with one write and fsynced before the call returns.
 *
 * <pre>
 *   file   = "CBDL" | u16 version = 1 | u16 zero | record*
 *   record = u32 payload length | u32 CRC-32 of payload | payload
 *   payload (PENDING, type 1) = u8 type | fingerprint (32) | u8 kind (0 file, 1 relayed envelope)
 *            | u64 published length | published SHA-256 (32) | u64 expiresAtEpochSecond
 *            | receipt (143) | u16 name length | name (UTF-8)
 *   payload (DONE 2, ABORTED 3) = u8 type | fingerprint (32)
 * </pre>
 *
 * A delivery appends PENDING (naming the file it is about to publish, with the file's length and SHA-256
 * and the already-signed receipt) before publishing, and DONE after the file and its folder entry are
 * durable. A crash can therefore leave at most a PENDING without DONE, which the inbox resolves on open by
 * looking at the named file, and at most one torn record at the end, which is cut off. Damage anywhere
 * else (more garbage than one record could leave) is reported, not repaired.
 *
 * <p>Buffer position calls go through {@link Buffer}: the covariant {@code ByteBuffer} overrides are Java 9+
 * and absent on Android API 26, which this module must run on.
 */
final class DeliveryLedger implements Closeable {
  static final String FILE_NAME = "delivered.ledger";
  private static final byte[] MAGIC = {'C', 'B', 'D', 'L'};
  static final int VERSION = 1;
  static final int FILE_HEADER_BYTES = 8;
  static final int RECORD_HEADER_BYTES = 8;
  static final int TYPE_PENDING = 1;
  static final int TYPE_DONE = 2;
  static final int TYPE_ABORTED = 3;
  static final int MAX_NAME_BYTES = 1024;
  static final int MAX_PAYLOAD_BYTES = 1 + 32 + 1 + 8 + 32 + 8 + Receipts.ENCODED_BYTES + 2 + MAX_NAME_BYTES;
  /** One torn append leaves at most this many bytes after the last whole record. */
  static final int MAX_TORN_BYTES = RECORD_HEADER_BYTES + MAX_PAYLOAD_BYTES;

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
  private final FileChannel channel;
  private final Map<Fingerprint, Entry> done = new HashMap<>();
  private final Map<Fingerprint, Entry> pending = new LinkedHashMap<>();
  private final long tornBytesDiscarded;

  private DeliveryLedger(Path path, FileChannel channel, long tornBytesDiscarded) {
    this.path = path;
    this.channel = channel;
    this.tornBytesDiscarded = tornBytesDiscarded;
  }

  /** Opens (creating if absent) and replays the ledger, cutting off a torn last record. */
  static DeliveryLedger open(Path path) throws IOException {
    boolean created = !Files.exists(path);
    FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    try {
      // Shorter than its header: the crash came while the file was being created, so it holds no record.
      if (created || ch.size() < FILE_HEADER_BYTES) {
        ByteBuffer h = ByteBuffer.allocate(FILE_HEADER_BYTES);
        h.put(MAGIC).putShort((short) VERSION).putShort((short) 0);
        ((Buffer) h).flip();
        ch.truncate(0);
        writeFully(ch, h, 0);
        ch.force(true);
        AtomicFiles.fsyncDirectory(path.getParent());
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

  private static DeliveryLedger replay(Path path, FileChannel ch) throws IOException {
    long size = ch.size();
    ByteBuffer h = ByteBuffer.allocate(FILE_HEADER_BYTES);
    if (readFully(ch, h, 0) < FILE_HEADER_BYTES) {
      throw new InboxException(InboxException.Reason.LEDGER_CORRUPT, path,
          "file is " + size + " bytes, shorter than its " + FILE_HEADER_BYTES + "-byte header");
    }
    ((Buffer) h).flip();
    byte[] magic = new byte[4];
    h.get(magic);
    int version = h.getShort() & 0xffff;
    if (!Arrays.equals(magic, MAGIC) || version != VERSION) {
      throw new InboxException(InboxException.Reason.LEDGER_CORRUPT, path, "header is not \"CBDL\" version "
          + VERSION + " (magic " + new String(magic, StandardCharsets.ISO_8859_1) + ", version " + version + ")");
    }
    List<ByteBuffer> payloads = new ArrayList<>();
    long position = FILE_HEADER_BYTES;
    ByteBuffer rh = ByteBuffer.allocate(RECORD_HEADER_BYTES);
    ByteBuffer payload = ByteBuffer.allocate(MAX_PAYLOAD_BYTES);
    CRC32 crc = new CRC32();
    while (position < size) {
      ((Buffer) rh).clear();
      if (readFully(ch, rh, position) < RECORD_HEADER_BYTES) {
        break;
      }
      ((Buffer) rh).flip();
      int length = rh.getInt();
      long expectedCrc = rh.getInt() & 0xffff_ffffL;
      if (length < 33 || length > MAX_PAYLOAD_BYTES || position + RECORD_HEADER_BYTES + length > size) {
        break;
      }
      ((Buffer) payload).clear().limit(length);
      readFully(ch, payload, position + RECORD_HEADER_BYTES);
      crc.reset();
      crc.update(payload.array(), 0, length);
      if (crc.getValue() != expectedCrc) {
        break;
      }
      payloads.add(ByteBuffer.wrap(Arrays.copyOf(payload.array(), length)));
      position += RECORD_HEADER_BYTES + length;
    }
    long torn = size - position;
    if (torn > MAX_TORN_BYTES) {
      throw new InboxException(InboxException.Reason.LEDGER_CORRUPT, path, "record at offset " + position
          + " is damaged and " + torn + " bytes follow it, more than one torn append (" + MAX_TORN_BYTES
          + ") can leave; the file is left as is for inspection");
    }
    DeliveryLedger l = new DeliveryLedger(path, ch, torn);
    for (ByteBuffer p : payloads) {
      l.apply(p, position);
    }
    if (torn > 0) {
      // A crash tore the last append; nothing was acknowledged by it, so dropping it loses nothing.
      ch.truncate(position);
      ch.force(true);
    }
    ch.position(position);
    return l;
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

  /** The completed delivery of a fingerprint, or {@code null}. */
  Entry delivered(Fingerprint fingerprint) {
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

  private void append(byte[] payload) throws IOException {
    CRC32 crc = new CRC32();
    crc.update(payload, 0, payload.length);
    ByteBuffer r = ByteBuffer.allocate(RECORD_HEADER_BYTES + payload.length);
    r.putInt(payload.length).putInt((int) crc.getValue()).put(payload);
    ((Buffer) r).flip();
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
      throw new InboxException(InboxException.Reason.IO, path, "appending a ledger record failed", e);
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
    long p = at;
    while (b.hasRemaining()) {
      p += ch.write(b, p);
    }
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
