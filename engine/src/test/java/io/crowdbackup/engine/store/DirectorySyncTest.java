package io.crowdbackup.engine.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The group commit of directory fsyncs ({@link FileCustodyStore.DirectorySync}) on its own. */
class DirectorySyncTest {
  @TempDir Path dir;
  private final FaultyFileOpener faults = new FaultyFileOpener();
  private final AtomicInteger fsyncs = new AtomicInteger();
  private ExecutorService threads;

  @BeforeEach
  void setUp() {
    threads = Executors.newFixedThreadPool(8);
  }

  @AfterEach
  void tearDown() {
    faults.reset();
    threads.shutdownNow();
  }

  /** Counts the directory's fsyncs: every fsync opens the directory once. */
  private FileOpener counting() {
    return (p, options) -> {
      fsyncs.incrementAndGet();
      return faults.open(p, options);
    };
  }

  private List<Future<?>> syncs(FileCustodyStore.DirectorySync sync, int n) {
    List<Future<?>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(threads.submit(() -> {
        sync.sync();
        return null;
      }));
    }
    return out;
  }

  /** One caller whose fsync is held (until {@code faults.releaseForces}); later fsyncs are not held. */
  private Future<?> holdFirstFsync(FileCustodyStore.DirectorySync sync) throws InterruptedException {
    faults.forceBlockOn = p -> p.equals(dir);
    Future<?> first = syncs(sync, 1).get(0);
    assertTrue(faults.forcesBlocked.tryAcquire(30, TimeUnit.SECONDS));
    faults.forceBlockOn = p -> false;
    return first;
  }

  @Test
  void callersWhoArriveDuringAnFsyncShareTheNextOneAndEveryCallerWaitsForOne() throws Exception {
    FileCustodyStore.DirectorySync sync = new FileCustodyStore.DirectorySync(counting(), dir);
    Future<?> first = holdFirstFsync(sync);
    List<Future<?>> late = syncs(sync, 6);
    Thread.sleep(200); // they join the round after the held one
    for (Future<?> f : late) {
      assertTrue(!f.isDone(), "a caller returned before an fsync that began after its change");
    }
    faults.releaseForces.countDown();
    first.get(30, TimeUnit.SECONDS);
    for (Future<?> f : late) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertEquals(2, fsyncs.get(), "the six late callers share one fsync (the one after the held one)");
  }

  @Test
  void aFailedFsyncFailsEveryCallerItCoversAndTheNextRoundRunsAfresh() throws Exception {
    FileCustodyStore.DirectorySync sync = new FileCustodyStore.DirectorySync(counting(), dir);
    Future<?> first = holdFirstFsync(sync);
    faults.forceFaultOn = p -> p.equals(dir);
    List<Future<?>> late = syncs(sync, 5);
    Thread.sleep(200);
    faults.releaseForces.countDown();
    assertThrows(ExecutionException.class, () -> first.get(30, TimeUnit.SECONDS));
    for (Future<?> f : late) {
      ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof IOException, String.valueOf(e.getCause()));
      assertTrue(e.getCause().getMessage().contains("injected fsync failure"), e.getCause().getMessage());
    }
    faults.forceFaultOn = p -> false;
    sync.sync(); // a later caller is not answered by the failed round
    assertEquals(3, fsyncs.get());
  }

  @Test
  void manyCallersAtOnceAllReturn() throws Exception {
    FileCustodyStore.DirectorySync sync = new FileCustodyStore.DirectorySync(counting(), dir);
    List<Future<?>> all = new ArrayList<>();
    for (int round = 0; round < 50; round++) {
      all.addAll(syncs(sync, 8));
    }
    for (Future<?> f : all) {
      f.get(60, TimeUnit.SECONDS);
    }
    assertTrue(fsyncs.get() >= 1 && fsyncs.get() <= 400, "fsyncs " + fsyncs.get());
  }
}
