package io.crowdbackup.enginejvm.store;

import io.crowdbackup.engine.store.CustodyStoreContractTest;
import io.crowdbackup.engine.store.index.BlobIndex;

/** The store contract with the Chronicle Map index. */
class ChronicleIndexStoreTest extends CustodyStoreContractTest {
  @Override
  protected BlobIndex.Factory indexFactory() {
    return ChronicleBlobIndex.factory(10_000);
  }
}
