package io.crowdbackup.enginejvm.store;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.BlobIndexContractTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The index contract for the Chronicle Map index, and what only a persisted index can get wrong. */
class ChronicleBlobIndexTest extends BlobIndexContractTest {
  @Override
  protected BlobIndex.Factory factory() {
    return ChronicleBlobIndex.factory(50_000);
  }

  @Override
  protected boolean persists() {
    return true;
  }

  @Test
  void anIndexOfAnotherLayoutVersionIsRebuiltNotOpened() throws Exception {
    Path d = Files.createDirectories(dir.resolve("versioned"));
    try (BlobIndex index = factory().open(d, false)) {
      index.put(BlobIndexContractTest.entry(1));
      index.flush();
    }
    Files.write(d.resolve(ChronicleBlobIndex.META_FILE),
        ChronicleBlobIndex.meta(50_000, ChronicleBlobIndex.LAYOUT_VERSION + 1));
    try (BlobIndex index = factory().open(d, true)) {
      assertFalse(index.isPopulated());
      assertEquals(0, index.size());
    }
    // A different capacity is another layout too: the map is sized at creation.
    try (BlobIndex index = ChronicleBlobIndex.factory(60_000).open(d, true)) {
      assertFalse(index.isPopulated());
    }
  }
}
