package io.crowdbackup.engine.custody;

import static io.crowdbackup.engine.custody.CustodyFixture.HOME_A;
import static io.crowdbackup.engine.custody.CustodyFixture.START_EPOCH_MILLIS;
import static io.crowdbackup.engine.custody.CustodyFixture.START_EPOCH_SECOND;
import static io.crowdbackup.engine.custody.CustodyFixture.envelope;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.custody.CustodyFixture.Env;
import io.crowdbackup.engine.policy.ManualTimeSource;
import io.crowdbackup.engine.policy.RetentionPolicy;
import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a refusal tells the peer: its reason once, the numbers it needs, times as ISO-8601 instants, and
 * never a path of the holder's device — that stays in the local cause.
 */
class RefusalMessagesTest {
  @TempDir
  Path dir;

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  private RefusalException refused(ThrowingRunnable r) {
    return assertThrows(RefusalException.class, r::run);
  }

  /** The peer's view: no local path, no repeated reason. */
  private void assertFitForAPeer(Refusal r) {
    String m = r.message();
    assertFalse(m.contains(dir.toString()), "a local path in: " + m);
    assertFalse(m.contains(".part") || m.contains("/blobs") || m.contains("["), "a store file in: " + m);
    assertFalse(m.startsWith(r.reason().name()), "the reason repeated: " + m);
    assertFalse(m.contains(r.reason() + ": "), "the reason repeated: " + m);
  }

  @Test
  void bytesRejectedByTheStoreAreRefusedWithoutTheHoldersPathsWhichStayInTheLocalCause() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, 1_000_000))) {
      Env promised = envelope(1, 2_000);
      Env sent = envelope(2, 2_000);
      Offer lying = Offer.newBuilder().fingerprint(promised.fingerprint).declaredLengthBytes(sent.bytes.length)
          .envelopeExpiresAtEpochSecond(sent.expiresAtEpochSecond).sourcePeer("p1").build();

      // A fingerprint mismatch is the envelope's own rejection (the wire's fingerprint-mismatch), no path.
      EnvelopeException mismatch = assertThrows(EnvelopeException.class, () -> c.receive(lying, sent.channel()));
      assertEquals(EnvelopeException.Reason.FINGERPRINT_MISMATCH, mismatch.reason());
      assertFalse(mismatch.getMessage().contains(dir.toString()), mismatch.getMessage());
      assertTrue(mismatch.getMessage().contains(promised.fingerprint.toString())
          && mismatch.getMessage().contains(sent.fingerprint.toString()),
          "the peer is told both fingerprints: " + mismatch.getMessage());

      byte[] garbage = new byte[sent.bytes.length];
      Arrays.fill(garbage, (byte) 7);
      RefusalException malformed = refused(() -> c.receive(lying, Channels.newChannel(new ByteArrayInputStream(garbage))));
      assertEquals(Refusal.Reason.MALFORMED, malformed.reason());
      assertFitForAPeer(malformed.refusal());

      Offer tooLong = Offer.newBuilder().fingerprint(sent.fingerprint).declaredLengthBytes(sent.bytes.length + 10)
          .envelopeExpiresAtEpochSecond(sent.expiresAtEpochSecond).sourcePeer("p1").build();
      RefusalException length = refused(() -> c.receive(tooLong, sent.channel()));
      assertEquals(Refusal.Reason.MALFORMED, length.reason());
      assertFitForAPeer(length.refusal());
      assertTrue(length.refusal().message().contains(String.valueOf(sent.bytes.length + 10)),
          "the peer is told the declared length: " + length.refusal().message());
    }
  }

  @Test
  void everyStoreRejectionBecomesAPeerMessageWithoutItsPathOrReason() {
    String part = dir.resolve("blobs/partial/0100.part").toString();
    for (StoreException.Reason reason : StoreException.Reason.values()) {
      StoreException e = new StoreException(reason, part, "writing " + part + " failed: 1234 bytes of 5678");
      Refusal r = StoreRefusals.refusalFor(e);
      if (r == null) {
        continue;
      }
      assertFitForAPeer(r);
      if (reason != StoreException.Reason.DISK_FULL) {
        assertTrue(r.message().contains("1234 bytes of 5678"), r.message());
      }
    }
    Refusal noPath = StoreRefusals.refusalFor(new StoreException(StoreException.Reason.DELIVERED, null,
        "blob x was delivered"));
    assertEquals("blob x was delivered", noPath.message());
  }

  @Test
  void refusalsAboutTimeSayWhenInIsoInstants() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, 1_000_000))) {
      long asked = START_EPOCH_SECOND + 86_400;
      Env longLived = envelope(3, 1_000, asked, HOME_A);
      Refusal ttl = refused(() -> c.accept(longLived.offerBuilder("p1").requireFullRetention(true).build()))
          .refusal();
      long granted = START_EPOCH_SECOND + RetentionPolicy.DEFAULT_MAX_RETENTION_SECONDS;
      assertTrue(ttl.message().contains(Instant.ofEpochSecond(asked).toString())
          && ttl.message().contains(Instant.ofEpochSecond(granted).toString()), ttl.message());
      assertFalse(ttl.message().contains(String.valueOf(granted)), "an epoch second in: " + ttl.message());
      assertEquals(granted, ttl.counterOfferExpiresAtEpochSecond(), "the field keeps the number");

      Env old = envelope(4, 500, START_EPOCH_SECOND - 1, HOME_A);
      Refusal expired = refused(() -> c.accept(old.offer("p2"))).refusal();
      assertTrue(expired.message().contains(Instant.ofEpochSecond(START_EPOCH_SECOND - 1).toString()),
          expired.message());
      assertFalse(expired.message().contains(String.valueOf(START_EPOCH_SECOND)), expired.message());
    }
    assertEquals("epoch second " + Long.MAX_VALUE, RetentionPolicy.isoInstant(Long.MAX_VALUE));
  }

  @Test
  void aStoreRefusalOfADeliveredEnvelopeSaysUntilWhenInAnIsoInstant() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, 1_000_000))) {
      Env a = envelope(5, 1_000);
      c.receive(a.offer("p1"), Channels.newChannel(new ByteArrayInputStream(a.bytes)));
      c.acceptReceipt(a.receipt());
      Refusal delivered = refused(() -> c.accept(a.offer("p2"))).refusal();
      assertEquals(Refusal.Reason.ALREADY_DELIVERED, delivered.reason());
      assertFalse(delivered.message().matches(".*\\b\\d{9,}\\b.*"), "an epoch second in: " + delivered.message());
    }
  }
}
