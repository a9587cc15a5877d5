package io.crowdbackup.cli;

import io.crowdbackup.engine.inbox.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Small files the CLI writes whole: key files, cards, receipts. Temp, fsync, no-replace publish. */
final class OutputFiles {
  private OutputFiles() {}

  /**
   * Writes {@code bytes} as {@code target}, never replacing an existing file.
   *
   * @param secret keep the owner-only permissions of the temporary file (0600); otherwise 0644
   */
  static void writeNew(Path target, byte[] bytes, boolean secret) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Path temp = AtomicFiles.createTemp(dir);
    try {
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      if (!secret && Files.getFileStore(temp).supportsFileAttributeView("posix")) {
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--"));
      }
      if (!AtomicFiles.publishNoReplace(temp, target)) {
        throw new FileAlreadyExistsException(target.toString(), null, "refusing to replace it");
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  static void createFolder(Path dir) throws IOException {
    Files.createDirectories(dir);
  }
}
