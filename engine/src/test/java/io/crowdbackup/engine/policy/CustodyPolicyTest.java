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
  void retentionCapsExpiryTheLedgerReservesAndEveryRefusalIsCountedOnce() throws Exception {
    ManualTimeSource time = new ManualTimeSource(1_790_000_000_000L);
    CustodyPolicy<String> policy = CustodyPolicy.<String>newBuilder()
        .time(time, time)
        .limitBytes(10_000)
        .peerSharePercent(50)
        .ingress(RateLimit.perSecond(1 << 20), RateLimit.perSecond(1 << 16))
        .egress(RateLimit.perSecond(1 << 20), RateLimit.perSecond(1 << 16))
        .build();
    long now = 1_790_000_000L;
    // The custodian's order: retention first, then a reservation of the declared length.
    assertEquals(now + 12 * 3600, policy.retention().custodyExpiresAtEpochSecond(now + 86_400, now));
    policy.ledger().reserve(fp(1), 4000, "a");
    policy.ledger().commit(fp(1));
    assertEquals(Refusal.Reason.PEER_SHARE_EXCEEDED,
        assertThrows(RefusalException.class, () -> policy.ledger().reserve(fp(2), 1001, "a")).reason());
    assertEquals(Refusal.Reason.EXPIRED,
        assertThrows(RefusalException.class, () -> policy.retention().custodyExpiresAtEpochSecond(now, now))
            .reason());
    assertEquals(0, policy.stats().reservedBytes(), "a refusal reserves nothing");
    QuotaStats s = policy.stats();
    assertEquals(4000, s.heldBytes());
    assertEquals(1, s.refusals(Refusal.Reason.PEER_SHARE_EXCEEDED));
    assertEquals(1, s.refusals(Refusal.Reason.EXPIRED));
    assertThrows(IllegalStateException.class, () -> CustodyPolicy.<String>newBuilder().limitBytes(1).build());
  }

  @Test
  void aSettingGivenTwiceIsRefusedWithTheValueAlreadySet() {
    CustodyPolicy.Builder<String> b = CustodyPolicy.<String>newBuilder().limitBytes(1000);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.limitBytes(2000));
    assertEquals("limitBytes was already set to 1000", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> b.peerSharePercent(0));
    b.peerSharePercent(50); // a refused value does not count as set
    assertThrows(IllegalStateException.class, () -> b.peerSharePercent(60));
  }
}
