package io.crowdbackup.engine.store;

import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreException.Reason;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Opens the store's own files without following symbolic links: a link planted where the store keeps a
 * file of its own (say {@code groups/<g>/states.log} pointing at a file outside) would otherwise have the
 * store read, truncate or overwrite whatever it points at. Such a link is refused with
 * {@link Reason#UNSAFE_LINK} naming it; nothing it points at is touched.
 */
final class NoFollowOpener implements FileOpener {
  private final FileOpener inner;

  private NoFollowOpener(FileOpener inner) {
    this.inner = inner;
  }

  static FileOpener wrap(FileOpener opener) {
    return opener instanceof NoFollowOpener ? opener : new NoFollowOpener(opener);
  }

  @Override
  public FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException {
    Set<OpenOption> noFollow = new HashSet<>(options);
    noFollow.add(LinkOption.NOFOLLOW_LINKS);
    try {
      return inner.open(path, noFollow);
    } catch (IOException e) {
      requireNotLink(path); // ELOOP says only "too many levels of symbolic links": say which and why
      throw e;
    }
  }

  /**
   * Whether {@code dir} is a directory, refusing it if it is a symbolic link: one {@code lstat}, where
   * {@link #requireNotLink} then {@link Files#isDirectory} cost two (every commit asks it of its group).
   */
  static boolean isDirectoryNotLink(Path dir) throws StoreException {
    java.nio.file.attribute.BasicFileAttributes a;
    try {
      a = Files.readAttributes(dir, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return false; // absent (or unreadable: creating it then fails with the error that says why)
    }
    if (a.isSymbolicLink()) {
      throw unsafeLink(dir);
    }
    return a.isDirectory();
  }

  /** Refuses {@code path} if it is a symbolic link. */
  static void requireNotLink(Path path) throws StoreException {
    if (Files.isSymbolicLink(path)) {
      throw unsafeLink(path);
    }
  }

  private static StoreException unsafeLink(Path path) {
    return new StoreException(Reason.UNSAFE_LINK, path.toString(), path + " is a symbolic link where the store "
        + "keeps a file or folder of its own; the store never follows links inside its folder (one could make it "
        + "write outside). Replace the link with what it points at, or remove it");
  }
}
