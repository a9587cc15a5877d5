package io.crowdbackup.engine.inbox;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The write path that makes a file appear whole or not at all: write a temporary file in the target
 * folder, fsync it, give it its final name without ever replacing an existing file, fsync the folder.
 *
 * <p>The no-replace step is a hard link ({@code link(2)} fails atomically with {@code EEXIST}), then the
 * temporary name is removed. {@code rename(2)} would silently replace a file of the same name. On a file
 * system without hard links (FAT, some FUSE mounts) it falls back to an existence check followed by an
 * atomic rename, which is race-free only against writers that hold the folder's lock, as the inbox does.
 */
final class AtomicFiles {
  /** Every temporary file this class creates starts with this; sanitised names never do (no leading dot). */
  public static final String TEMP_PREFIX = ".crowdbackup-tmp-";
  static final String TEMP_SUFFIX = ".part";

  private AtomicFiles() {}

  /** A new, empty temporary file in {@code dir}, readable by its owner only where the platform allows. */
  public static Path createTemp(Path dir) throws IOException {
    // createTempFile uses owner-only permissions on POSIX, and a random name that cannot clash.
    return Files.createTempFile(dir, TEMP_PREFIX, TEMP_SUFFIX);
  }

  /**
   * Gives the fsynced file {@code temp} the name {@code target} (in the same folder) unless that name is
   * taken. On success {@code temp} no longer exists.
   *
   * @return false, with {@code temp} untouched, when {@code target} already exists
   */
  public static boolean publishNoReplace(Path temp, Path target) throws IOException {
    try {
      Files.createLink(target, temp);
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (UnsupportedOperationException | FileSystemException e) {
      if (e instanceof NoSuchFileException) {
        throw (NoSuchFileException) e;
      }
      // No hard links here: check, then rename atomically. Safe because the caller holds the folder lock.
      if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      return true;
    }
    Files.delete(temp);
    return true;
  }

  /**
   * Publishes the fsynced file {@code temp} in its folder under {@code sanitizedName}, or under the first
   * free clash name ({@code "name (2).ext"}, …); never replaces a file. Does not sync the folder.
   *
   * @param sanitizedName a name from {@link FileNames#sanitize}
   * @return the published path
   * @throws InboxException {@link InboxException.Reason#NAMES_EXHAUSTED} when every clash name is taken
   */
  public static Path publishUnique(Path temp, String sanitizedName) throws IOException {
    Path dir = temp.toAbsolutePath().getParent();
    for (int n = 1; n <= FileNames.MAX_CLASH_SUFFIX; n++) {
      Path candidate = dir.resolve(FileNames.candidate(sanitizedName, n));
      if (publishNoReplace(temp, candidate)) {
        return candidate;
      }
    }
    throw new InboxException(InboxException.Reason.NAMES_EXHAUSTED, dir.resolve(sanitizedName),
        "every name up to \"" + FileNames.candidate(sanitizedName, FileNames.MAX_CLASH_SUFFIX) + "\" is taken");
  }

  /**
   * Makes the folder's entries (created, renamed, removed files) durable. A no-op where the platform cannot
   * open a folder for syncing (Windows), which makes renames durable by itself.
   */
  public static void fsyncDirectory(Path dir) throws IOException {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      if (File.separatorChar == '\\') {
        return;
      }
      throw e;
    }
  }

  /** Deletes this class's leftover temporary files in {@code dir}; returns how many. */
  public static int deleteTemps(Path dir) throws IOException {
    int n = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, TEMP_PREFIX + "*")) {
      for (Path p : entries) {
        if (Files.deleteIfExists(p)) {
          n++;
        }
      }
    }
    return n;
  }

  /** Whether {@code e} (or a cause) is the device running out of space, by the platform's message. */
  public static boolean isDiskFull(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      if (m != null && (m.contains("No space left on device") || m.contains("ENOSPC")
          || m.contains("There is not enough space on the disk") || m.contains("Disk quota exceeded"))) {
        return true;
      }
    }
    return false;
  }

  /** Deletes a temporary file after a failure, keeping the original failure as the one reported. */
  static void deleteQuietly(Path temp, Throwable primary) {
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      primary.addSuppressed(e);
    }
  }
}
