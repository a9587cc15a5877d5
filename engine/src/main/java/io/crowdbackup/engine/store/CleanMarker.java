package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreFormat.*;

import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.EnumSet;
import org.jspecify.annotations.Nullable;

/**
 * The clean-shutdown marker ({@code CLEAN}): written last by a clean close, removed (durably) first by
 * open. Its presence means the persisted index and these byte counts match the data files exactly. It
 * names the index implementation, so switching implementations forces a rebuild.
 */
final class CleanMarker {
  final long custodyHeldBytes;
  final long ownHeldBytes;
  final long blobCount;

  private CleanMarker(long custodyHeldBytes, long ownHeldBytes, long blobCount) {
    this.custodyHeldBytes = custodyHeldBytes;
    this.ownHeldBytes = ownHeldBytes;
    this.blobCount = blobCount;
  }

  static void write(FileOpener opener, Path root, String indexName, long custodyHeld, long ownHeld, long blobs)
      throws IOException {
    byte[] name = indexName.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + 2 + 1 + name.length + 24 + 4);
    b.put(CLEAN_MAGIC).putShort((short) VERSION).put((byte) name.length).put(name);
    b.putLong(custodyHeld).putLong(ownHeld).putLong(blobs);
    b.putInt(crc(b.array(), 0, b.position()));
    Path tmp = root.resolve(FileCustodyStore.CLEAN_FILE + ".tmp");
    try (FileChannel ch = opener.open(tmp, EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING))) {
      ((Buffer) b).flip();
      StoreIo.writeFully(ch, b, 0);
      ch.force(true);
    }
    Files.move(tmp, root.resolve(FileCustodyStore.CLEAN_FILE), StandardCopyOption.ATOMIC_MOVE);
    StoreIo.fsyncDirectory(opener, root);
  }

  /**
   * Reads the marker and removes it durably, so that a crash from here on counts as unclean.
   *
   * @return the marker, or {@code null} if it was absent, damaged, or names another index
   */
  static @Nullable CleanMarker readAndRemove(FileOpener opener, Path root, String indexName) throws IOException {
    Path p = root.resolve(FileCustodyStore.CLEAN_FILE);
    Files.deleteIfExists(root.resolve(FileCustodyStore.CLEAN_FILE + ".tmp"));
    if (!Files.exists(p)) {
      return null;
    }
    byte[] name = indexName.getBytes(StandardCharsets.UTF_8);
    int expectedLength = 8 + 2 + 1 + name.length + 24 + 4;
    byte[] b = StoreIo.readAtMost(opener, p, expectedLength + 1);
    Files.delete(p);
    StoreIo.fsyncDirectory(opener, root);
    if (b.length != expectedLength || !Arrays.equals(Arrays.copyOf(b, 8), CLEAN_MAGIC)
        || getU32(b, b.length - 4) != crc(b, 0, b.length - 4)) {
      return null;
    }
    ByteBuffer r = ByteBuffer.wrap(b);
    ((Buffer) r).position(8);
    if ((r.getShort() & 0xffff) != VERSION || (r.get() & 0xff) != name.length) {
      return null;
    }
    byte[] actualName = new byte[name.length];
    r.get(actualName);
    if (!Arrays.equals(actualName, name)) {
      return null;
    }
    return new CleanMarker(r.getLong(), r.getLong(), r.getLong());
  }
}
