package io.crowdbackup.engine.envelope;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.SecretAccess;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.inbox.Delivery;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.policy.ManualTimeSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay's duty toward the outer layer (envelope-format.md §14): it may not outlive its inner envelope. */
class RelayLayersTest {
  static final DestinationKeyPair DEST = TestEnvelopes.destination(21, "https://home.example/inbox");
  static final DestinationKeyPair RELAY = TestEnvelopes.destination(22, "https://relay.example/in");
  static final SigningKeyPair SOURCE = TestEnvelopes.source(23);
  static final long INNER_EXPIRY = TestEnvelopes.EXPIRES;

  @TempDir
  Path dir;

  @Test
  void anOuterLayerThatOutlivesItsInnerEnvelopeIsRefusedAndNothingIsQueued() throws Exception {
    byte[] outer = outerAround(inner(), INNER_EXPIRY + 1);
    try (Inbox relay = relayInbox()) {
      EnvelopeException e = assertThrows(EnvelopeException.class, () -> relay.deliver(file(outer)));
      assertEquals(EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS, e.reason());
      assertTrue(e.getMessage().contains("may not outlive"), e.getMessage());
      assertEquals(0, relay.deliveredCount());
    }
    try (Stream<Path> s = Files.list(dir.resolve("relay"))) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".cbe")), "no inner envelope queued");
    }
  }

  @Test
  void anOuterLayerExpiringWithOrBeforeItsInnerEnvelopeIsRelayed() throws Exception {
    byte[] inner = inner();
    try (Inbox relay = relayInbox()) {
      for (long expiry : new long[] {INNER_EXPIRY, INNER_EXPIRY - 3600}) {
        Delivery d = relay.deliver(file(outerAround(inner, expiry)));
        assertEquals(Delivery.Outcome.RELAYED, d.outcome());
      }
    }
  }

  private Inbox relayInbox() throws Exception {
    return Inbox.newBuilder().directory(dir.resolve("relay")).keys(RELAY).mode(Inbox.Mode.RELAY)
        .time(new ManualTimeSource((INNER_EXPIRY - 86_400) * 1000L)).open();
  }

  private Path file(byte[] envelope) throws Exception {
    Path p = Files.createTempFile(dir, "outer", ".cbe");
    Files.write(p, envelope);
    return p;
  }

  private static byte[] inner() throws Exception {
    try (StreamingSealer s = TestEnvelopes.deterministicSealer(5, 1)) {
      return TestEnvelopes.seal(s, TestEnvelopes.request(DEST, SOURCE).expiresAtEpochSecond(INNER_EXPIRY).build(),
          TestEnvelopes.plaintext(6, 10_000, false));
    }
  }

  /** An outer layer sealed to the relay, by the reference sealer, with its own expiry. */
  private static byte[] outerAround(byte[] inner, long expiry) throws Exception {
    SpecReference.Plan p = new SpecReference.Plan();
    p.chunkSizeLog2 = 12;
    p.expiresAtEpochSecond = expiry;
    p.ephemeralSecret = VectorGenerator.secret("relay layers ephemeral secret " + expiry);
    p.salt = VectorGenerator.secret("relay layers salt " + expiry);
    p.destinationAgreementKey = RELAY.card().agreementKey();
    p.receiptKey = RELAY.card().receiptKey();
    p.releaseKey = SOURCE.publicKey();
    p.locator = RELAY.card().locator();
    for (int off = 0; off < inner.length; off += 4096) {
      p.dataChunkPlaintexts.add(EnvelopeLayout.concat(new byte[] {0},
          Arrays.copyOfRange(inner, off, Math.min(inner.length, off + 4096))));
    }
    p.metadataPlaintext = SpecReference.metadata(1, inner.length, 1_700_000_000_000L, "",
        "application/vnd.crowdbackup.envelope");
    byte[] outer = SpecReference.seal(p, null);
    // The reference agrees it is a well-formed relay envelope: only the relay's duty refuses it.
    assertEquals(1, SpecReference.open(outer, RELAY.agreementPrivateKey(SecretAccess.explicitly())).contentKind);
    return outer;
  }
}
