package io.crowdbackup.engine.policy;

import static io.crowdbackup.engine.policy.QuotaLedgerTest.fp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.crowdbackup.api.policy.QuotaStats;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import org.junit.jupiter.api.Test;

class CustodyPolicyTest {
  @Test
  void admitCapsRetentionReservesAndCountsEveryRefusalOnce() throws Exception {
    ManualTimeSource time = new ManualTimeSource(1_790_000_000_000L);
    CustodyPolicy<String> policy = CustodyPolicy.<String>newBuilder()
        .time(time, time)
        .limitBytes(10_000)
        .peerSharePercent(50)
        .ingress(RateLimit.perSecond(1 << 20), RateLimit.perSecond(1 << 16))
        .egress(RateLimit.perSecond(1 << 20), RateLimit.perSecond(1 << 16))
        .build();
    long now = 1_790_000_000L;
    CustodyPolicy.Admission<String> a = policy.admit(fp(1), 4000, now + 86_400, "a");
    assertEquals(now + 12 * 3600, a.custodyExpiresAtEpochSecond());
    a.reservation().commit();
    assertEquals(Refusal.Reason.PEER_SHARE_EXCEEDED,
        assertThrows(RefusalException.class, () -> policy.admit(fp(2), 1001, now + 60, "a")).reason());
    assertEquals(Refusal.Reason.EXPIRED,
        assertThrows(RefusalException.class, () -> policy.admit(fp(3), 10, now, "b")).reason());
    assertEquals(0, policy.stats().reservedBytes(), "an expired offer reserves nothing");
    QuotaStats s = policy.stats();
    assertEquals(4000, s.heldBytes());
    assertEquals(1, s.refusals(Refusal.Reason.PEER_SHARE_EXCEEDED));
    assertEquals(1, s.refusals(Refusal.Reason.EXPIRED));
    assertThrows(IllegalStateException.class, () -> CustodyPolicy.<String>newBuilder().limitBytes(1).build());
  }
}
