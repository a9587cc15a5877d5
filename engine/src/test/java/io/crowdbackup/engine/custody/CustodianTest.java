package io.crowdbackup.engine.custody;

import static io.crowdbackup.engine.custody.CustodyFixture.HOME_A;
import static io.crowdbackup.engine.custody.CustodyFixture.HOME_B;
import static io.crowdbackup.engine.custody.CustodyFixture.OTHER_SOURCE;
import static io.crowdbackup.engine.custody.CustodyFixture.SOURCE;
import static io.crowdbackup.engine.custody.CustodyFixture.START_EPOCH_MILLIS;
import static io.crowdbackup.engine.custody.CustodyFixture.START_EPOCH_SECOND;
import static io.crowdbackup.engine.custody.CustodyFixture.envelope;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.ThrottleTimeoutException;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.custody.CustodyFixture.Env;
import io.crowdbackup.engine.policy.ManualTimeSource;
import io.crowdbackup.engine.policy.RetentionPolicy;
import io.crowdbackup.engine.store.ClockFile;
import io.crowdbackup.engine.store.StoreTestSupport;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CustodianTest {
  @TempDir
  Path dir;

  private static Refusal refusal(ThrowingRunnable r) {
    return assertThrows(RefusalException.class, r::run).refusal();
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  @Test
  void refusalsCarryReasonsAndCounterOffersAndReserveNothing() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    Env small = envelope(1, 2_000);
    Env big = envelope(2, 30_000);
    long limit = small.bytes.length * 3L;
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, limit).peerSharePercent(50))) {
      // Too large: more than any one peer may ever place here.
      Refusal tooLarge = refusal(() -> c.accept(big.offer("p1")));
      assertEquals(Refusal.Reason.TOO_LARGE, tooLarge.reason());
      assertEquals(limit, tooLarge.bytesFree());

      // TTL too long: the source insists on a day, the holder grants 12 h and says until when.
      Env longLived = envelope(3, 1_000, START_EPOCH_SECOND + 86_400, HOME_A);
      Refusal ttl = refusal(() -> c.accept(longLived.offerBuilder("p1").requireFullRetention(true).build()));
      assertEquals(Refusal.Reason.TTL_TOO_LONG, ttl.reason());
      assertEquals(RetentionPolicy.DEFAULT_MAX_RETENTION_SECONDS, ttl.longestRetentionSeconds());
      assertEquals(START_EPOCH_SECOND + RetentionPolicy.DEFAULT_MAX_RETENTION_SECONDS,
          ttl.counterOfferExpiresAtEpochSecond());
      // Without insisting, it is accepted and capped at 12 h.
      assertEquals(START_EPOCH_SECOND + RetentionPolicy.DEFAULT_MAX_RETENTION_SECONDS,
          c.receive(longLived.offer("p0"), longLived.channel()).expiresAtEpochSecond());

      // Expired envelope.
      Env old = envelope(4, 500, START_EPOCH_SECOND - 1, HOME_A);
      assertEquals(Refusal.Reason.EXPIRED, refusal(() -> c.accept(old.offer("p2"))).reason());

      // Peer share (50% of the limit): small and another from p1 would pass its share.
      c.receive(small.offer("p1"), small.channel());
      Env third = envelope(5, 2_000);
      Refusal share = refusal(() -> c.accept(third.offer("p1")));
      assertEquals(Refusal.Reason.PEER_SHARE_EXCEEDED, share.reason());
      assertTrue(share.acceptableBytes() < third.bytes.length);

      // Already held; in progress.
      assertEquals(Refusal.Reason.ALREADY_HELD, refusal(() -> c.accept(small.offer("p2"))).reason());
      CustodyUpload inFlight = c.accept(third.offer("p2"));
      assertEquals(Refusal.Reason.UPLOAD_IN_PROGRESS, refusal(() -> c.accept(third.offer("p3"))).reason());

      // Quota full: p3's offer does not fit in what is left.
      Env fourth = envelope(6, 2_000);
      Refusal full = refusal(() -> c.accept(fourth.offer("p3")));
      assertEquals(Refusal.Reason.QUOTA_FULL, full.reason());
      assertEquals(c.stats().freeBytes(), full.bytesFree());
      inFlight.abort();

      // Bytes that do not match the offer: rejected, nothing stored, reservation freed.
      Env other = envelope(7, 2_000);
      Offer lying = Offer.newBuilder().fingerprint(fourth.fingerprint).declaredLengthBytes(other.bytes.length)
          .envelopeExpiresAtEpochSecond(other.expiresAtEpochSecond).sourcePeer("p4").build();
      assertEquals(EnvelopeException.Reason.FINGERPRINT_MISMATCH,
          assertThrows(EnvelopeException.class, () -> c.receive(lying, other.channel())).reason());
      byte[] garbage = new byte[other.bytes.length];
      Arrays.fill(garbage, (byte) 7);
      assertEquals(Refusal.Reason.MALFORMED,
          refusal(() -> c.receive(lying, Channels.newChannel(new ByteArrayInputStream(garbage)))).reason());
      Offer shortOffer = Offer.newBuilder().fingerprint(fourth.fingerprint).declaredLengthBytes(fourth.bytes.length + 10)
          .envelopeExpiresAtEpochSecond(fourth.expiresAtEpochSecond).sourcePeer("p4").build();
      assertEquals(Refusal.Reason.MALFORMED, refusal(() -> c.receive(shortOffer, fourth.channel())).reason());

      CustodyStats s = c.stats();
      assertEquals(0, s.reservedBytes(), "every refused or failed offer released its reservation");
      assertEquals(longLived.bytes.length + small.bytes.length, s.heldBytes());
      for (Refusal.Reason r : new Refusal.Reason[] {Refusal.Reason.TOO_LARGE, Refusal.Reason.TTL_TOO_LONG,
          Refusal.Reason.EXPIRED, Refusal.Reason.PEER_SHARE_EXCEEDED, Refusal.Reason.ALREADY_HELD,
          Refusal.Reason.UPLOAD_IN_PROGRESS, Refusal.Reason.QUOTA_FULL}) {
        assertEquals(1, s.refusals(r), r.toString());
      }
      assertEquals(2, s.refusals(Refusal.Reason.MALFORMED));
      assertEquals(small.bytes.length, s.usageByPeer().get("p1").heldBytes());
      assertEquals(longLived.bytes.length, s.usageByPeer().get("p0").heldBytes());
    }
  }

  @Test
  void receiptsAndReleasesForgedMismatchedReplayedAreRefusedValidOnesDropAndFreeQuota() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    Env a = envelope(21, 3_000);
    Env b = envelope(22, 3_000, START_EPOCH_SECOND + 3600, HOME_B);
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, 1 << 20))) {
      c.receive(a.offer("p"), a.channel());
      c.receive(b.offer("p"), b.channel());
      long held = a.bytes.length + b.bytes.length;
      assertEquals(held, c.stats().heldBytes());

      byte[] forged = a.receipt();
      forged[forged.length - 1] ^= 1;
      assertEquals(ReceiptException.Reason.BAD_SIGNATURE,
          assertThrows(ReceiptException.class, () -> c.acceptReceipt(forged)).reason());
      // Signed by another destination's key (B's destination signs a receipt for A's blob).
      byte[] otherKey = new Env(a.bytes, a.fingerprint, a.expiresAtEpochSecond, HOME_B).receipt();
      assertEquals(ReceiptException.Reason.WRONG_SIGNER,
          assertThrows(ReceiptException.class, () -> c.acceptReceipt(otherKey)).reason());
      // A valid receipt for B offered as the proof for A.
      assertEquals(ReceiptException.Reason.WRONG_FINGERPRINT,
          assertThrows(ReceiptException.class, () -> c.acceptReceipt(a.fingerprint, b.receipt())).reason());
      // A release where a receipt is asked for, and a release signed by another source.
      assertEquals(ReceiptException.Reason.WRONG_KIND,
          assertThrows(ReceiptException.class, () -> c.acceptReceipt(a.release(SOURCE))).reason());
      assertEquals(ReceiptException.Reason.WRONG_SIGNER,
          assertThrows(ReceiptException.class, () -> c.acceptRelease(a.release(OTHER_SOURCE))).reason());
      assertEquals(ReceiptException.Reason.RECEIPT_MALFORMED,
          assertThrows(ReceiptException.class, () -> c.acceptReceipt(new byte[12])).reason());
      assertEquals(held, c.stats().heldBytes(), "refused proofs drop nothing");
      assertEquals(BlobState.HELD, c.stat(a.fingerprint).state());

      assertEquals(DropOutcome.DROPPED, c.acceptReceipt(a.receipt()));
      assertEquals(b.bytes.length, c.stats().heldBytes(), "a valid receipt frees the quota at once");
      assertEquals(DropOutcome.ALREADY_DELIVERED, c.acceptReceipt(a.receipt()), "replay");
      assertEquals(Refusal.Reason.ALREADY_DELIVERED, refusal(() -> c.accept(a.offer("q"))).reason());

      assertEquals(DropOutcome.DROPPED, c.acceptRelease(b.release(SOURCE)));
      assertEquals(0, c.stats().heldBytes());
      assertEquals(DropOutcome.ALREADY_DELIVERED, c.acceptRelease(b.release(SOURCE)));
      assertEquals(DropOutcome.NOT_HELD, c.acceptReceipt(envelope(23, 100).receipt()));
      CustodyStats s = c.stats();
      assertEquals(1, s.deliveredByReceiptCount());
      assertEquals(1, s.releasedCount());
      assertEquals(1, s.receiptRefusals().get(ReceiptException.Reason.BAD_SIGNATURE));
      assertEquals(2, s.receiptRefusals().get(ReceiptException.Reason.WRONG_SIGNER));
    }
    // Remembered across a restart until expiry.
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, 1 << 20))) {
      assertEquals(Refusal.Reason.ALREADY_DELIVERED, refusal(() -> c.accept(a.offer("q"))).reason());
      assertEquals(DropOutcome.ALREADY_DELIVERED, c.acceptReceipt(a.receipt()));
    }
  }

  @Test
  void forwardOnceOnlyToItsOwnLocatorOneAtATimeAndAFailedForwardReturnsToHeld() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    Env a = envelope(31, 9_000);
    Env soon = envelope(32, 1_000, START_EPOCH_SECOND + 600, HOME_A);
    Env b = envelope(33, 1_000, START_EPOCH_SECOND + 60, HOME_B);
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, 1 << 20))) {
      c.receive(a.offer("p"), a.channel());
      c.receive(soon.offer("p"), soon.channel());
      c.receive(b.offer("p"), b.channel());
      assertEquals(Arrays.asList(soon.fingerprint, a.fingerprint),
          c.pendingFor("home-a.example").stream().map(s -> s.fingerprint()).collect(java.util.stream.Collectors.toList()));
      assertEquals(Arrays.asList("home-b.example", "home-a.example"), new java.util.ArrayList<>(c.pendingByLocator().keySet()));

      assertEquals(CustodyException.Reason.WRONG_LOCATOR,
          assertThrows(CustodyException.class, () -> c.beginForward(a.fingerprint, "home-b.example")).reason());
      assertEquals(CustodyException.Reason.WRONG_LOCATOR,
          assertThrows(CustodyException.class, () -> c.beginForward(a.fingerprint, "evil-peer")).reason());
      Forward f = c.beginForward(a.fingerprint, "home-a.example");
      assertEquals(BlobState.FORWARDING, c.stat(a.fingerprint).state());
      assertEquals(CustodyException.Reason.ALREADY_FORWARDING,
          assertThrows(CustodyException.class, () -> c.beginForward(a.fingerprint, "home-a.example")).reason());
      assertEquals(1, c.stats().forwardingCount());
      assertArrayEquals(a.bytes, StoreTestSupport.readAll(f.channel()));
      f.failed();
      assertEquals(BlobState.HELD, c.stat(a.fingerprint).state(), "a failed forward returns to held");
      assertEquals(0, c.stats().forwardingCount());

      try (Forward again = c.beginForward(a.fingerprint, "home-a.example")) {
        StoreTestSupport.readAll(again.channel());
        assertEquals(ReceiptException.Reason.WRONG_FINGERPRINT,
            assertThrows(ReceiptException.class, () -> again.delivered(soon.receipt())).reason());
        assertEquals(DropOutcome.DROPPED, again.delivered(a.receipt()));
      }
      assertEquals(BlobState.DELIVERED, c.stat(a.fingerprint).state());
      assertEquals(StoreException.Reason.NOT_FOUND,
          assertThrows(StoreException.class, () -> c.beginForward(a.fingerprint, "home-a.example")).reason());
      // Closing an unfinished forward is a failed forward.
      c.beginForward(soon.fingerprint, "home-a.example").close();
      assertEquals(BlobState.HELD, c.stat(soon.fingerprint).state());
      // Custody blobs are not handed to peers.
      assertEquals(StoreException.Reason.NOT_FOUND,
          assertThrows(StoreException.class, () -> c.openOwn(soon.fingerprint, "peer")).reason());
      // Own envelopes are what this device offers.
      Env mine = envelope(34, 1_000);
      c.putOwn(mine.fingerprint, mine.bytes.length, mine.channel());
      assertEquals(1, c.ownEnvelopes().size());
      assertEquals(BlobKind.OWN, c.ownEnvelopes().get(0).kind());
      assertArrayEquals(mine.bytes, StoreTestSupport.readAll(c.openOwn(mine.fingerprint, "peer")));
      assertEquals(soon.bytes.length + b.bytes.length, c.stats().heldBytes(), "own envelopes use no quota");
    }
  }

  @Test
  void aForwardInterruptedByACrashIsHeldAgainAfterReopen() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    Env a = envelope(41, 2_000);
    Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, 1 << 20));
    c.receive(a.offer("p"), a.channel());
    c.beginForward(a.fingerprint, "home-a.example");
    Path crashed = CrashCopy.snapshot(dir);
    c.close();
    try (Custodian r = CustodyFixture.open(crashed, CustodyFixture.policy(time, 1 << 20))) {
      assertEquals(BlobState.HELD, r.stat(a.fingerprint).state());
      assertEquals(a.bytes.length, r.stats().heldBytes());
      try (Forward f = r.beginForward(a.fingerprint, "home-a.example")) {
        assertArrayEquals(a.bytes, StoreTestSupport.readAll(f.channel()));
      }
    }
  }

  @Test
  void ingressIsThrottledPerPeerOnTheInjectedClock() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    Env a = envelope(51, 20_000);
    RateLimit perPeer = RateLimit.of(4_096, 4_096);
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, 1 << 20, RateLimit.of(1 << 20, 1 << 20), perPeer,
        CustodyFixture.UNSHAPED, CustodyFixture.UNSHAPED))) {
      long before = time.sleptNanos();
      CustodyUpload u = c.accept(a.offer("slow-peer"));
      u.write(ByteBuffer.wrap(a.bytes));
      u.commit();
      long slept = time.sleptNanos() - before;
      // The peer bucket starts empty: every byte is paid at 4 KiB/s.
      long expectedNanos = (long) a.bytes.length * 1_000_000_000L / 4_096;
      assertTrue(slept >= expectedNanos - 1_000_000_000L, "slept " + slept + " ns, expected about " + expectedNanos);
      assertTrue(slept <= expectedNanos + 1_000_000_000L, "slept " + slept + " ns, expected about " + expectedNanos);
      assertNotNull(c.stat(a.fingerprint));
    }
  }

  @Test
  void theBandwidthTimeoutsOfAHolderConfigReachTheCustodian() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    Env a = envelope(52, 20_000);
    RateLimit slow = RateLimit.of(4_096, 4_096);
    // The default 30 s would let each piece wait (about 5 s in all, as above); these fail the first piece
    // the bucket cannot cover within them.
    HolderConfig config = HolderConfig.newBuilder(dir.resolve("holder")).limitBytes(1 << 20).time(time)
        .ingress(CustodyFixture.UNSHAPED, slow).egress(CustodyFixture.UNSHAPED, slow)
        .ingressTimeout(Duration.ofMillis(100)).egressTimeout(Duration.ZERO).build();
    assertEquals(Duration.ofMillis(100), config.ingressTimeout());
    assertEquals(Duration.ZERO, config.egressTimeout());
    try (Custodian c = Custodian.open(config)) {
      try (CustodyUpload u = c.accept(a.offer("slow-peer"))) {
        ThrottleTimeoutException in =
            assertThrows(ThrottleTimeoutException.class, () -> u.write(ByteBuffer.wrap(a.bytes)));
        assertEquals(Duration.ofMillis(100), in.timeout());
      }
      Env own = envelope(53, 20_000);
      c.putOwn(own.fingerprint, own.bytes.length, own.channel());
      try (ReadableByteChannel out = c.openOwn(own.fingerprint, "home")) {
        ByteBuffer all = ByteBuffer.allocate(own.bytes.length);
        ThrottleTimeoutException e = assertThrows(ThrottleTimeoutException.class, () -> {
          while (all.hasRemaining() && out.read(all) >= 0) {
            // reads until the egress bucket runs dry
          }
        });
        assertEquals(Duration.ZERO, e.timeout());
      }
    }
    HolderConfig defaults = HolderConfig.newBuilder(dir.resolve("other")).limitBytes(1 << 20)
        .ingress(slow, slow).egress(slow, slow).build();
    assertEquals(HolderConfig.DEFAULT_BANDWIDTH_TIMEOUT, defaults.ingressTimeout());
    assertEquals(HolderConfig.DEFAULT_BANDWIDTH_TIMEOUT, defaults.egressTimeout());
  }

  @Test
  void expiryOnTheCustodyClockIgnoresWallJumpsWhileRunningAndNeverGoesBackAcrossRestarts() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    Env hour = envelope(61, 2_000, START_EPOCH_SECOND + 3600, HOME_A);
    Env day = envelope(62, 2_000, START_EPOCH_SECOND + 86_400, HOME_A);
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, 1 << 20))) {
      c.receive(hour.offer("p"), hour.channel());
      c.receive(day.offer("p"), day.channel());
      time.advanceSeconds(1800);
      time.jumpWallMillis(5 * 3600_000L); // NTP or the user: ignored while running
      assertEquals(0, c.evictExpired());
      try (Forward f = c.beginForward(hour.fingerprint, "home-a.example")) {
        assertArrayEquals(hour.bytes, StoreTestSupport.readAll(f.channel()));
      }
      time.jumpWallMillis(-10 * 3600_000L); // and backwards: still ignored
      time.advanceSeconds(1801);
      assertEquals(StoreException.Reason.PAST_EXPIRY,
          assertThrows(StoreException.class, () -> c.beginForward(hour.fingerprint, "home-a.example")).reason());
      assertTrue(c.pendingFor("home-a.example").stream().noneMatch(s -> s.fingerprint().equals(hour.fingerprint)));
      assertEquals(1, c.evictExpired());
      assertEquals(day.bytes.length, c.stats().heldBytes(), "eviction frees the quota");
      assertEquals(1, c.stats().evictedCount());
      assertEquals(hour.bytes.length, c.stats().evictedBytes());
    }
    // Restart with the wall clock set back a day: custody time resumes from the high-water mark.
    long highWater = ClockFile.read(dir.resolve("custody.clock"));
    assertEquals(START_EPOCH_SECOND + 3601, highWater);
    ManualTimeSource setBack = new ManualTimeSource(START_EPOCH_MILLIS - 86_400_000L);
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(setBack, 1 << 20))) {
      assertTrue(c.nowEpochSecond() >= highWater, "custody time " + c.nowEpochSecond() + " went back");
      // The 12 h cap set at acceptance stands: the day-long envelope goes at start + 12 h.
      setBack.advanceSeconds(12 * 3600 - 3601);
      assertEquals(1, c.evictExpired());
      assertEquals(0, c.stats().heldBytes());
    }
  }

  @Test
  void aRestartRecoversTheLedgerExactlyWithResumableReservationsAndIsNoWayAroundTheQuota() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    Env held = envelope(71, 3_000);
    Env partial = envelope(72, 3_000);
    Env more = envelope(73, 3_000);
    long limit = held.bytes.length + partial.bytes.length + 100;
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, limit))) {
      c.receive(held.offer("p"), held.channel());
      try (CustodyUpload u = c.accept(partial.offer("q"))) {
        u.write(ByteBuffer.wrap(partial.bytes, 0, 1_500));
        u.checkpoint();
      }
      assertEquals(partial.bytes.length, c.stats().reservedBytes());
    }
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, limit))) {
      CustodyStats s = c.stats();
      assertEquals(held.bytes.length, s.heldBytes());
      assertEquals(partial.bytes.length, s.reservedBytes(), "the resumable upload keeps its reservation");
      assertEquals(1, s.reservedCount());
      assertEquals(partial.bytes.length, s.usageByPeer().get("q").reservedBytes());
      Refusal full = refusal(() -> c.accept(more.offer("r")));
      assertEquals(Refusal.Reason.QUOTA_FULL, full.reason(), "a restart is no way around the quota");
      assertEquals(100, full.bytesFree());
      try (CustodyUpload u = c.resume(partial.fingerprint)) {
        ByteBuffer rest = ByteBuffer.wrap(partial.bytes);
        rest.position((int) u.offset());
        u.write(rest);
        u.commit();
      }
      assertEquals(held.bytes.length + partial.bytes.length, c.stats().heldBytes());
      assertEquals(0, c.stats().reservedBytes());
      assertEquals(c.storeUsage().custodyHeldBytes(), c.stats().heldBytes());
    }
  }

  @Test
  void forwardsArePaidByTheDestinationsEgressBucket() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    Env a = envelope(81, 20_000);
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, 1 << 20, CustodyFixture.UNSHAPED,
        CustodyFixture.UNSHAPED, RateLimit.of(1 << 20, 1 << 20), RateLimit.of(4_096, 4_096)))) {
      c.receive(a.offer("p"), a.channel());
      long before = time.sleptNanos();
      try (Forward f = c.beginForward(a.fingerprint, "home-a.example")) {
        assertArrayEquals(a.bytes, StoreTestSupport.readAll(f.channel()));
        assertEquals(DropOutcome.DROPPED, f.delivered(a.receipt()));
      }
      long slept = time.sleptNanos() - before;
      long expectedNanos = (long) a.bytes.length * 1_000_000_000L / 4_096;
      assertTrue(Math.abs(slept - expectedNanos) <= 1_000_000_000L, "slept " + slept + " ns, expected about "
          + expectedNanos);
    }
  }
}
