package io.crowdbackup.cli;

import io.crowdbackup.engine.inbox.SafeFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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
  /** Exactly the names {@link SafeFiles#createTemp} makes, and nothing a user would name a file. */
  static final Pattern OURS = Pattern.compile(Pattern.quote(SafeFiles.TEMP_PREFIX) + "[0-9]+\\.part");

  private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();
  /** Folders whose temporary files all belong to this process while it holds their lock (an inbox). */
  private static final Set<Path> OWNED_FOLDERS = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(TempFiles::deleteLive, "crowdbackup-temp-cleanup"));
  }

  private TempFiles() {}

  /** A new temporary file in {@code dir}, open for writing, deleted on an interrupt or when closed unpublished. */
  static Output create(Path dir) throws IOException {
    Path temp = SafeFiles.createTemp(dir);
    LIVE.add(temp);
    try {
      return new Output(temp, FileChannel.open(temp, StandardOpenOption.WRITE));
    } catch (IOException | RuntimeException e) {
      delete(temp);
      throw e;
    }
  }

  private static void delete(Path temp) {
    try {
      Files.deleteIfExists(temp);
    } catch (IOException ignored) {
      // Left for the next run in this folder, which removes it (removeStale).
    }
    LIVE.remove(temp);
  }

  /**
   * Marks a folder (an open inbox) whose every temporary file is this process's while it holds the folder's
   * lock, so that an interrupt deletes them all. Undone by {@link #release}.
   */
  static void own(Path dir) {
    OWNED_FOLDERS.add(dir);
  }

  static void release(Path dir) {
    OWNED_FOLDERS.remove(dir);
  }

  /**
   * Removes our temporary files in {@code dir} that are older than this run: what a killed run left. A
   * newer one may be another run's, still being written, and is kept. Says on stderr what it removed.
   */
  static void removeStale(Path dir, PrintWriter err, GlobalOptions globals) throws CliException {
    int removed = 0;
    try {
      if (!Files.isDirectory(dir)) {
        return;
      }
      long runStartMillis = ManagementFactory.getRuntimeMXBean().getStartTime();
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, SafeFiles.TEMP_PREFIX + "*")) {
        for (Path p : entries) {
          if (OURS.matcher(p.getFileName().toString()).matches() && !LIVE.contains(p)
              && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
              && Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() < runStartMillis
              && Files.deleteIfExists(p)) {
            removed++;
          }
        }
      }
    } catch (IOException e) {
      throw Failures.io(dir, e);
    }
    if (removed > 0 && !globals.json) {
      err.println("crowdbackup: removed " + removed + " temporary file" + (removed == 1 ? "" : "s")
          + " that an interrupted run left in " + dir);
    }
  }

  private static void deleteLive() {
    for (Path p : LIVE) {
      delete(p);
    }
    for (Path dir : OWNED_FOLDERS) {
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, SafeFiles.TEMP_PREFIX + "*")) {
        for (Path p : entries) {
          if (OURS.matcher(p.getFileName().toString()).matches()) {
            Files.deleteIfExists(p);
          }
        }
      } catch (IOException ignored) {
        // Shutting down: the inbox removes its leftovers when it next opens.
      }
    }
  }

  /**
   * A temporary file being written. A write or fsync failure names the file (which {@link Failures} reports
   * as its folder); closing it unpublished deletes it.
   */
  static final class Output implements WritableByteChannel {
    final Path path;
    private final FileChannel channel;
    private boolean published;

    private Output(Path path, FileChannel channel) {
      this.path = path;
      this.channel = channel;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      try {
        return channel.write(src);
      } catch (IOException e) {
        throw failed(e);
      }
    }

    /** Writes all of {@code bytes}. */
    void writeFully(ByteBuffer bytes) throws IOException {
      while (bytes.hasRemaining()) {
        write(bytes);
      }
    }

    void force() throws IOException {
      try {
        channel.force(true);
      } catch (IOException e) {
        throw failed(e);
      }
    }

    /** Publishes the fsynced file as {@code target} unless that name is taken (then false; it is deleted on close). */
    boolean publishNoReplace(Path target) throws IOException {
      published = SafeFiles.publishNoReplace(path, target);
      return published;
    }

    /** Publishes the fsynced file under a safe form of {@code untrustedName} or its first free clash name. */
    Path publishUnique(String untrustedName) throws IOException {
      Path p = SafeFiles.publishUnique(path, untrustedName);
      published = true;
      return p;
    }

    /** Replaces {@code target} with the fsynced file, atomically. */
    void replace(Path target) throws IOException {
      Files.move(path, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      published = true;
    }

    private IOException failed(IOException e) {
      if (e instanceof FileSystemException) {
        return e;
      }
      FileSystemException f = new FileSystemException(path.toString(), null, e.getMessage());
      f.initCause(e);
      return f;
    }

    @Override
    public boolean isOpen() {
      return channel.isOpen();
    }

    @Override
    public void close() throws IOException {
      try {
        channel.close();
      } finally {
        if (published) {
          LIVE.remove(path);
        } else {
          delete(path);
        }
      }
    }
  }
}
