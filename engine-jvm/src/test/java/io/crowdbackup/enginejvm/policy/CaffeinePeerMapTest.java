package io.crowdbackup.enginejvm.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.engine.policy.BandwidthShaper;
import io.crowdbackup.engine.policy.ManualTimeSource;
import io.crowdbackup.engine.policy.Throttle;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CaffeinePeerMapTest {
  private final ManualTimeSource clock = new ManualTimeSource();

  @Test
  void hundredThousandPeersStayBounded() {
    CaffeinePeerMap<Integer, BandwidthShaper.PeerThrottle> map =
        CaffeinePeerMap.create(4096, Duration.ofMinutes(10), clock);
    BandwidthShaper<Integer> s = BandwidthShaper.create("ingress", RateLimit.of(1 << 20, 1 << 20),
        RateLimit.of(1000, 1000), map, clock, clock);
    long maxSeen = 0;
    for (int peer = 0; peer < 100_000; peer++) {
      s.forPeer(peer).tryAcquire(1);
      maxSeen = Math.max(maxSeen, map.size());
    }
    map.cleanUp();
    assertTrue(map.size() <= 4096, "after cleanup: " + map.size());
    // Caffeine may run over briefly while it evicts; it must not drift.
    assertTrue(maxSeen <= 4096 + 64, "largest size seen: " + maxSeen);
  }

  @Test
  void anIdlePeerIsForgottenAndComesBackWithAnEmptyBucket() {
    CaffeinePeerMap<String, BandwidthShaper.PeerThrottle> map =
        CaffeinePeerMap.create(100, Duration.ofSeconds(30), clock);
    BandwidthShaper<String> s = BandwidthShaper.create("egress", RateLimit.of(1 << 30, 1 << 30),
        RateLimit.of(1000, 5000), map, clock, clock);
    Throttle first = s.forPeer("p");
    clock.advanceSeconds(5);
    assertTrue(first.tryAcquire(5000));
    clock.advanceSeconds(31);
    map.cleanUp();
    assertNull(map.getIfPresent("p"), "idle for longer than the expiry");
    Throttle second = s.forPeer("p");
    assertNotSame(first, second);
    assertFalse(second.tryAcquire(1), "a re-created bucket starts empty");
    clock.advanceSeconds(2);
    assertTrue(second.tryAcquire(2000));
    assertFalse(second.tryAcquire(1));
    assertEquals(100, map.maximumSize());
  }
}
