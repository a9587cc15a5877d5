package io.crowdbackup.engine.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.ThrottleTimeoutException;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
  private static final long KIB = 1024;
  private static final long GIB = 1024 * 1024 * 1024;
  private static final long SECOND = 1_000_000_000L;

  private final ManualTimeSource clock = new ManualTimeSource();

  private TokenBucket bucket(long rate, long burst, boolean full) {
    return TokenBucket.create("test", RateLimit.of(rate, burst), clock, clock, full);
  }

  /** Takes everything available in one grant, returns how much. */
  private static long drain(TokenBucket b) {
    long available = b.availableBytes();
    assertTrue(b.tryAcquire(available));
    return available;
  }

  @Test
  void fullBucketGrantsItsBurstThenNothingUntilTimePasses() {
    TokenBucket b = bucket(1000, 5000, true);
    assertTrue(b.tryAcquire(3000));
    assertTrue(b.tryAcquire(2000));
    assertFalse(b.tryAcquire(1));
    clock.advanceMillis(1);
    assertTrue(b.tryAcquire(1));
    assertFalse(b.tryAcquire(1));
    clock.advanceSeconds(2);
    assertEquals(2000, b.availableBytes());
    assertFalse(b.tryAcquire(2001), "a failed try takes nothing");
    assertTrue(b.tryAcquire(2000));
  }

  @Test
  void refillStopsAtTheBurst() {
    TokenBucket b = bucket(1000, 5000, false);
    assertEquals(0, b.availableBytes(), "an empty bucket starts with nothing");
    clock.advanceSeconds(3600);
    assertEquals(5000, b.availableBytes());
    assertTrue(b.tryAcquire(5000));
    assertFalse(b.tryAcquire(1));
  }

  @Test
  void oneKibPerSecondIsExactOverManySmallSteps() {
    TokenBucket b = bucket(KIB, 16 * KIB, false);
    long granted = 0;
    // 1 ms steps: 1.024 bytes each; the fractions must add up, not be lost per step.
    for (int step = 0; step < 10_000; step++) {
      clock.advanceMillis(1);
      granted += drain(b);
    }
    assertEquals(10 * KIB, granted);
    // Odd steps that are not a divisor of anything.
    SplittableRandom random = new SplittableRandom(1);
    long elapsed = 0;
    while (elapsed < 7 * SECOND) {
      long step = random.nextLong(1, 3_000_000);
      clock.advanceNanos(step);
      elapsed += step;
      granted += drain(b);
    }
    long expectedTotal = (10 * SECOND + elapsed) * KIB / SECOND;
    assertEquals(expectedTotal, granted);
  }

  @Test
  void tenGibPerSecondIsExactAndDoesNotOverflow() {
    long rate = 10 * GIB;
    TokenBucket b = bucket(rate, GIB, false);
    assertEquals(0, b.availableBytes());
    clock.advanceNanos(1);
    assertEquals(10, b.availableBytes(), "10.737 bytes per ns, rounded down");
    long granted = drain(b);
    SplittableRandom random = new SplittableRandom(2);
    long elapsed = 1;
    while (elapsed < 3 * SECOND) {
      long step = random.nextLong(1, 50_000_000); // up to 50 ms, i.e. below the 1 GiB burst
      clock.advanceNanos(step);
      elapsed += step;
      granted += drain(b);
    }
    // floor(elapsed * rate / 1e9) without overflow: elapsed * rate would overflow a long.
    long expected = (elapsed / SECOND) * rate + ((elapsed % SECOND) * rate) / SECOND;
    assertEquals(expected, granted);

    // Ten years later: still exact, still no overflow.
    clock.advanceNanos(10L * 365 * 24 * 3600 * SECOND);
    assertEquals(GIB, b.availableBytes());
    assertTrue(b.tryAcquire(GIB));
    assertFalse(b.tryAcquire(1));
    clock.advanceNanos(1);
    long afterOneNs = b.availableBytes();
    assertTrue(afterOneNs == 10 || afterOneNs == 11, "one more ns gives 10 or 11 bytes, got " + afterOneNs);
  }

  @Test
  void requestAboveTheBurstIsRejectedNotOverdrawn() {
    TokenBucket b = bucket(1000, 5000, true);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.tryAcquire(5001));
    assertTrue(e.getMessage().contains("5001"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> b.acquire(5001, Throttle.NO_TIMEOUT));
    assertThrows(IllegalArgumentException.class, () -> b.tryAcquire(-1));
    assertEquals(5000, b.availableBytes(), "rejected requests take nothing");
  }

  @Test
  void acquireWaitsExactlyUntilCovered() throws Exception {
    TokenBucket b = bucket(1000, 5000, false);
    long before = clock.monotonicNanos();
    b.acquire(2500, 10 * SECOND);
    assertEquals(2_500_000_000L, clock.monotonicNanos() - before, "2500 bytes at 1000 B/s is 2.5 s");
    assertEquals(0, b.availableBytes());
    // A second caller queues behind the first.
    b.acquire(1000, 10 * SECOND);
    assertEquals(3_500_000_000L, clock.monotonicNanos() - before);
  }

  /**
   * The blocking path has its own arithmetic ({@code reserve}), so the cap at the burst is proved there too:
   * an hour idle leaves one burst to take at once, then the rate, never an hour's worth of bytes.
   */
  @Test
  void blockingAcquireAfterALongIdleGetsOneBurstAtOnceThenTheRate() throws Exception {
    TokenBucket b = bucket(1000, 5000, true);
    b.acquire(5000, 0);
    clock.advanceSeconds(3600);
    long before = clock.monotonicNanos();
    b.acquire(5000, 0); // the burst, without waiting
    assertEquals(before, clock.monotonicNanos());
    assertThrows(ThrottleTimeoutException.class, () -> b.acquire(1, 0), "an idle hour did not bank 3.6 MB");
    b.acquire(5000, Throttle.NO_TIMEOUT);
    assertEquals(5 * SECOND, clock.monotonicNanos() - before, "the next 5000 bytes wait 5 s at 1000 B/s");
    assertEquals(0, b.availableBytes());
  }

  @Test
  void acquireFailsAtOnceWhenTheDeadlineCannotBeMetAndTakesNothing() throws Exception {
    TokenBucket b = bucket(1000, 5000, false);
    clock.advanceSeconds(1); // 1000 available
    long before = clock.monotonicNanos();
    ThrottleTimeoutException e =
        assertThrows(ThrottleTimeoutException.class, () -> b.acquire(3000, 1_999_999_999L));
    assertEquals(3000, e.requestedBytes());
    assertEquals(java.time.Duration.ofNanos(1_999_999_999L), e.timeout());
    assertEquals(1000, e.bytesPerSecond());
    assertEquals(before, clock.monotonicNanos(), "a doomed request does not wait out its timeout");
    assertEquals(1000, b.availableBytes(), "and reserves nothing");
    b.acquire(3000, 2 * SECOND); // exactly enough
    assertEquals(2 * SECOND, clock.monotonicNanos() - before);
    assertThrows(ThrottleTimeoutException.class, () -> b.acquire(1, 0));
  }

  @Test
  void acquireIsInterruptible() throws Exception {
    TokenBucket b = TokenBucket.create("slow", RateLimit.of(1, 10), clock, Sleeper.system(), false);
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    CountDownLatch started = new CountDownLatch(1);
    Thread t = new Thread(() -> {
      started.countDown();
      try {
        b.acquire(10, Throttle.NO_TIMEOUT); // 10 s of a clock that never moves: waits forever
      } catch (Throwable e) {
        thrown.set(e);
      }
    });
    t.start();
    started.await();
    Thread.sleep(50);
    t.interrupt();
    t.join(5000);
    assertFalse(t.isAlive());
    assertTrue(thrown.get() instanceof InterruptedException, String.valueOf(thrown.get()));
  }

  @Test
  void concurrentTriesNeverExceedBurstPlusRateTimesElapsed() throws Exception {
    long rate = 1_000_000;
    long burst = 10_000;
    TokenBucket b = bucket(rate, burst, true);
    AtomicLong granted = new AtomicLong();
    int threads = 2;
    CountDownLatch go = new CountDownLatch(1);
    Thread[] workers = new Thread[threads];
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    for (int i = 0; i < threads; i++) {
      int seed = i;
      workers[i] = new Thread(() -> {
        SplittableRandom random = new SplittableRandom(seed);
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        while (!stop.get()) {
          long n = random.nextLong(1, 2000);
          if (b.tryAcquire(n)) {
            granted.addAndGet(n);
          } else {
            Thread.yield(); // leave the (shared, small) machine to the thread that moves the clock
          }
        }
      });
      workers[i].start();
    }
    long start = clock.monotonicNanos();
    go.countDown();
    for (int step = 0; step < 500; step++) {
      clock.advanceNanos(97_003); // ~97 bytes per step
      long elapsed = clock.monotonicNanos() - start;
      // Read the bound after the grants it covers: a grant counted here happened at or before "elapsed".
      assertTrue(granted.get() <= burst + elapsed * rate / SECOND,
          "granted " + granted.get() + " after " + elapsed + " ns");
      Thread.yield();
    }
    stop.set(true);
    for (Thread w : workers) {
      w.join();
    }
    long elapsed = clock.monotonicNanos() - start;
    assertTrue(granted.get() <= burst + elapsed * rate / SECOND);
    assertTrue(granted.get() > 0);
  }

  @Test
  void undoGivesBackOnlyWhenNothingRaced() {
    TokenBucket b = bucket(1000, 5000, true);
    long state = b.tryTake(3000);
    assertTrue(b.undoTake(state, 3000));
    assertEquals(5000, b.availableBytes());
    long first = b.tryTake(3000);
    assertTrue(b.tryAcquire(1000));
    assertFalse(b.undoTake(first, 3000), "another grant came after: the undo is forfeit");
    assertEquals(1000, b.availableBytes());
  }

  @Test
  void blockingAcquiresOnTheRealClockKeepTheRate() throws Exception {
    long rate = 1 << 20;
    long burst = 16 * KIB;
    TokenBucket b = TokenBucket.full("real", RateLimit.of(rate, burst));
    AtomicLong granted = new AtomicLong();
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long start = System.nanoTime();
    Thread[] workers = new Thread[3];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Thread(() -> {
        try {
          while (!stop.get()) {
            b.acquire(4 * KIB, Throttle.NO_TIMEOUT);
            granted.addAndGet(4 * KIB);
            long elapsed = System.nanoTime() - start;
            // The bound is checked after the grant, against a later clock reading: it can only be looser.
            if (granted.get() > burst + elapsed * rate / SECOND + 3 * 4 * KIB) {
              throw new AssertionError("granted " + granted.get() + " after " + elapsed + " ns");
            }
          }
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
        }
      });
      workers[i].start();
    }
    Thread.sleep(300);
    stop.set(true);
    for (Thread w : workers) {
      w.join();
    }
    long elapsed = System.nanoTime() - start;
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
    assertTrue(granted.get() <= burst + elapsed * rate / SECOND, granted.get() + " bytes in " + elapsed + " ns");
    assertTrue(granted.get() > burst, "waiters made progress: " + granted.get());
  }

  @Test
  void atTheEndOfItsLifeABucketStopsGrantingAndNeverWraps() throws Exception {
    TokenBucket b = bucket(RateLimit.MAX_BYTES_PER_SECOND, RateLimit.MAX_BURST_BYTES, true);
    clock.advanceNanos(16L * 365 * 24 * 3600 * SECOND); // 16 years at 16 GiB/s: still exact
    assertTrue(b.tryAcquire(RateLimit.MAX_BURST_BYTES));
    clock.advanceSeconds(1);
    assertEquals(RateLimit.MAX_BYTES_PER_SECOND, b.availableBytes());
    clock.advanceNanos(2L * 365 * 24 * 3600 * SECOND); // past 2^63 / rate
    long left = b.availableBytes();
    assertTrue(left <= RateLimit.MAX_BURST_BYTES, "no overflow into a huge count: " + left);
    assertTrue(b.tryAcquire(left));
    clock.advanceSeconds(3600);
    assertFalse(b.tryAcquire(1), "time has stopped for this bucket");
    assertThrows(ThrottleTimeoutException.class, () -> b.acquire(1, Throttle.NO_TIMEOUT),
        "an untimed wait fails instead of waiting for a time that never comes");
  }
}
