package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreTestSupport.NOW_EPOCH_SECOND;
import static io.crowdbackup.engine.store.StoreTestSupport.envelope;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.store.StoreTestSupport.Env;
import io.crowdbackup.engine.store.StoreTestSupport.MutableClock;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12 item 5: a {@code stat} (and {@code contains}, {@code list}, {@code usage}) never waits for the
 * disk work of another peer's commit or of an eviction, nor for a listener. No wall-clock bound: the other
 * thread's fsync (or listener call) is held on a latch until the stat has answered, so a lock held across
 * it would make the stat wait for ever; the test gives it {@link #PATIENCE_SECONDS} and fails.
 */
class StoreConcurrencyTest {
  private static final long PATIENCE_SECONDS = 30;
  private static Env big;

  @TempDir
  Path dir;
  MutableClock clock;
  FaultyFileOpener faults;
  FileCustodyStore store;
  ExecutorService threads;

  /** A 64 MiB envelope (64 KiB chunks), sealed once for the class. */
  private static synchronized Env big() {
    if (big == null) {
      big = envelope(64, 64 << 20, 64 * 1024, false, NOW_EPOCH_SECOND + 6 * 3600);
    }
    return big;
  }

  @BeforeEach
  void open() throws IOException {
    clock = new MutableClock(NOW_EPOCH_SECOND);
    faults = new FaultyFileOpener();
    threads = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "store-concurrency-test");
      t.setDaemon(true);
      return t;
    });
    store = open(StoreListener.NONE);
  }

  private FileCustodyStore open(StoreListener listener) throws IOException {
    return FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store")).clock(clock).fileOpener(faults)
        .listener(listener).build());
  }

  @AfterEach
  void close() throws IOException {
    faults.releaseForces.countDown();
    threads.shutdownNow();
    store.close();
  }

  /** Runs {@code call} on another thread and fails if it has not answered within the patience. */
  private <T> T answers(String what, Callable<T> call) throws Exception {
    Future<T> f = threads.submit(call);
    try {
      return f.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      fail(what + " waited " + PATIENCE_SECONDS + " s for another thread's disk work: a lock is held across it");
      return null;
    }
  }

  private void awaitBlockedFsync(Future<?> other) throws Exception {
    if (!faults.forcesBlocked.tryAcquire(PATIENCE_SECONDS, TimeUnit.SECONDS)) {
      if (other.isDone()) {
        other.get(); // its failure says why
      }
      fail("the other thread never reached the fsync it was meant to block in");
    }
  }

  @Test
  void statDoesNotWaitForAnotherPeersCommitOf64MiB() throws Exception {
    Env small = envelope(1, 5000);
    store.put(small.custody("a"), CustodyStoreContractTest.in(small.bytes));
    Env e = big();
    java.util.List<Path> groups = FileCustodyStore.listDirectory(store.groupsDir);
    assertEquals(1, groups.size(), "the big envelope expires in the same hour, so it commits into this group");
    Path group = groups.get(0);
    // The commit's directory fsync: before this change it ran under the store's monitor.
    faults.forceBlockOn = p -> p.equals(group);
    Future<BlobStat> put = threads.submit(() -> store.put(e.custody("b"), CustodyStoreContractTest.in(e.bytes)));
    awaitBlockedFsync(put);

    assertNotNull(answers("stat", () -> store.stat(small.fingerprint)));
    assertTrue(answers("contains", () -> store.contains(small.fingerprint)));
    assertEquals(1, answers("list", () -> store.list()).size());
    assertEquals(1, answers("usage", () -> store.usage()).blobCount());
    assertNull(answers("stat of the blob being committed", () -> store.stat(e.fingerprint)),
        "not visible before its commit is durable");
    assertFalse(put.isDone(), "the commit is still held in its fsync");

    faults.releaseForces.countDown();
    assertEquals(e.bytes.length, put.get(PATIENCE_SECONDS, TimeUnit.SECONDS).envelopeLengthBytes());
    assertArrayEquals(e.bytes, StoreTestSupport.readAll(store.open(e.fingerprint)));
  }

  @Test
  void statDoesNotWaitForAnEvictionDeletingAGroupOf64MiB() throws Exception {
    Env e = big(); // expires NOW + 6 h
    Env later = envelope(2, 5000, false, NOW_EPOCH_SECOND + 48 * 3600);
    store.put(e.custody("a"), CustodyStoreContractTest.in(e.bytes));
    store.put(later.custody("b"), CustodyStoreContractTest.in(later.bytes));
    clock.setEpochSecond(NOW_EPOCH_SECOND + 12 * 3600);
    // Deleting the expired group ends with an fsync of groups/: held here.
    faults.forceBlockOn = p -> p.equals(store.groupsDir);
    Future<Long> drop = threads.submit(() -> store.dropExpired(NOW_EPOCH_SECOND + 12 * 3600));
    awaitBlockedFsync(drop);

    assertNotNull(answers("stat", () -> store.stat(later.fingerprint)));
    assertNull(answers("stat of the evicted blob", () -> store.stat(e.fingerprint)));
    assertEquals(1, answers("usage", () -> store.usage()).blobCount());
    assertFalse(drop.isDone(), "the eviction is still held in its fsync");

    faults.releaseForces.countDown();
    assertEquals(1L, drop.get(PATIENCE_SECONDS, TimeUnit.SECONDS));
    assertTrue(store.contains(later.fingerprint));
  }

  /** Records what it hears, and holds the call that tells of {@code held} until {@link #leave} opens. */
  private static final class HoldingListener implements StoreListener {
    final Env held;
    final CountDownLatch inListener = new CountDownLatch(1);
    final CountDownLatch leave = new CountDownLatch(1);
    final List<String> heard = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    HoldingListener(Env held) {
      this.held = held;
    }

    @Override
    public void blobAdded(BlobStat blob) {
      heard.add("added " + blob.fingerprint());
      if (blob.fingerprint().equals(held.fingerprint)) {
        inListener.countDown();
        try {
          leave.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public void blobRemoved(BlobStat blob, Removal why) {
      heard.add("removed " + blob.fingerprint());
    }
  }

  @Test
  void listenerCallsRunOutsideTheStoresLocks() throws Exception {
    store.close();
    Env first = envelope(3, 5000);
    Env second = envelope(4, 5000);
    HoldingListener listener = new HoldingListener(second);
    store = open(listener);
    store.put(first.custody("a"), CustodyStoreContractTest.in(first.bytes));
    Future<BlobStat> put = threads.submit(() -> store.put(second.custody("b"),
        CustodyStoreContractTest.in(second.bytes)));
    try {
      assertTrue(listener.inListener.await(PATIENCE_SECONDS, TimeUnit.SECONDS));
      assertNotNull(answers("stat", () -> store.stat(first.fingerprint)));
      assertNotNull(answers("stat of the blob the listener is told of", () -> store.stat(second.fingerprint)),
          "the listener hears of a change after it happened");
      assertEquals(2, answers("usage", () -> store.usage()).blobCount());
    } finally {
      listener.leave.countDown();
    }
    put.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
  }

  @Test
  void aChangeReturnsOnlyAfterItsListenerCallsRanThoughAnotherThreadHoldsTheTurn() throws Exception {
    store.close();
    Env first = envelope(5, 5000);
    Env second = envelope(6, 5000);
    HoldingListener listener = new HoldingListener(second);
    store = open(listener);
    store.put(first.custody("a"), CustodyStoreContractTest.in(first.bytes));
    Future<BlobStat> put = threads.submit(() -> store.put(second.custody("b"),
        CustodyStoreContractTest.in(second.bytes)));
    Future<Boolean> delete;
    try {
      assertTrue(listener.inListener.await(PATIENCE_SECONDS, TimeUnit.SECONDS));
      delete = threads.submit(() -> store.delete(first.fingerprint));
      Thread.sleep(300);
      assertFalse(delete.isDone(), "the delete returned before the listener was told of it");
    } finally {
      listener.leave.countDown();
    }
    assertTrue(delete.get(PATIENCE_SECONDS, TimeUnit.SECONDS));
    put.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
    assertEquals(List.of("added " + first.fingerprint, "added " + second.fingerprint,
        "removed " + first.fingerprint), listener.heard, "in the order of the changes");
  }

  @Test
  void aCallerHoldingTheStoreObjectsMonitorBlocksNothing() throws Exception {
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch letGo = new CountDownLatch(1);
    threads.submit(() -> {
      synchronized (store) {
        holding.countDown();
        letGo.await();
      }
      return null;
    });
    try {
      assertTrue(holding.await(PATIENCE_SECONDS, TimeUnit.SECONDS));
      Env e = envelope(5, 5000);
      assertNotNull(answers("put", () -> store.put(e.custody("a"), CustodyStoreContractTest.in(e.bytes))));
      assertNotNull(answers("stat", () -> store.stat(e.fingerprint)));
      assertEquals(0L, answers("dropExpired", () -> store.dropExpired(NOW_EPOCH_SECOND)));
      assertTrue(answers("delete", () -> store.delete(e.fingerprint)));
    } finally {
      letGo.countDown();
    }
  }
}
