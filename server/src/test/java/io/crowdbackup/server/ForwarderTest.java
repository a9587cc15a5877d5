package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.protocol.DeliveryQuery;
import io.crowdbackup.engine.protocol.DestinationProtocol;
import io.crowdbackup.engine.protocol.ProtocolRequest;
import io.crowdbackup.engine.protocol.ProtocolResponse;
import io.crowdbackup.engine.protocol.Tus;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The forwarder against destinations that lie, redirect or fail. */
class ForwarderTest {
  private static final Backoff FAST = new Backoff(3, Duration.ofMillis(5), Duration.ofMillis(20));
  @TempDir Path dir;

  /** A fake destination at a loopback port, an envelope sealed to it, held by a real holder. */
  private static final class Setup {
    final Net.Holder holder;
    final Fingerprint fp;
    final AtomicReference<Function<ProtocolRequest, ProtocolResponse>> fake = new AtomicReference<>();
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger patchedBytes = new AtomicInteger();

    Setup(Net net, Path dir) throws IOException {
      ProtocolServer liar = net.started(req -> {
        requests.incrementAndGet();
        return fake.get().apply(req);
      }, "liar");
      DestinationKeyPair keys = Keys.generateDestination(liar.uri().toString());
      holder = net.holder("h", 64L << 20);
      Path env = Net.seal(Files.createDirectories(dir.resolve("out")), "e", keys, 30_000, 5);
      fp = SourceClient.newBuilder().holder(holder.uri()).replicas(1).build().send(List.of(env)).get(0).fingerprint();
    }

    Forwarder.Report forward() throws IOException {
      return Forwarder.newBuilder(holder.custodian).backoff(FAST).build().forwardAll();
    }
  }

  private static byte[] forgedReceipt(Fingerprint fp) {
    return Receipts.encode(Receipts.signReceipt(Keys.generateDestination("https://evil.example"), fp, 1));
  }

  @Test
  void aForgedAlreadyDeliveredAnswerKeepsTheCopyAndSendsNothing() throws Exception {
    try (Net net = new Net(dir)) {
      Setup s = new Setup(net, dir);
      s.fake.set(req -> ProtocolResponse.status(200).body("application/json",
          DeliveryQuery.encodeResponse(Map.of(s.fp, forgedReceipt(s.fp)))));
      Forwarder.Report r = s.forward();
      assertEquals(1, r.forgedReceipts(), r.toString());
      assertEquals(0, r.bytesSent());
      assertEquals(1, s.requests.get(), "only the batch question was asked");
      assertEquals(BlobState.HELD, s.holder.custodian.stat(s.fp).state());
    }
  }

  @Test
  void aForgedReceiptAfterTheUploadKeepsTheCopy() throws Exception {
    try (Net net = new Net(dir)) {
      Setup s = new Setup(net, dir);
      s.fake.set(req -> {
        if (req.path().equals("/v1/deliveries/query")) {
          return ProtocolResponse.status(200).body("application/json", DeliveryQuery.encodeResponse(Map.of()));
        }
        if (req.method().equals("POST")) {
          return ProtocolResponse.status(201).header("Location", "/v1/uploads/x").header(Tus.UPLOAD_OFFSET, "0");
        }
        try {
          long n = req.body().transferTo(java.io.OutputStream.nullOutputStream());
          long offset = Long.parseLong(req.header(Tus.UPLOAD_OFFSET)) + n;
          s.patchedBytes.addAndGet((int) n);
          return ProtocolResponse.status(204).header(Tus.UPLOAD_OFFSET, Long.toString(offset))
              .header(DestinationProtocol.RECEIPT_HEADER, Base64.getEncoder().encodeToString(forgedReceipt(s.fp)));
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      Forwarder.Report r = s.forward();
      assertEquals(1, r.forgedReceipts(), r.toString());
      assertEquals(0, r.delivered());
      assertTrue(s.patchedBytes.get() > 0);
      assertEquals(BlobState.HELD, s.holder.custodian.stat(s.fp).state(), "back to held, not forwarding");
    }
  }

  @Test
  void aRedirectOrAForeignUploadUrlIsNeverFollowed() throws Exception {
    try (Net net = new Net(dir)) {
      Setup s = new Setup(net, dir);
      AtomicInteger elsewhere = new AtomicInteger();
      ProtocolServer other = net.started(req -> {
        elsewhere.incrementAndGet();
        return ProtocolResponse.status(500);
      }, "other");
      s.fake.set(req -> ProtocolResponse.status(307).header("Location", other.uri() + req.path()));
      Forwarder.Report r = s.forward();
      assertEquals(1, r.failures().size(), r.toString());
      assertTrue(r.failures().get(s.fp).contains("not followed"), r.failures().toString());

      s.fake.set(req -> req.path().equals("/v1/deliveries/query")
          ? ProtocolResponse.status(200).body("application/json", DeliveryQuery.encodeResponse(Map.of()))
          : ProtocolResponse.status(201).header("Location", other.uri() + "/v1/uploads/x"));
      r = s.forward();
      assertTrue(r.failures().get(s.fp).contains("no other origin"), r.failures().toString());
      assertEquals(0, elsewhere.get(), "nothing reached another origin");
      assertEquals(BlobState.HELD, s.holder.custodian.stat(s.fp).state());
    }
  }

  @Test
  void failuresAreRetriedAgainstTheSameDestinationHonouringRetryAfter() throws Exception {
    try (Net net = new Net(dir)) {
      Setup s = new Setup(net, dir);
      AtomicInteger calls = new AtomicInteger();
      s.fake.set(req -> {
        calls.incrementAndGet();
        return ProtocolResponse.status(503).header("Retry-After", "0");
      });
      long t0 = System.nanoTime();
      Forwarder.Report r = s.forward();
      assertEquals(FAST.maxAttempts(), calls.get(), "every attempt went to the same destination");
      assertEquals(1, r.failures().size());
      assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
      assertEquals(BlobState.HELD, s.holder.custodian.stat(s.fp).state());
    }
  }

  @Test
  void onlyTransientStatusesAreRetriedAndA500IsNot() throws Exception {
    try (Net net = new Net(dir)) {
      Setup s = new Setup(net, dir);
      // status -> attempts: a gateway or availability problem is retried; a fault or a refusal is not.
      int[][] cases = {{408, 3}, {429, 3}, {502, 3}, {503, 3}, {504, 3}, {500, 1}, {501, 1}, {505, 1},
          {400, 1}, {404, 1}, {507, 1}};
      for (int[] c : cases) {
        AtomicInteger calls = new AtomicInteger();
        s.fake.set(req -> {
          calls.incrementAndGet();
          return ProtocolResponse.status(c[0]);
        });
        Forwarder.Report r = s.forward();
        assertEquals(c[1], calls.get(), "attempts after a " + c[0]);
        assertEquals(1, r.failures().size(), r.toString());
        assertEquals(BlobState.HELD, s.holder.custodian.stat(s.fp).state());
      }
      AtomicInteger calls = new AtomicInteger();
      s.fake.set(req -> {
        calls.incrementAndGet();
        return ProtocolResponse.status(507).header("Retry-After", "0");
      });
      s.forward();
      assertEquals(FAST.maxAttempts(), calls.get(), "a 507 that says when to come back is retried");
    }
  }

  @Test
  void anEnvelopeForALocatorThatIsNoUrlStaysHeldAndNothingIsSent() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Holder h = net.holder("h", 8L << 20);
      DestinationKeyPair keys = Keys.generateDestination("home-a.example");
      Path env = Net.seal(Files.createDirectories(dir.resolve("out")), "e", keys, 1000, 6);
      Fingerprint fp = SourceClient.newBuilder().holder(h.uri()).replicas(1).build().send(List.of(env)).get(0)
          .fingerprint();
      Forwarder.Report r = Forwarder.newBuilder(h.custodian).backoff(FAST).build().forwardAll();
      assertEquals(List.of("home-a.example"), r.skippedLocators(), r.toString());
      assertEquals(0, r.bytesSent());
      assertEquals(BlobState.HELD, h.custodian.stat(fp).state());
    }
  }
}
