package io.crowdbackup.engine.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.QuotaStats;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QuotaLedgerTest {
  static Fingerprint fp(int i) {
    byte[] b = new byte[32];
    b[0] = (byte) (i >>> 24);
    b[1] = (byte) (i >>> 16);
    b[2] = (byte) (i >>> 8);
    b[3] = (byte) i;
    b[31] = 7;
    return Fingerprint.of(b);
  }

  private static QuotaLedger<String> ledger() {
    return QuotaLedger.<String>newBuilder().limitBytes(1000).peerShareBytes(600).maxEnvelopeBytes(500).build();
  }

  private static Refusal refused(QuotaLedger<String> l, int fp, long bytes, String peer) {
    RefusalException e = assertThrows(RefusalException.class, () -> l.reserve(fp(fp), bytes, peer));
    return e.refusal();
  }

  @Test
  void reserveCommitReleaseMoveBytesBetweenReservedHeldAndFree() throws Exception {
    QuotaLedger<String> l = ledger();
    QuotaLedger.Reservation<String> r = l.reserve(fp(1), 300, "a");
    assertEquals(QuotaLedger.State.RESERVED, l.stateOf(fp(1)));
    QuotaStats s = l.stats();
    assertEquals(300, s.reservedBytes());
    assertEquals(0, s.heldBytes());
    assertEquals(700, s.freeBytes());
    r.commit();
    s = l.stats();
    assertEquals(0, s.reservedBytes());
    assertEquals(300, s.heldBytes());
    assertEquals(1, s.heldCount());
    assertEquals(300, l.usage("a").heldBytes());
    assertEquals(300, l.release(fp(1)));
    assertEquals(0, l.release(fp(1)), "a second release frees nothing");
    assertEquals(1000, l.stats().freeBytes());
    assertEquals(0, l.stats().peerCount(), "a peer with nothing left is forgotten");
  }

  @Test
  void refusalsSayWhyAndWhatWouldFit() throws Exception {
    QuotaLedger<String> l = ledger();
    l.reserve(fp(1), 500, "a");
    l.reserve(fp(2), 400, "b");

    Refusal full = refused(l, 3, 200, "c");
    assertEquals(Refusal.Reason.QUOTA_FULL, full.reason());
    assertEquals(100, full.bytesFree());
    assertEquals(100, full.acceptableBytes());
    assertTrue(full.message().contains("200") && full.message().contains("100"), full.message());

    l.release(fp(2));
    Refusal share = refused(l, 4, 101, "a");
    assertEquals(Refusal.Reason.PEER_SHARE_EXCEEDED, share.reason());
    assertEquals(500, share.bytesFree());
    assertEquals(100, share.acceptableBytes(), "peer a has 100 of its 600 left");

    Refusal tooLarge = refused(l, 5, 501, "c");
    assertEquals(Refusal.Reason.TOO_LARGE, tooLarge.reason());
    assertEquals(500, tooLarge.acceptableBytes());

    assertEquals(Refusal.Reason.UPLOAD_IN_PROGRESS, refused(l, 1, 10, "c").reason());
    l.commit(fp(1));
    assertEquals(Refusal.Reason.ALREADY_HELD, refused(l, 1, 10, "c").reason());
    assertEquals(Refusal.Reason.MALFORMED, refused(l, 6, 0, "c").reason());
    assertEquals(Refusal.Reason.MALFORMED, refused(l, 6, -5, "c").reason());

    QuotaStats s = l.stats();
    assertEquals(1, s.refusals(Refusal.Reason.QUOTA_FULL));
    assertEquals(1, s.refusals(Refusal.Reason.PEER_SHARE_EXCEEDED));
    assertEquals(1, s.refusals(Refusal.Reason.TOO_LARGE));
    assertEquals(2, s.refusals(Refusal.Reason.MALFORMED));
    assertEquals(500, s.heldBytes(), "refusals change nothing");
    assertEquals(0, s.reservedBytes());
  }

  @Test
  void commitWithoutReservationIsACallerBug() throws Exception {
    QuotaLedger<String> l = ledger();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> l.commit(fp(9)));
    assertTrue(e.getMessage().contains(fp(9).toHex()) && e.getMessage().contains("ABSENT"), e.getMessage());
    l.reserve(fp(9), 10, "a").commit();
    assertThrows(IllegalStateException.class, () -> l.commit(fp(9)));
    assertEquals(10, l.stats().heldBytes());
  }

  @Test
  void peerSharePercentIsOfTheLimit() {
    QuotaLedger<String> l = QuotaLedger.<String>newBuilder().limitBytes(1_000_000_007L).peerSharePercent(25).build();
    assertEquals(250_000_001L, l.peerShareBytes());
    assertThrows(IllegalStateException.class,
        () -> QuotaLedger.<String>newBuilder().limitBytes(10).peerSharePercent(5).peerShareBytes(3));
    assertThrows(IllegalStateException.class, () -> QuotaLedger.<String>newBuilder().build());
    assertThrows(IllegalArgumentException.class, () -> QuotaLedger.<String>newBuilder().limitBytes(0));
  }

  @Test
  void rebuildRestoresTheExactStateSoARestartIsNoWayAroundTheQuota() throws Exception {
    QuotaLedger<String> before = ledger();
    before.reserve(fp(1), 400, "a").commit();
    before.reserve(fp(2), 200, "a");
    before.reserve(fp(3), 300, "b").commit();

    // What the store would report after a restart: its committed blobs and its kept partial uploads.
    List<LedgerEntry<String>> onDisk = new ArrayList<>();
    onDisk.add(LedgerEntry.held(fp(1), 400, "a"));
    onDisk.add(LedgerEntry.reserved(fp(2), 200, "a"));
    onDisk.add(LedgerEntry.held(fp(3), 300, "b"));
    QuotaLedger<String> after = ledger();
    after.rebuild(onDisk);

    QuotaStats s0 = before.stats();
    QuotaStats s1 = after.stats();
    assertEquals(s0.heldBytes(), s1.heldBytes());
    assertEquals(s0.reservedBytes(), s1.reservedBytes());
    assertEquals(s0.heldCount(), s1.heldCount());
    assertEquals(s0.reservedCount(), s1.reservedCount());
    assertEquals(s0.peerCount(), s1.peerCount());
    assertEquals(before.usageByPeer().toString(), after.usageByPeer().toString());
    assertEquals(Refusal.Reason.QUOTA_FULL, refused(after, 4, 101, "c").reason());
    assertEquals(Refusal.Reason.PEER_SHARE_EXCEEDED, refused(after, 4, 1, "a").reason());
    assertEquals(Refusal.Reason.UPLOAD_IN_PROGRESS, refused(after, 2, 1, "c").reason());
    after.commit(fp(2)); // the partial upload resumes and completes after the restart
    assertEquals(900, after.stats().heldBytes());
  }

  @Test
  void rebuildOverALoweredLimitEvictsNothingAndRefusesEverything() throws Exception {
    QuotaLedger<String> l = QuotaLedger.<String>newBuilder().limitBytes(500).build();
    List<LedgerEntry<String>> onDisk = new ArrayList<>();
    onDisk.add(LedgerEntry.held(fp(1), 400, "a"));
    onDisk.add(LedgerEntry.held(fp(2), 400, "b"));
    l.rebuild(onDisk);
    QuotaStats s = l.stats();
    assertEquals(800, s.heldBytes());
    assertEquals(0, s.freeBytes());
    assertEquals(300, s.overLimitBytes());
    Refusal r = refused(l, 3, 1, "c");
    assertEquals(Refusal.Reason.QUOTA_FULL, r.reason());
    assertEquals(0, r.bytesFree());
    l.release(fp(1));
    l.reserve(fp(3), 100, "c");
  }

  @Test
  void rebuildRejectsADuplicateAndLeavesTheLedgerAsItWas() throws Exception {
    QuotaLedger<String> l = ledger();
    l.reserve(fp(7), 50, "a");
    List<LedgerEntry<String>> onDisk = new ArrayList<>();
    onDisk.add(LedgerEntry.held(fp(1), 400, "a"));
    onDisk.add(LedgerEntry.reserved(fp(1), 400, "b"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> l.rebuild(onDisk));
    assertTrue(e.getMessage().contains(fp(1).toHex()), e.getMessage());
    assertEquals(50, l.stats().reservedBytes());
    assertEquals(QuotaLedger.State.RESERVED, l.stateOf(fp(7)));
  }
}
