package io.crowdbackup.enginejvm.store;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import io.crowdbackup.engine.store.StoreTestSupport;
import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.InMemoryBlobIndex;
import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Measures what opening a store costs with each index: a rebuild from the data files (portable index on
 * every open, Chronicle after a crash) against a clean open of the persisted Chronicle Map. Numbers for
 * docs/decisions/0002-store-layout.md; not a benchmark (that is bench's job), so it runs only on request:
 * {@code mvn -o -Dquick -pl api,engine,engine-jvm test -Dtest=StoreOpenMeasurement
 * -Dsurefire.failIfNoSpecifiedTests=false -Dcrowdbackup.measure.open=true [-Dcrowdbackup.measure.blobs=N]}.
 */
@EnabledIfSystemProperty(named = "crowdbackup.measure.open", matches = "true")
class StoreOpenMeasurement {
  @TempDir
  Path dir;

  private StoreConfig config(BlobIndex.Factory f) {
    return StoreConfig.newBuilder(dir.resolve("store")).indexFactory(f)
        .clock(new StoreTestSupport.MutableClock(StoreTestSupport.NOW_EPOCH_SECOND)).build();
  }

  private static double openSeconds(StoreConfig c, boolean expectClean) throws Exception {
    long t0 = System.nanoTime();
    FileCustodyStore s = FileCustodyStore.open(c);
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertEquals(expectClean, s.openedClean());
    s.close();
    return seconds;
  }

  @Test
  void openCost() throws Exception {
    int blobs = Integer.getInteger("crowdbackup.measure.blobs", 10_000);
    BlobIndex.Factory chronicle = ChronicleBlobIndex.factory(Math.max(blobs * 2L, 10_000));
    long t0 = System.nanoTime();
    try (FileCustodyStore s = FileCustodyStore.open(config(InMemoryBlobIndex.FACTORY))) {
      for (int i = 0; i < blobs; i++) {
        StoreTestSupport.Env e = StoreTestSupport.envelope(i, 200, i % 2 == 0,
            StoreTestSupport.NOW_EPOCH_SECOND + 60 + (i % 12) * 3600);
        UploadRequest r = e.custody("peer-" + (i % 50));
        s.put(r, Channels.newChannel(new ByteArrayInputStream(e.bytes)));
      }
    }
    double fill = (System.nanoTime() - t0) / 1e9;
    double memory1 = openSeconds(config(InMemoryBlobIndex.FACTORY), true);
    double memory2 = openSeconds(config(InMemoryBlobIndex.FACTORY), true);
    // The marker names the index, so the first Chronicle open rebuilds (as after a crash).
    double chronicleRebuild = openSeconds(config(chronicle), false);
    double chronicleClean1 = openSeconds(config(chronicle), true);
    double chronicleClean2 = openSeconds(config(chronicle), true);
    Files.delete(dir.resolve("store").resolve("CLEAN"));
    double chronicleDirty = openSeconds(config(chronicle), false);
    System.out.printf("STORE OPEN %d blobs (filled in %.1f s): portable (rebuild) %.3f s, %.3f s; chronicle rebuild "
        + "%.3f s, clean %.3f s, %.3f s, after crash %.3f s%n", blobs, fill, memory1, memory2, chronicleRebuild,
        chronicleClean1, chronicleClean2, chronicleDirty);
  }
}
