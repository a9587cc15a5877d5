package io.crowdbackup.engine.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.ThrottleTimeoutException;
import org.junit.jupiter.api.Test;

class BandwidthShaperTest {
  private static final long SECOND = 1_000_000_000L;
  private final ManualTimeSource clock = new ManualTimeSource();

  private BandwidthShaper<String> shaper(RateLimit global, RateLimit perPeer, long maxPeers) {
    return BandwidthShaper.create("ingress", global, perPeer, BoundedLruPeerMap.withMaximumSize(maxPeers), clock,
        clock);
  }

  @Test
  void aGrantMustBeCoveredByThePeerAndTheGlobalBucket() {
    BandwidthShaper<String> s = shaper(RateLimit.of(1000, 1500), RateLimit.of(400, 1000), 100);
    Throttle a = s.forPeer("a");
    Throttle b = s.forPeer("b");
    assertEquals(1000, a.maxGrantBytes(), "the tighter burst bounds one grant");
    assertFalse(a.tryAcquire(1), "a new peer's bucket starts empty");
    clock.advanceSeconds(10); // peers fill to 1000, global stays at 1500
    assertTrue(a.tryAcquire(1000));
    assertFalse(b.tryAcquire(1000), "global has 500 left");
    assertEquals(1000, ((BandwidthShaper.PeerThrottle) b).peerAvailableBytes(),
        "a refused global grant gives the peer's tokens back");
    assertTrue(b.tryAcquire(500));
  }

  @Test
  void blockingAcquirePaysThePeerThenTheGlobalBucket() throws Exception {
    BandwidthShaper<String> s = shaper(RateLimit.of(1000, 1000), RateLimit.of(100, 1000), 100);
    Throttle a = s.forPeer("a");
    long start = clock.monotonicNanos();
    a.acquire(500, 10 * SECOND);
    assertEquals(5 * SECOND, clock.monotonicNanos() - start, "the slower peer bucket sets the pace");
    ThrottleTimeoutException e = assertThrows(ThrottleTimeoutException.class, () -> a.acquire(500, 4 * SECOND));
    assertEquals(100, e.bytesPerSecond());
    assertEquals(5 * SECOND, clock.monotonicNanos() - start, "refused at once");
  }

  @Test
  void hundredThousandPeersStayBounded() {
    BandwidthShaper<Integer> s = BandwidthShaper.create("ingress", RateLimit.of(1 << 20, 1 << 20),
        RateLimit.of(1000, 1000), BoundedLruPeerMap.withMaximumSize(4096), clock, clock);
    for (int peer = 0; peer < 100_000; peer++) {
      s.forPeer(peer).tryAcquire(1);
      assertTrue(s.trackedPeers() <= 4096);
    }
    assertTrue(s.trackedPeers() > 4000, "the map is used up to its bound: " + s.trackedPeers());
  }

  @Test
  void anEvictedPeerGetsNoFreshBurst() {
    BoundedLruPeerMap<String, BandwidthShaper.PeerThrottle> map = BoundedLruPeerMap.withMaximumSize(1);
    BandwidthShaper<String> s =
        BandwidthShaper.create("egress", RateLimit.of(1 << 30, 1 << 30), RateLimit.of(1000, 5000), map, clock, clock);
    clock.advanceSeconds(60);
    Throttle victim = s.forPeer("victim");
    assertFalse(victim.tryAcquire(1), "starts empty");
    clock.advanceSeconds(5); // victim's bucket fills: 5000
    assertTrue(victim.tryAcquire(5000));
    s.forPeer("evictor"); // pushes the victim out
    assertEquals(1, s.trackedPeers());
    Throttle again = s.forPeer("victim");
    assertNotSame(victim, again, "the victim was forgotten");
    assertFalse(again.tryAcquire(1), "and its new bucket is empty, not full");
    // Over the next 3 s it gets exactly its rate, as if never evicted.
    long granted = 0;
    for (int ms = 0; ms < 3000; ms++) {
      clock.advanceMillis(1);
      while (again.tryAcquire(1)) {
        granted++;
      }
    }
    assertEquals(3000, granted);
  }

  @Test
  void recentlyUsedPeersSurviveEviction() {
    BoundedLruPeerMap<String, Object> map = BoundedLruPeerMap.withMaximumSize(8);
    Object hot = map.computeIfAbsent("hot", k -> new Object());
    for (int i = 0; i < 100; i++) {
      map.computeIfAbsent("cold" + i, k -> new Object());
      assertSame(hot, map.computeIfAbsent("hot", k -> new Object()));
    }
    assertTrue(map.size() <= 8);
  }

  @Test
  void boundIsHardAcrossStripes() {
    for (long max : new long[] {1, 7, 64, 1000, 4096, 100_000}) {
      BoundedLruPeerMap<Integer, Integer> map = BoundedLruPeerMap.withMaximumSize(max);
      assertTrue(map.maximumSize() <= max && map.maximumSize() >= max - 16, "max " + max + " -> " + map.maximumSize());
      for (int i = 0; i < 3 * max + 100; i++) {
        map.computeIfAbsent(i, k -> k);
      }
      assertTrue(map.size() <= max, "size " + map.size() + " > " + max);
    }
    assertThrows(IllegalArgumentException.class, () -> BoundedLruPeerMap.withMaximumSize(0));
  }

  @Test
  void aGlobalTimeoutGivesThePeerItsTokensBack() throws Exception {
    BandwidthShaper<String> s = shaper(RateLimit.of(100, 1000), RateLimit.of(1000, 1000), 100);
    BandwidthShaper.PeerThrottle a = (BandwidthShaper.PeerThrottle) s.forPeer("a");
    clock.advanceSeconds(1); // peer full (1000); global full (1000)
    assertTrue(s.global().tryAcquire(1000)); // global now empty: 500 bytes take 5 s
    assertThrows(ThrottleTimeoutException.class, () -> a.acquire(500, SECOND));
    assertEquals(1000, a.peerAvailableBytes(), "the peer lost nothing to the global refusal");
  }
}
