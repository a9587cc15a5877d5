package io.crowdbackup.engine.inbox;

import java.io.IOException;
import java.nio.file.Path;

/**
 * How a front-end writes a file that must never be seen half-written or replace another one: write into
 * {@link #createTemp a temporary file}, force it, {@link #publishNoReplace publish} it under its name (or
 * {@link #publishUnique a free variant} of an untrusted name), then {@link #fsyncDirectory sync the folder}.
 * The inbox publishes opened files the same way.
 */
public final class SafeFiles {
  /** Every temporary file {@link #createTemp} makes starts with this; published names never do. */
  public static final String TEMP_PREFIX = AtomicFiles.TEMP_PREFIX;

  private SafeFiles() {}

  /** A new, empty temporary file in {@code dir}, readable by its owner only where the platform allows. */
  public static Path createTemp(Path dir) throws IOException {
    return AtomicFiles.createTemp(dir);
  }

  /**
   * Gives the forced file {@code temp} the name {@code target} (same folder) unless that name is taken.
   *
   * @return false, with {@code temp} untouched, when {@code target} exists
   */
  public static boolean publishNoReplace(Path temp, Path target) throws IOException {
    return AtomicFiles.publishNoReplace(temp, target);
  }

  /**
   * Publishes the forced file {@code temp} in its folder under {@code untrustedName} made safe (no path,
   * no control characters, bounded length), or the first free {@code "name (2).ext"}; never replaces.
   *
   * @throws InboxException NAMES_EXHAUSTED when every variant is taken
   */
  public static Path publishUnique(Path temp, String untrustedName) throws IOException {
    return AtomicFiles.publishUnique(temp, FileNames.sanitize(untrustedName));
  }

  /** Makes the folder's created, renamed and removed entries durable (a no-op where unsupported). */
  public static void fsyncDirectory(Path dir) throws IOException {
    AtomicFiles.fsyncDirectory(dir);
  }

  /** Whether {@code e} or a cause is the device running out of space. */
  public static boolean isDiskFull(Throwable e) {
    return AtomicFiles.isDiskFull(e);
  }
}
