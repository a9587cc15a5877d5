package io.crowdbackup.engine.store.index;

/** The index contract for the portable in-memory index. */
class InMemoryBlobIndexTest extends BlobIndexContractTest {
  @Override
  protected BlobIndex.Factory factory() {
    return InMemoryBlobIndex.FACTORY;
  }

  @Override
  protected boolean persists() {
    return false;
  }
}
