package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.HolderConfig;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.protocol.DeliverySink;
import io.crowdbackup.engine.protocol.DestinationProtocol;
import io.crowdbackup.engine.protocol.ProtocolRequest;
import io.crowdbackup.engine.protocol.ProtocolResponse;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Relay mode end to end over loopback: source → holder → relay → destination, receipts back each hop. */
class RelayTest {
  @TempDir Path dir;

  @Test
  void aRelayPeelsOneLayerForwardsTheInnerEnvelopeHomeAndDropsItOnlyOnTheHomeReceipt() throws Exception {
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    try (Net net = new Net(dir)) {
      Net.Destination home = net.destination("home");
      Net.Holder holder = net.holder("venue-phone", 64L << 20);

      // The relay: a destination server whose inbox runs in relay mode, with a custody store to forward from.
      AtomicReference<Function<ProtocolRequest, ProtocolResponse>> core = new AtomicReference<>();
      ProtocolServer relayServer = net.started(req -> core.get().apply(req), "relay");
      DestinationKeyPair relayKeys = Keys.generateDestination(relayServer.uri().toString());
      Path r = Files.createDirectories(dir.resolve("relay"));
      Inbox outbox = Inbox.newBuilder().directory(r.resolve("outbox")).keys(relayKeys).mode(Inbox.Mode.RELAY).open();
      RateLimit unshaped = RateLimit.of(RateLimit.MAX_BYTES_PER_SECOND, 1L << 30);
      Custodian relayCustody = Custodian.open(HolderConfig.newBuilder(r.resolve("custody")).limitBytes(64L << 20)
          .peerSharePercent(100).ingress(unshaped, unshaped).egress(unshaped, unshaped).build());
      try (Relay relay = new Relay(outbox.directory(), relayCustody, Forwarder.newBuilder(relayCustody).build(),
          Duration.ofMinutes(10), (what, e) -> errors.add(e))) {
        core.set(DestinationProtocol.newBuilder(relay.sink(DeliverySink.inbox(outbox)), r.resolve("staging"))
            .build()::handle);

        // The source seals for home through the relay and hands the outer envelope to the venue phone.
        byte[] plain = new byte[120_000];
        new Random(7).nextBytes(plain);
        SigningKeyPair source = Keys.generateSigning();
        Path sealed = dir.resolve("relayed.cbe");
        try (EnvelopeSealer sealer = Envelopes.sealer();
            FileChannel ch = FileChannel.open(sealed, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          sealer.seal(SealRequest.newBuilder().destination(home.keys.card()).relay(relayKeys.card())
              .releaseKey(source.publicKey()).expiresAtEpochSecond(System.currentTimeMillis() / 1000 + 3600)
              .name("photo.jpg").mediaType("image/jpeg").compression(Compression.OFF).chunkSizeBytes(16 * 1024)
              .build(), Channels.newChannel(new java.io.ByteArrayInputStream(plain)), plain.length, ch);
        }
        SourceClient.Placement placed = SourceClient.newBuilder().holder(holder.uri()).replicas(1).build()
            .send(List.of(sealed)).get(0);
        assertEquals(List.of(holder.uri()), placed.heldBy(), placed.toString());

        // The phone comes home: its copy goes to the relay (the outer header's locator) and is dropped on
        // the relay's receipt for the outer envelope.
        Forwarder.Report toRelay = Forwarder.newBuilder(holder.custodian).build().forwardAll();
        assertEquals(1, toRelay.delivered(), toRelay.toString());
        assertEquals(BlobState.DELIVERED, holder.custodian.stat(placed.fingerprint()).state());

        // The relay forwards the inner envelope home (its header's locator) and drops it on home's receipt.
        // Wait for the drop itself: home's inbox has the envelope before its receipt is back at the relay,
        // and meanwhile the inner blob is FORWARDING (not pending, still held), which is the right account.
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (relayCustody.stats().deliveredByReceiptCount() == 0) {
          assertTrue(System.nanoTime() < deadline, "the relay did not deliver home; errors: " + errors);
          Thread.sleep(50);
        }
        assertEquals(1, home.inbox.deliveredCount());
        assertTrue(relayCustody.pendingByLocator().isEmpty(), relayCustody.list().toString());
        assertTrue(relayCustody.list().stream().allMatch(b -> b.state() == BlobState.DELIVERED),
            relayCustody.list().toString());
        assertArrayEquals(plain, Files.readAllBytes(home.inbox.directory().resolve("photo.jpg")));
        assertEquals(0, relayCustody.stats().heldBytes());
        try (var left = Files.list(outbox.directory())) {
          assertEquals(0, left.filter(p -> !p.getFileName().toString().startsWith(".")).count(),
              "the outbox is empty once the inner envelope is in custody");
        }
        assertTrue(errors.isEmpty(), errors.toString());
      } finally {
        relayCustody.close();
        outbox.close();
      }
    }
  }
}
