package io.crowdbackup.enginejvm.store;

import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.BlobIndexContractTest;

/** The index contract for the Chronicle Map index. */
class ChronicleBlobIndexTest extends BlobIndexContractTest {
  @Override
  protected BlobIndex.Factory factory() {
    return ChronicleBlobIndex.factory(50_000);
  }

  @Override
  protected boolean persists() {
    return true;
  }
}
