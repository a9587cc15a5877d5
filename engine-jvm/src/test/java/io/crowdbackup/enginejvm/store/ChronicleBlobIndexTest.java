package io.crowdbackup.enginejvm.store;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.BlobIndexContractTest;
import io.crowdbackup.engine.store.index.IndexEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import net.openhft.chronicle.map.ChronicleMap;
import org.junit.jupiter.api.Test;

/**
 * The index contract for the Chronicle Map index, and what only a persisted index can get wrong: its map
 * file is opened only when the descriptor written at a clean close proves it unchanged (fuzz finding F10).
 */
class ChronicleBlobIndexTest extends BlobIndexContractTest {
  private static final long MAX_ENTRIES = 50_000;

  @Override
  protected BlobIndex.Factory factory() {
    return ChronicleBlobIndex.factory(MAX_ENTRIES);
  }

  @Override
  protected boolean persists() {
    return true;
  }

  /** A directory holding an index of entries 1..3, closed cleanly (flushed, then closed). */
  private Path closedCleanly() throws IOException {
    Path d = Files.createDirectories(dir.resolve("sealed"));
    try (BlobIndex index = factory().open(d, false)) {
      for (int i = 1; i <= 3; i++) {
        index.put(BlobIndexContractTest.entry(i));
      }
      index.flush();
    }
    return d;
  }

  private void assertRebuilt(Path d) throws IOException {
    try (BlobIndex index = factory().open(d, true)) {
      assertFalse(index.isPopulated(), "an unproven map file was trusted");
      assertEquals(0, index.size());
    }
  }

  @Test
  void aSealedFileIsTrustedAndTheSealIsRemovedWhileOpen() throws IOException {
    Path d = closedCleanly();
    assertTrue(Files.exists(d.resolve(ChronicleBlobIndex.META_FILE)));
    try (BlobIndex index = factory().open(d, true)) {
      assertTrue(index.isPopulated());
      assertEquals(BlobIndexContractTest.entry(2), index.get(BlobIndexContractTest.entry(2).fingerprint()));
      // While the map may change its file, no descriptor vouches for it.
      assertFalse(Files.exists(d.resolve(ChronicleBlobIndex.META_FILE)));
    }
  }

  @Test
  void anIndexClosedWithoutFlushIsNotTrusted() throws IOException {
    Path d = Files.createDirectories(dir.resolve("unflushed"));
    try (BlobIndex index = factory().open(d, false)) {
      index.put(BlobIndexContractTest.entry(1));
    }
    assertFalse(Files.exists(d.resolve(ChronicleBlobIndex.META_FILE)));
    assertRebuilt(d);
  }

  @Test
  void oneChangedByteAnywhereInTheMapFileMakesItUntrusted() throws IOException {
    Path d = closedCleanly();
    Path map = d.resolve(ChronicleBlobIndex.MAP_FILE);
    byte[] sealed = Files.readAllBytes(map);
    byte[] meta = Files.readAllBytes(d.resolve(ChronicleBlobIndex.META_FILE));
    for (int at : new int[] {0, 40, sealed.length / 2, sealed.length - 1}) {
      byte[] damaged = sealed.clone();
      damaged[at] ^= 0x01;
      Files.write(map, damaged);
      Files.write(d.resolve(ChronicleBlobIndex.META_FILE), meta);
      assertRebuilt(d);
    }
  }

  @Test
  void aTornOrExtendedMapFileIsUntrusted() throws IOException {
    Path d = closedCleanly();
    Path map = d.resolve(ChronicleBlobIndex.MAP_FILE);
    byte[] sealed = Files.readAllBytes(map);
    byte[] meta = Files.readAllBytes(d.resolve(ChronicleBlobIndex.META_FILE));
    for (byte[] damaged : new byte[][] {new byte[0], Arrays.copyOf(sealed, 4096), Arrays.copyOf(sealed,
        sealed.length + 4096)}) {
      Files.write(map, damaged);
      Files.write(d.resolve(ChronicleBlobIndex.META_FILE), meta);
      assertRebuilt(d);
    }
  }

  @Test
  void aDamagedOrMissingDescriptorMakesTheFileUntrusted() throws IOException {
    Path d = closedCleanly();
    byte[] meta = Files.readAllBytes(d.resolve(ChronicleBlobIndex.META_FILE));
    Files.delete(d.resolve(ChronicleBlobIndex.META_FILE));
    assertRebuilt(d);

    d = closedCleanly();
    for (int at = 0; at < meta.length; at += 7) {
      byte[] damaged = meta.clone();
      damaged[at] ^= 0x40;
      Files.write(d.resolve(ChronicleBlobIndex.META_FILE), damaged);
      try (BlobIndex index = factory().open(d, true)) {
        assertFalse(index.isPopulated(), "descriptor byte " + at + " changed, still trusted");
        index.put(BlobIndexContractTest.entry(1));
        index.flush();
      }
    }
  }

  @Test
  void anIndexOfAnotherLayoutVersionOrCapacityIsRebuiltNotOpened() throws Exception {
    Path d = closedCleanly();
    Path meta = d.resolve(ChronicleBlobIndex.META_FILE);
    ByteBuffer sealed = ByteBuffer.wrap(Files.readAllBytes(meta));
    long length = sealed.getLong(8 + 4 + 4 + 4 + 8);
    int checksum = sealed.getInt(8 + 4 + 4 + 4 + 8 + 8);
    // The same file, vouched for as another layout: a well-formed descriptor, and still not trusted.
    Files.write(meta, ChronicleBlobIndex.meta(MAX_ENTRIES, ChronicleBlobIndex.LAYOUT_VERSION + 1, length, checksum));
    assertRebuilt(d);

    d = closedCleanly();
    Files.write(d.resolve(ChronicleBlobIndex.META_FILE),
        ChronicleBlobIndex.meta(MAX_ENTRIES, ChronicleBlobIndex.LAYOUT_VERSION, length, checksum));
    // A different capacity is another layout too: the map is sized at creation.
    try (BlobIndex index = ChronicleBlobIndex.factory(60_000).open(d, true)) {
      assertFalse(index.isPopulated());
    }
  }

  @Test
  void aDescriptorOfTheFirstVersionIsNotTrusted() throws IOException {
    Path d = closedCleanly();
    // Version 1 descriptors (28 bytes, written at creation, no checksum of the map) proved nothing.
    byte[] v1 = ByteBuffer.allocate(28).put("CRWDCHIX".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
        .putInt(1).putInt(1).putLong(MAX_ENTRIES).putInt(0).array();
    Files.write(d.resolve(ChronicleBlobIndex.META_FILE), v1);
    assertRebuilt(d);
  }

  @Test
  void aValueThatDoesNotDecodeIsATypedErrorAndTheIndexIsRebuiltNextTime() throws IOException {
    Path d = closedCleanly();
    IndexEntry victim = BlobIndexContractTest.entry(2);
    // Something this code never writes (a writer of another version): a value of value-codec version 9.
    try (ChronicleMap<byte[], byte[]> m = ChronicleBlobIndex.builder(MAX_ENTRIES)
        .createPersistedTo(d.resolve(ChronicleBlobIndex.MAP_FILE).toFile())) {
      m.put(victim.fingerprint().toBytes(), new byte[] {9, 1, 2, 3});
    }
    ChronicleBlobIndex.seal(d, MAX_ENTRIES);
    try (BlobIndex index = factory().open(d, true)) {
      assertTrue(index.isPopulated());
      StoreException e = assertThrows(StoreException.class, () -> index.get(victim.fingerprint()));
      assertEquals(StoreException.Reason.IO_ERROR, e.reason());
      assertTrue(e.getMessage().contains(victim.fingerprint().toString()), e.getMessage());
      assertThrows(StoreException.class, () -> index.forEach(x -> { }));
      index.flush();
    }
    // The clean close did not vouch for a file holding such a value.
    assertFalse(Files.exists(d.resolve(ChronicleBlobIndex.META_FILE)));
    assertRebuilt(d);
  }

  @Test
  void closingTwiceIsSafe() throws IOException {
    Path d = Files.createDirectories(dir.resolve("twice"));
    BlobIndex index = factory().open(d, false);
    index.flush();
    index.close();
    index.close();
    try (BlobIndex again = factory().open(d, true)) {
      assertTrue(again.isPopulated());
    }
  }
}
