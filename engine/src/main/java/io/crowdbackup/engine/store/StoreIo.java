package io.crowdbackup.engine.store;

import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreException.Reason;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** File helpers and the mapping from JDK exceptions to {@link StoreException} reasons. */
final class StoreIo {
  private static final boolean WINDOWS = java.io.File.separatorChar == '\\';

  private StoreIo() {}

  static void writeFully(FileChannel ch, ByteBuffer src, long position) throws IOException {
    while (src.hasRemaining()) {
      position += ch.write(src, position);
    }
  }

  static void writeFully(FileChannel ch, ByteBuffer src) throws IOException {
    while (src.hasRemaining()) {
      ch.write(src);
    }
  }

  /** Fills {@code dst} from {@code position}; throws {@link EOFException} if the file ends first. */
  static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
    while (dst.hasRemaining()) {
      int n = ch.read(dst, position);
      if (n < 0) {
        throw new EOFException("file ends at " + position + " with " + dst.remaining() + " bytes still expected");
      }
      position += n;
    }
  }

  /**
   * The first {@code max} bytes of a small file of the store (fewer if it is shorter): what a reader of a
   * fixed-size record needs to tell "right length" from "longer", without reading a damaged file whole.
   */
  static byte[] readAtMost(FileOpener opener, Path file, int max) throws IOException {
    try (FileChannel ch = opener.open(file, java.util.EnumSet.of(StandardOpenOption.READ))) {
      ByteBuffer b = ByteBuffer.allocate(max);
      return java.util.Arrays.copyOf(b.array(), readUpTo(ch, b, 0));
    }
  }

  /** Reads up to {@code dst.remaining()} bytes; returns how many (fewer only at the end of the file). */
  static int readUpTo(FileChannel ch, ByteBuffer dst, long position) throws IOException {
    int total = 0;
    while (dst.hasRemaining()) {
      int n = ch.read(dst, position + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  /**
   * Makes a directory's entries (creates, renames, deletes) durable. On Linux and Android an fsync of the
   * directory is what does it; without it a rename that returned may vanish in a power cut.
   */
  static void fsyncDirectory(FileOpener opener, Path dir) throws IOException {
    if (WINDOWS) {
      // Windows cannot open a directory as a channel; NTFS journals its directory entries itself.
      return;
    }
    try (FileChannel ch = opener.open(dir, Collections.singleton(StandardOpenOption.READ))) {
      ch.force(true);
    }
  }

  /** The directory holding a store file: every store file lies under the store's root, so it has one. */
  static Path parentOf(Path file) {
    return Objects.requireNonNull(file.getParent(), () -> "directory of store file " + file);
  }

  static boolean deleteIfExists(Path p) throws IOException {
    return Files.deleteIfExists(p);
  }

  /** Maps an I/O failure to a typed store error naming the path and what a person can do. */
  static StoreException wrap(IOException e, @Nullable Path path, String action) {
    if (e instanceof StoreException) {
      return (StoreException) e;
    }
    String where = path == null ? null : path.toString();
    if (isDiskFull(e)) {
      return new StoreException(Reason.DISK_FULL, where,
          action + " failed: no space left on the device; free space or lower the store's quota", e);
    }
    if (e instanceof AccessDeniedException) {
      return new StoreException(Reason.PERMISSION_DENIED, where,
          action + " failed: permission denied; check the owner and mode of the store directory", e);
    }
    if (e instanceof NoSuchFileException) {
      return new StoreException(Reason.IO_ERROR, where,
          action + " failed: a store file is missing (" + ((FileSystemException) e).getFile()
              + "); was the store directory changed by another program?", e);
    }
    return new StoreException(Reason.IO_ERROR, where, action + " failed: " + e, e);
  }

  static boolean isDiskFull(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      if (m != null && (m.contains("No space left on device") || m.contains("ENOSPC")
          || m.contains("There is not enough space on the disk") || m.contains("Disk quota exceeded"))) {
        return true;
      }
    }
    return false;
  }
}
