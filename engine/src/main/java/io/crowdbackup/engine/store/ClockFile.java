package io.crowdbackup.engine.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * The custody clock's high-water mark on disk: the latest custody time this holder recorded, so that a
 * wall clock set back while the app was stopped cannot move custody time backwards across a restart (see
 * {@link io.crowdbackup.engine.policy.CustodyClock}).
 *
 * <pre>
 *   magic "CBCLOCK1" (8) | highWaterEpochSecond i64 big-endian (8) | CRC32 of the previous 16 bytes, u32 (4)
 * </pre>
 *
 * Written whole to a temporary file, fsynced and renamed over the old one, so a crash leaves the old or the
 * new mark, never a torn one. A file that fails its checks is an error naming the file, not silently
 * ignored: ignoring it would let a clock set back extend every retention.
 */
public final class ClockFile {
  /** Encoded length. */
  public static final int ENCODED_BYTES = 20;
  private static final byte[] MAGIC = "CBCLOCK1".getBytes(StandardCharsets.US_ASCII);

  private ClockFile() {}

  /**
   * Reads the high-water mark.
   *
   * @return the mark, or {@link Long#MIN_VALUE} if the file does not exist (a new holder)
   * @throws IOException if the file is unreadable, of another length, or fails its magic or checksum
   */
  public static long read(Path file) throws IOException {
    byte[] bytes;
    try (java.nio.channels.FileChannel ch = openNoFollow(file, java.nio.file.StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(ENCODED_BYTES + 1); // never more: the file is untrusted disk bytes
      while (b.hasRemaining() && ch.read(b) >= 0) {
        // read until the buffer is full or the file ends
      }
      bytes = Arrays.copyOf(b.array(), b.position());
    } catch (NoSuchFileException e) {
      return Long.MIN_VALUE;
    }
    if (bytes.length != ENCODED_BYTES) {
      throw new IOException(file + ": custody clock file is " + (bytes.length > ENCODED_BYTES ? "longer than "
          + ENCODED_BYTES + " bytes" : bytes.length + " bytes, expected " + ENCODED_BYTES)
          + " (truncated or not a clock file?); delete it to restart custody time from the wall clock");
    }
    if (!Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
      throw new IOException(file + ": bad magic, expected \"CBCLOCK1\" (not a custody clock file?)");
    }
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, 16);
    long stored = ByteBuffer.wrap(bytes, 16, 4).getInt() & 0xffffffffL;
    if (stored != crc.getValue()) {
      throw new IOException(file + ": checksum failed, stored " + Long.toHexString(stored) + ", computed "
          + Long.toHexString(crc.getValue()) + " (disk fault?); delete it to restart custody time from the wall clock");
    }
    return ByteBuffer.wrap(bytes, 8, 8).getLong();
  }

  /** Durably replaces the mark with {@code highWaterEpochSecond}. */
  public static void write(Path file, long highWaterEpochSecond) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(ENCODED_BYTES);
    b.put(MAGIC).putLong(highWaterEpochSecond);
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, 16);
    b.putInt((int) crc.getValue());
    ((java.nio.Buffer) b).flip();
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel ch = openNoFollow(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    fsyncDirectory(file.toAbsolutePath().getParent());
  }

  /**
   * Opens without following a symbolic link: a link in the holder's folder would have the clock read or
   * written through to a file elsewhere. A link is refused, named.
   */
  private static FileChannel openNoFollow(Path file, java.nio.file.OpenOption... options) throws IOException {
    java.nio.file.OpenOption[] all = Arrays.copyOf(options, options.length + 1);
    all[options.length] = java.nio.file.LinkOption.NOFOLLOW_LINKS;
    try {
      return FileChannel.open(file, all);
    } catch (NoSuchFileException e) {
      throw e;
    } catch (IOException e) {
      if (Files.isSymbolicLink(file)) {
        throw new IOException(file + ": is a symbolic link; the custody clock file is never followed through a "
            + "link (replace the link with the file itself, or remove it)", e);
      }
      throw e;
    }
  }

  private static void fsyncDirectory(Path dir) {
    if (dir == null) {
      return;
    }
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Not supported everywhere (Windows); the file itself was fsynced, and a lost rename only keeps the
      // previous, earlier mark, which errs towards the wall clock.
    }
  }
}
