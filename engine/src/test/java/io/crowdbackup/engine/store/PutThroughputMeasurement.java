package io.crowdbackup.engine.store;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durable puts per second through the whole store (scan, fingerprint, two fsyncs, rename), beside the
 * raw layout numbers of {@link LayoutMeasurement}; for docs/decisions/0002-store-layout.md until bench
 * has its JMH version. On request: {@code mvn -o -Dquick -pl api,engine test -Dtest=PutThroughputMeasurement
 * -Dsurefire.failIfNoSpecifiedTests=false -Dcrowdbackup.measure.put=true}.
 */
@EnabledIfSystemProperty(named = "crowdbackup.measure.put", matches = "true")
class PutThroughputMeasurement {
  @TempDir
  Path dir;

  @Test
  void puts() throws Exception {
    int[][] cases = {{64 * 1024, 300}, {1 << 20, 60}, {16 << 20, 6}};
    for (int[] c : cases) {
      List<StoreTestSupport.Env> envs = new ArrayList<>();
      for (int i = 0; i < c[1]; i++) {
        envs.add(StoreTestSupport.envelope(c[0] * 31L + i, c[0], 1 << 16, false,
            StoreTestSupport.NOW_EPOCH_SECOND + 3600));
      }
      long bytes = 0;
      try (FileCustodyStore s = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("s" + c[0]))
          .clock(new StoreTestSupport.MutableClock(StoreTestSupport.NOW_EPOCH_SECOND)).build())) {
        long t0 = System.nanoTime();
        for (StoreTestSupport.Env e : envs) {
          s.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
          bytes += e.bytes.length;
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        System.out.printf("PUT %d KiB x %d: %.0f puts/s, %.1f MiB/s%n", c[0] / 1024, c[1], c[1] / sec,
            bytes / sec / (1 << 20));
      }
    }
  }
}
