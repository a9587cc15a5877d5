package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void delaysAreJitteredBelowTheExponentialCeilingAndHonourRetryAfter() {
    Backoff b = new Backoff(5, Duration.ofMillis(100), Duration.ofSeconds(2));
    long max = 0;
    for (int i = 0; i < 1000; i++) {
      long d = b.delay(3, null).toMillis();
      assertTrue(d >= 0 && d <= 800, "attempt 3 waits at most 100 ms * 2^3, was " + d);
      max = Math.max(max, d);
    }
    assertTrue(max > 400, "jitter spreads over the range, max was " + max);
    assertTrue(b.delay(30, null).toMillis() <= 2000, "capped");
    assertTrue(b.delay(0, Duration.ofSeconds(1)).toMillis() >= 1000, "Retry-After is the least wait");
    assertEquals(2000, b.delay(0, Duration.ofHours(1)).toMillis(), "... bounded by the cap");
    assertEquals(Duration.ofSeconds(7), ProtocolClient.retryAfter(" 7 "));
    assertEquals(null, ProtocolClient.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
  }
}
