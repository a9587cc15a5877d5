package io.crowdbackup.engine.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import org.junit.jupiter.api.Test;

class RetentionTest {
  private static final long HOUR = 3600;
  private final RefusalCounter counter = new RefusalCounter();
  private final RetentionPolicy policy = RetentionPolicy.defaults(counter);
  private final long now = 1_790_000_000L;

  @Test
  void expiryIsTheEarlierOfTheEnvelopesAndTwelveHours() throws Exception {
    assertEquals(12 * HOUR, policy.maxRetentionSeconds());
    assertEquals(now + HOUR, policy.custodyExpiresAtEpochSecond(now + HOUR, now));
    assertEquals(now + 12 * HOUR, policy.custodyExpiresAtEpochSecond(now + 48 * HOUR, now));
    assertEquals(now + 12 * HOUR, policy.custodyExpiresAtEpochSecond(Long.MAX_VALUE, now));
    RefusalException e = assertThrows(RefusalException.class, () -> policy.custodyExpiresAtEpochSecond(now, now));
    assertEquals(Refusal.Reason.EXPIRED, e.reason());
    assertEquals(12 * HOUR, e.refusal().longestRetentionSeconds());
  }

  @Test
  void tooLongARequestGetsACounterOffer() throws Exception {
    assertEquals(now + 5 * HOUR, policy.grant(now + 5 * HOUR, now));
    RefusalException e = assertThrows(RefusalException.class, () -> policy.grant(now + 13 * HOUR, now));
    Refusal r = e.refusal();
    assertEquals(Refusal.Reason.TTL_TOO_LONG, r.reason());
    assertEquals(now + 12 * HOUR, r.counterOfferExpiresAtEpochSecond());
    assertEquals(12 * HOUR, r.longestRetentionSeconds());
    assertEquals(r.counterOfferExpiresAtEpochSecond(), policy.grant(r.counterOfferExpiresAtEpochSecond(), now),
        "the counter-offer is accepted when taken");
    assertEquals(1, counter.count(Refusal.Reason.TTL_TOO_LONG));
    assertFalse(RetentionPolicy.isExpired(now + 1, now));
    assertTrue(RetentionPolicy.isExpired(now, now));
  }

  @Test
  void wallClockJumpsWhileRunningAreIgnored() {
    ManualTimeSource time = new ManualTimeSource(now * 1000);
    CustodyClock clock = CustodyClock.start(time, Long.MIN_VALUE);
    assertEquals(now, clock.nowEpochSecond());
    time.advanceSeconds(100);
    time.jumpWallMillis(-3_600_000); // set back an hour
    assertEquals(now + 100, clock.nowEpochSecond(), "a backwards jump keeps nothing longer");
    assertEquals(-3_600_000, clock.wallClockSkewMillis());
    time.jumpWallMillis(+86_400_000); // then a day ahead
    assertEquals(now + 100, clock.nowEpochSecond(), "a forward jump drops nothing early");
    time.advanceSeconds(12 * HOUR);
    assertEquals(now + 100 + 12 * HOUR, clock.nowEpochSecond(), "and time keeps moving at the real rate");
  }

  @Test
  void aRestartNeverMovesCustodyTimeBackwards() {
    ManualTimeSource time = new ManualTimeSource(now * 1000);
    CustodyClock first = CustodyClock.start(time, Long.MIN_VALUE);
    time.advanceSeconds(6 * HOUR);
    long highWater = first.nowEpochSecond();
    // The process stops; the clock is set back a day; the process starts again.
    time.jumpWallMillis(-86_400_000);
    CustodyClock second = CustodyClock.start(time, highWater);
    assertEquals(highWater, second.nowEpochSecond(), "expired data cannot come back by setting the clock back");
    // A forward jump across a restart is honoured: it may be real time the device was off.
    time.jumpWallMillis(2 * 86_400_000);
    CustodyClock third = CustodyClock.start(time, second.nowEpochSecond());
    assertEquals(highWater + 86_400, third.nowEpochSecond());
  }
}
