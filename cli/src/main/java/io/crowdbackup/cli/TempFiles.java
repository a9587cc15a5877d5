package io.crowdbackup.cli;

import io.crowdbackup.engine.inbox.AtomicFiles;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The CLI's temporary files ({@code .crowdbackup-tmp-<digits>.part} beside the file they become). Their
 * bytes are unverified until published (for {@code open}, plaintext whose envelope has not been checked to
 * the end), so none may outlive the command: an interrupt (SIGINT, SIGTERM) deletes the live ones from a
 * shutdown hook, and a command that writes into a folder first removes what a {@code kill -9} left there.
 */
final class TempFiles {
  /** Exactly the names {@link AtomicFiles#createTemp} makes, and nothing a user would name a file. */
  static final Pattern OURS = Pattern.compile(Pattern.quote(AtomicFiles.TEMP_PREFIX) + "[0-9]+\\.part");

  private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();
  /** Folders whose temporary files all belong to this process while it holds their lock (an inbox). */
  private static final Set<Path> OWNED_FOLDERS = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(TempFiles::deleteLive, "crowdbackup-temp-cleanup"));
  }

  private TempFiles() {}

  /** A new temporary file in {@code dir}, deleted if the process is interrupted before {@link #done}. */
  static Path create(Path dir) throws IOException {
    Path temp = AtomicFiles.createTemp(dir);
    LIVE.add(temp);
    return temp;
  }

  /** The temporary file was published (it no longer exists under its temporary name) or deleted. */
  static void done(Path temp) {
    if (temp != null) {
      LIVE.remove(temp);
    }
  }

  /** Deletes a temporary file that will not be published, best effort. */
  static void delete(Path temp) {
    if (temp == null) {
      return;
    }
    try {
      Files.deleteIfExists(temp);
    } catch (IOException ignored) {
      // Left for the next run in this folder, which removes it (removeStale).
    }
    done(temp);
  }

  /**
   * Marks a folder (an open inbox) whose every temporary file is this process's while it holds the folder's
   * lock: an interrupt deletes them all. Undone by {@link #release}.
   */
  static void own(Path dir) {
    OWNED_FOLDERS.add(dir);
  }

  static void release(Path dir) {
    OWNED_FOLDERS.remove(dir);
  }

  /**
   * Removes our temporary files in {@code dir} that are older than this run: what a killed run left. A
   * newer one may be another run's, still being written, and is kept.
   *
   * @return how many were removed
   */
  static int removeStale(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    long runStartMillis = ManagementFactory.getRuntimeMXBean().getStartTime();
    int removed = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, AtomicFiles.TEMP_PREFIX + "*")) {
      for (Path p : entries) {
        if (OURS.matcher(p.getFileName().toString()).matches() && !LIVE.contains(p)
            && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
            && Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() < runStartMillis
            && Files.deleteIfExists(p)) {
          removed++;
        }
      }
    }
    return removed;
  }

  private static void deleteLive() {
    for (Path p : LIVE) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // Shutting down: the next run in this folder removes it.
      }
    }
    for (Path dir : OWNED_FOLDERS) {
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, AtomicFiles.TEMP_PREFIX + "*")) {
        for (Path p : entries) {
          if (OURS.matcher(p.getFileName().toString()).matches()) {
            Files.deleteIfExists(p);
          }
        }
      } catch (IOException ignored) {
        // As above: the inbox removes its leftovers when it next opens.
      }
    }
  }
}
