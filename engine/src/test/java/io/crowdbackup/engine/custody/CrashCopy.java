package io.crowdbackup.engine.custody;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * A crash, in process: a copy of a running holder's directory as the disk holds it now. Opening the copy
 * is opening after {@code kill -9} at this instant (no clean-shutdown marker, the index as it was), which
 * the store then reconciles; the real SIGKILL crash test of the store lives in the store's tests.
 */
public final class CrashCopy {
  private CrashCopy() {}

  public static Path snapshot(Path dir) throws IOException {
    Path target = dir.resolveSibling(dir.getFileName() + "-crash-" + System.nanoTime());
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Path t = target.resolve(dir.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else if (!p.getFileName().toString().equals("LOCK")) {
          Files.copy(p, t);
        }
      }
    }
    return target;
  }
}
