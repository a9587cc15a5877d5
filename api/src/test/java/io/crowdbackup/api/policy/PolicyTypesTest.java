package io.crowdbackup.api.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PolicyTypesTest {
  @Test
  void refusalCarriesItsCounterOfferAndSaysOnlyWhatApplies() {
    Refusal r = Refusal.ofTime(Refusal.Reason.TTL_TOO_LONG, "too long", 43_200, 1_790_043_200L);
    assertEquals(Refusal.NOT_APPLICABLE, r.bytesFree());
    assertEquals(1_790_043_200L, r.counterOfferExpiresAtEpochSecond());
    assertTrue(r.toString().contains("counterOfferExpiresAtEpochSecond=1790043200"), r.toString());
    assertTrue(!r.toString().contains("bytesFree"), r.toString());
    RefusalException e = r.toException();
    assertEquals(Refusal.Reason.TTL_TOO_LONG, e.reason());
    assertEquals(0, e.getStackTrace().length, "refusals are cheap: no stack trace");
    assertNull(e.getCause());
    assertEquals(r, Refusal.ofTime(Refusal.Reason.TTL_TOO_LONG, "too long", 43_200, 1_790_043_200L));
  }

  @Test
  void quotaStatsDerivesFreeAndOverLimit() {
    long[] refusals = new long[Refusal.Reason.values().length];
    refusals[Refusal.Reason.QUOTA_FULL.ordinal()] = 3;
    QuotaStats s = new QuotaStats(1000, 600, 300, 2, 1, 2, refusals);
    refusals[Refusal.Reason.QUOTA_FULL.ordinal()] = 99;
    assertEquals(100, s.freeBytes());
    assertEquals(0, s.overLimitBytes());
    assertEquals(3, s.refusals(Refusal.Reason.QUOTA_FULL), "the counts were copied");
    QuotaStats over = new QuotaStats(500, 600, 0, 1, 0, 1, new long[Refusal.Reason.values().length]);
    assertEquals(0, over.freeBytes());
    assertEquals(100, over.overLimitBytes());
    assertThrows(IllegalArgumentException.class, () -> new QuotaStats(1, 0, 0, 0, 0, 0, new long[1]));
  }

  @Test
  void rateLimitChecksItsBoundsAndDefaultsTheBurst() {
    assertEquals(16 * 1024, RateLimit.perSecond(1024).burstBytes());
    assertEquals((10L << 30) / 10, RateLimit.perSecond(10L << 30).burstBytes());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RateLimit.of(0, 1));
    assertTrue(e.getMessage().contains("was 0"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> RateLimit.of(RateLimit.MAX_BYTES_PER_SECOND + 1, 1));
    assertThrows(IllegalArgumentException.class, () -> RateLimit.of(1, 0));
    assertTrue(TimeSource.system().epochSecond() > 1_700_000_000L);
  }
}
