package io.crowdbackup.enginejvm.store;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.store.CustodyStoreContractTest;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import io.crowdbackup.engine.store.StoreTestSupport;
import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.InMemoryBlobIndex;
import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The store contract with the Chronicle Map index. */
class ChronicleIndexStoreTest extends CustodyStoreContractTest {
  @Override
  protected BlobIndex.Factory indexFactory() {
    return ChronicleBlobIndex.factory(10_000);
  }

  @Test
  void switchingIndexImplementationsRebuildsAndLosesNothing() throws Exception {
    for (int i = 0; i < 5; i++) {
      StoreTestSupport.Env e = StoreTestSupport.envelope(900 + i, 2000 * (i + 1));
      store.put(e.custody("p"), Channels.newChannel(new ByteArrayInputStream(e.bytes)));
    }
    List<BlobStat> before = sorted(store.list());
    store.close();
    // The clean marker names the Chronicle index: the portable index must not trust it, and back again.
    store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store")).clock(clock)
        .indexFactory(InMemoryBlobIndex.FACTORY).build());
    assertFalse(store.openedClean());
    assertEquals(before, sorted(store.list()));
    store.close();
    store = FileCustodyStore.open(config().build());
    assertFalse(store.openedClean());
    assertEquals(before, sorted(store.list()));
  }

  private static List<BlobStat> sorted(List<BlobStat> l) {
    return l.stream().sorted(Comparator.comparing(BlobStat::fingerprint)).collect(Collectors.toList());
  }
}
