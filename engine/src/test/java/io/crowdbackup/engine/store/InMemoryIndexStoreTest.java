package io.crowdbackup.engine.store;

import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.InMemoryBlobIndex;

/** The store contract with the portable in-memory index. */
class InMemoryIndexStoreTest extends CustodyStoreContractTest {
  @Override
  protected BlobIndex.Factory indexFactory() {
    return InMemoryBlobIndex.FACTORY;
  }
}
