package io.crowdbackup.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    try (TempFiles.Output temp = TempFiles.create(dir)) {
      temp.writeFully(ByteBuffer.wrap(bytes));
      temp.force();
      if (!secret && Files.getFileStore(temp.path).supportsFileAttributeView("posix")) {
        Files.setPosixFilePermissions(temp.path, PosixFilePermissions.fromString("rw-r--r--"));
      }
      if (!temp.publishNoReplace(target)) {
        throw new FileAlreadyExistsException(target.toString(), null, "refusing to replace it");
      }
    }
  }

  static void createFolder(Path dir) throws IOException {
    Files.createDirectories(dir);
  }
}
