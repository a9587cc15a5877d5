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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

  /**
   * Bytes written between two background fsyncs of an {@link Output}: small enough that the final fsync
   * finds little left to write back, large enough that the fsyncs cost next to nothing.
   */
  static final long FLUSH_BEHIND_BYTES = 32L << 20;

  /** Runs the background fsyncs of every Output, one at a time (they share one disk). */
  private static final ExecutorService FLUSHER = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "crowdbackup-flush-behind");
    t.setDaemon(true);
    return t;
  });

  /** A new temporary file in {@code dir}, open for writing, deleted on an interrupt or when closed unpublished. */
  static Output create(Path dir) throws IOException {
    return create(dir, FileChannel::force, FLUSH_BEHIND_BYTES);
  }

  /** How an Output fsyncs its channel: {@link FileChannel#force}, or a test's fault seam. */
  @FunctionalInterface
  interface Fsync {
    void force(FileChannel channel, boolean metaData) throws IOException;
  }

  /** {@link #create(Path)} with another fsync (a test's fault seam) and another flush-behind distance. */
  static Output create(Path dir, Fsync fsync, long flushBehindBytes) throws IOException {
    Path temp = SafeFiles.createTemp(dir);
    LIVE.add(temp);
    try {
      return new Output(temp, FileChannel.open(temp, StandardOpenOption.WRITE), fsync, flushBehindBytes);
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
   *
   * <p>Every {@code flushBehindBytes} written, an fsync of what is in runs on a background thread while the
   * caller goes on writing (sealing), so that the final {@link #force} — which the caller waits for, with the
   * sealing workers idle — finds little left to write back. Linux reports a writeback error to one fsync
   * only: a background fsync's failure is kept and raised by the next write or {@link #force}, and by every
   * force after, so a file whose bytes may not be on disk is never published.
   */
  static final class Output implements WritableByteChannel {
    final Path path;
    private final FileChannel channel;
    private final Fsync fsync;
    private final long flushBehindBytes;
    private long written;
    private long flushedBehindTo;
    private Future<?> flushingBehind; // null when none is in flight
    private IOException flushBehindFailure; // null until a background fsync failed
    private boolean published;

    private Output(Path path, FileChannel channel, Fsync fsync, long flushBehindBytes) {
      this.path = path;
      this.channel = channel;
      this.fsync = fsync;
      this.flushBehindBytes = flushBehindBytes;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n;
      try {
        n = channel.write(src);
      } catch (IOException e) {
        throw failed(e);
      }
      written += n;
      flushBehindIfDue();
      return n;
    }

    /** Starts a background fsync once enough was written since the last one, unless one is still running. */
    private void flushBehindIfDue() throws IOException {
      Future<?> f = flushingBehind;
      if (flushBehindBytes <= 0 || written - flushedBehindTo < flushBehindBytes || (f != null && !f.isDone())) {
        return;
      }
      awaitFlushBehind(); // done already: only collects its outcome
      flushedBehindTo = written;
      flushingBehind = FLUSHER.submit(() -> {
        fsync.force(channel, false);
        return null;
      });
    }

    /** Waits for the background fsync in flight; raises its failure (and every earlier one) as this file's. */
    private void awaitFlushBehind() throws IOException {
      Future<?> f = flushingBehind;
      if (f != null) {
        flushingBehind = null;
        boolean interrupted = false;
        try {
          while (true) {
            try {
              f.get(); // the fsync runs on regardless: its outcome decides what is durable
              break;
            } catch (InterruptedException e) {
              interrupted = true;
            } catch (ExecutionException e) {
              Throwable cause = e.getCause();
              IOException io = cause instanceof IOException ? (IOException) cause : new IOException(cause);
              flushBehindFailure = failed(io);
              break;
            }
          }
        } finally {
          if (interrupted) {
            Thread.currentThread().interrupt();
          }
        }
      }
      if (flushBehindFailure != null) {
        throw flushBehindFailure;
      }
    }

    /** Writes all of {@code bytes}. */
    void writeFully(ByteBuffer bytes) throws IOException {
      while (bytes.hasRemaining()) {
        write(bytes);
      }
    }

    /** Makes the file durable: waits for the background fsync, raises its failure, then fsyncs the rest. */
    void force() throws IOException {
      awaitFlushBehind();
      try {
        fsync.force(channel, true);
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
        try {
          awaitFlushBehind(); // not under a closing channel; a failure here only matters if published
        } catch (IOException ignored) {
          // Raised by force() already if this file was to be published; otherwise it is deleted below.
        }
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
