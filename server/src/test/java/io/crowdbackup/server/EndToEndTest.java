package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.receipt.Receipts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole path over real loopback sockets: source → 2 holders → forwarder → destination → receipt → drop. */
class EndToEndTest {
  @TempDir Path dir;

  @Test
  void envelopesTravelFromSourceThroughHoldersHomeAndHoldersDropThem() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Destination home = net.destination("home");
      Net.Holder tiny = net.holder("tiny", 100); // refuses everything: too small
      Net.Holder a = net.holder("a", 64L << 20);
      Net.Holder b = net.holder("b", 64L << 20);
      Path out = Files.createDirectories(dir.resolve("out"));
      List<Path> envelopes = List.of(Net.seal(out, "one", home.keys, 300_000, 1),
          Net.seal(out, "two", home.keys, 50_000, 2), Net.seal(out, "three", home.keys, 1, 3));

      SourceClient source = SourceClient.newBuilder().holder(tiny.uri()).holder(a.uri()).holder(b.uri()).replicas(2)
          .peerLabel("test source").patchBytes(100_000).backoff(new Backoff(3, Duration.ofMillis(10),
              Duration.ofMillis(50))).build();
      List<SourceClient.Placement> placed = source.send(envelopes);
      for (SourceClient.Placement p : placed) {
        assertEquals(2, p.heldBy().size(), p.toString());
        assertTrue(p.heldBy().containsAll(List.of(a.uri(), b.uri())), p.toString());
        String why = p.refusedBy().get(tiny.uri());
        assertNotNull(why, p.toString());
        assertTrue(why.startsWith("QUOTA_FULL") || why.startsWith("TOO_LARGE"), why);
        for (Net.Holder h : List.of(a, b)) {
          BlobStat s = h.custodian.stat(p.fingerprint());
          assertEquals(BlobState.HELD, s.state(), p.toString());
          assertEquals(Files.size(p.envelope()), s.envelopeLengthBytes());
        }
      }
      assertEquals(0, tiny.custodian.stats().heldBytes() + tiny.custodian.stats().reservedBytes());

      // Holder a comes home: uploads all three, each dropped on the verified receipt.
      Forwarder.Report ra = Forwarder.newBuilder(a.custodian).patchBytes(70_000).build().forwardAll();
      assertEquals(3, ra.delivered(), ra.toString());
      assertEquals(0, ra.forgedReceipts());
      assertTrue(ra.failures().isEmpty(), ra.failures().toString());
      assertEquals(envelopes.stream().mapToLong(p -> p.toFile().length()).sum(), ra.bytesSent());
      assertEquals(0, a.custodian.stats().heldBytes());
      assertEquals(3, home.inbox.deliveredCount());
      assertTrue(Files.exists(home.inbox.directory().resolve("one.bin")));

      // Holder b comes home later: one batch question, nothing sent, all dropped.
      Forwarder.Report rb = Forwarder.newBuilder(b.custodian).build().forwardAll();
      assertEquals(3, rb.droppedAlreadyDelivered(), rb.toString());
      assertEquals(0, rb.bytesSent());
      assertEquals(0, b.custodian.stats().heldBytes());
      for (SourceClient.Placement p : placed) {
        assertEquals(BlobState.DELIVERED, b.custodian.stat(p.fingerprint()).state());
      }

      // The destination answers a second copy with the stored receipt, byte for byte.
      ProtocolClient client = new ProtocolClient(ProtocolClient.newHttpClient(Duration.ofSeconds(2)), home.uri(),
          Duration.ofSeconds(10));
      Fingerprint fp = placed.get(0).fingerprint();
      byte[] stored = client.delivery(fp);
      assertArrayEquals(Receipts.encode(home.inbox.receiptFor(fp)), stored);
      ProtocolFailure again = org.junit.jupiter.api.Assertions.assertThrows(ProtocolFailure.class,
          () -> client.create(Map.of("fingerprint", fp.toHex()), Files.size(envelopes.get(0))));
      assertEquals(409, again.status());
      assertArrayEquals(stored, ProtocolClient.receiptOf(again));
      Map<Fingerprint, byte[]> answer = client.queryDeliveries(List.of(fp, Fingerprint.fromHex("00".repeat(32))));
      assertEquals(1, answer.size());
      assertArrayEquals(stored, answer.get(fp));
      assertNull(client.delivery(Fingerprint.fromHex("00".repeat(32))));
      Receipt r = Receipts.decode(stored);
      assertEquals(fp, r.fingerprint());
    }
  }
}
