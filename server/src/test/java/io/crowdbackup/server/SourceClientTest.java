package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.HolderConfig;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.protocol.Tus;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourceClientTest {
  private static final Backoff FAST = new Backoff(5, Duration.ofMillis(20), Duration.ofMillis(200));
  @TempDir Path dir;

  @Test
  void aDroppedUploadResumesFromTheHoldersDurableOffset() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Destination home = net.destination("home");
      Net.Holder h = net.holder("h", 8L << 20);
      Path env = Net.seal(Files.createDirectories(dir.resolve("out")), "e", home.keys, 600_000, 41);
      try (CuttingProxy proxy = new CuttingProxy(h.uri(), Files.size(env) / 2)) {
        SourceClient.Placement p = SourceClient.newBuilder().holder(proxy.uri()).replicas(1).patchBytes(100_000)
            .backoff(FAST).build().send(List.of(env)).get(0);
        assertTrue(proxy.hasCut());
        assertEquals(List.of(proxy.uri()), p.heldBy(), p.toString());
        assertEquals(BlobState.HELD, h.custodian.stat(p.fingerprint()).state());
        assertEquals(0, h.custodian.stats().reservedBytes());
      }
    }
  }

  @Test
  void aCounterOfferIsTakenWhenAllowedAndRefusedOtherwise() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Destination home = net.destination("home");
      Net.Holder h = net.holder("h", 8L << 20);
      long farExpiry = System.currentTimeMillis() / 1000 + 30L * 24 * 3600; // beyond the default 12 h retention
      Path out = Files.createDirectories(dir.resolve("out"));
      Path e1 = Net.seal(out, "e1", home.keys, 10_000, 42, farExpiry);
      Path e2 = Net.seal(out, "e2", home.keys, 10_000, 43, farExpiry);
      SourceClient.Placement refused = SourceClient.newBuilder().holder(h.uri()).replicas(1)
          .requireFullRetention(true).takeCounterOffers(false).backoff(FAST).build().send(List.of(e1)).get(0);
      assertTrue(refused.heldBy().isEmpty(), refused.toString());
      assertTrue(refused.refusedBy().get(h.uri()).startsWith("TTL_TOO_LONG"), refused.toString());
      SourceClient.Placement taken = SourceClient.newBuilder().holder(h.uri()).replicas(1)
          .requireFullRetention(true).backoff(FAST).build().send(List.of(e2)).get(0);
      assertEquals(List.of(h.uri()), taken.heldBy(), taken.toString());
      assertTrue(h.custodian.stat(taken.fingerprint()).expiresAtEpochSecond() < farExpiry);
    }
  }

  @Test
  void aCounterOfferThatIsAlreadyPastOrNotShorterOrMalformedIsRefusedAndTheNextHolderAsked() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Destination home = net.destination("home");
      Net.Holder roomy = net.holder("roomy", 8L << 20);
      long now = System.currentTimeMillis() / 1000;
      Path out = Files.createDirectories(dir.resolve("out"));
      java.util.concurrent.atomic.AtomicInteger creations = new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.atomic.AtomicReference<String> counter = new java.util.concurrent.atomic.AtomicReference<>();
      // A holder that counter-offers the expiry given, and takes any offer made with it (as if it held it).
      ProtocolServer liar = net.started(req -> {
        if (req.method().equals("PATCH")) {
          return io.crowdbackup.engine.protocol.ProtocolResponse.status(204)
              .header(Tus.UPLOAD_OFFSET, "999999999").header(Tus.TUS_RESUMABLE, Tus.VERSION);
        }
        creations.incrementAndGet();
        String md = req.header(Tus.UPLOAD_METADATA);
        String asked = md == null ? "" : md;
        if (asked.contains(java.util.Base64.getEncoder().encodeToString(counter.get().getBytes()))) {
          return io.crowdbackup.engine.protocol.ProtocolResponse.status(201).header("Location", "/v1/uploads/x")
              .header(Tus.UPLOAD_OFFSET, "0").header(Tus.TUS_RESUMABLE, Tus.VERSION);
        }
        return io.crowdbackup.engine.protocol.ProtocolResponse.status(409)
            .header("Content-Type", io.crowdbackup.engine.protocol.Problem.MEDIA_TYPE)
            .body(io.crowdbackup.engine.protocol.Problem.MEDIA_TYPE, ("{\"type\":\""
                + io.crowdbackup.engine.protocol.Problem.Type.TTL_TOO_LONG.uri() + "\",\"status\":409,"
                + "\"reason\":\"TTL_TOO_LONG\",\"longestRetentionSeconds\":60,\"counterOfferExpiresAtEpochSecond\":" + counter.get() + "}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }, "liar");
      int seed = 50;
      for (String c : new String[] {Long.toString(now - 600), Long.toString(now + 7200), "-7"}) {
        Path env = Net.seal(out, "e" + seed, home.keys, 10_000, seed++, now + 3600);
        creations.set(0);
        counter.set(c);
        SourceClient.Placement p = SourceClient.newBuilder().holder(liar.uri()).holder(roomy.uri()).replicas(1)
            .requireFullRetention(true).backoff(FAST).build().send(List.of(env)).get(0);
        assertEquals(1, creations.get(), "the counter-offer " + c + " was not taken: " + p);
        assertEquals(List.of(roomy.uri()), p.heldBy(), p.toString());
        assertTrue(p.refusedBy().get(liar.uri()).startsWith("TTL_TOO_LONG"), p.toString());
      }
    }
  }

  @Test
  void aHoldersRefusalIsNotRetriedTheSourceMovesOnAtOnce() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Destination home = net.destination("home");
      Net.Holder full = net.holder("full", 100_000);
      Net.Holder roomy = net.holder("roomy", 8L << 20);
      Path out = Files.createDirectories(dir.resolve("out"));
      Path first = Net.seal(out, "e1", home.keys, 60_000, 44);
      Path second = Net.seal(out, "e2", home.keys, 60_000, 45);
      SourceClient.newBuilder().holder(full.uri()).replicas(1).backoff(FAST).build().send(List.of(first));
      SourceClient.Placement p = SourceClient.newBuilder().holder(full.uri()).holder(roomy.uri()).replicas(1)
          .backoff(FAST).build().send(List.of(second)).get(0);
      assertEquals(List.of(roomy.uri()), p.heldBy(), p.toString());
      String why = p.refusedBy().get(full.uri());
      assertTrue(why.startsWith("PEER_SHARE_EXCEEDED") || why.startsWith("QUOTA_FULL"), p.toString());
      // 507 is a 5xx, but a refusal: asked once, not once per retry.
      assertEquals(1L, full.custodian.stats().refusalsByReason().values().stream().mapToLong(Long::longValue).sum());
    }
  }

  @Test
  void aGatewayFailureIsRetriedButAServerFaultMovesOnToTheNextHolder() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Destination home = net.destination("home");
      Net.Holder roomy = net.holder("roomy", 8L << 20);
      java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.atomic.AtomicInteger status = new java.util.concurrent.atomic.AtomicInteger();
      ProtocolServer broken = net.started(req -> {
        calls.incrementAndGet();
        return io.crowdbackup.engine.protocol.ProtocolResponse.status(status.get());
      }, "broken");
      Path out = Files.createDirectories(dir.resolve("out"));
      int seed = 60;
      for (int[] c : new int[][] {{502, FAST.maxAttempts()}, {504, FAST.maxAttempts()}, {500, 1}, {501, 1}}) {
        calls.set(0);
        status.set(c[0]);
        Path env = Net.seal(out, "e" + seed, home.keys, 10_000, seed++);
        SourceClient.Placement p = SourceClient.newBuilder().holder(broken.uri()).holder(roomy.uri()).replicas(1)
            .backoff(FAST).build().send(List.of(env)).get(0);
        assertEquals(c[1], calls.get(), "offers to a holder answering " + c[0]);
        assertEquals(List.of(roomy.uri()), p.heldBy(), p.toString());
      }
    }
  }

  @Test
  void theSamePortSpeaksHttp2ByUpgrade() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Holder h = net.holder("h", 1L << 20);
      HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
      HttpResponse<String> r = h2.send(HttpRequest.newBuilder(h.uri().resolve("/v1/status")).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
      HttpResponse<String> again = h2.send(HttpRequest.newBuilder(h.uri().resolve("/v1/uploads"))
          .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(HttpClient.Version.HTTP_2, again.version(), "h2c after the upgrade");
      assertEquals(Tus.VERSION, again.headers().firstValue(Tus.TUS_VERSION).orElse(null));
    }
  }

  @Test
  void anOwnEnvelopeIsSentFromTheStoreAndResumesFromTheHoldersDurableOffsetAfterTheSourceRestarts()
      throws Exception {
    try (Net net = new Net(dir)) {
      Net.Destination home = net.destination("home");
      Net.Holder h = net.holder("h", 8L << 20);
      Path phone = dir.resolve("phone");
      Path photo = dir.resolve("photo.bin");
      byte[] plain = new byte[600_000];
      new Random(46).nextBytes(plain);
      Files.write(photo, plain);
      BlobStat own;
      long cutAt;
      try (Custodian source = openSource(phone); EnvelopeSealer sealer = Envelopes.sealer()) {
        own = source.sealOwn(sealer, SealRequest.newBuilder().destination(home.keys.card())
            .releaseKey(Keys.generateSigning().publicKey()).expiresAtEpochSecond(System.currentTimeMillis() / 1000
                + 3600).name("photo.bin").mediaType("application/octet-stream").compression(Compression.OFF)
            .chunkSizeBytes(16 * 1024).build(), photo, Transfer.create());
        cutAt = own.envelopeLengthBytes() / 2;
        // The radio drops half-way and the source gives up (one attempt): the holder keeps its durable part.
        try (CuttingProxy proxy = new CuttingProxy(h.uri(), cutAt)) {
          SourceClient.Placement p = SourceClient.newBuilder().holder(proxy.uri()).replicas(1).patchBytes(100_000)
              .backoff(new Backoff(1, Duration.ofMillis(20), Duration.ofMillis(20))).build()
              .sendOwn(source, List.of(own.fingerprint())).get(0);
          assertTrue(proxy.hasCut());
          assertTrue(p.heldBy().isEmpty(), p.toString());
          assertEquals(null, p.envelope(), "no file was sent");
        }
      }
      assertEquals(null, h.custodian.stat(own.fingerprint()), "not held yet: only a partial upload");
      // The source app was killed: a new process opens the same store and offers the envelope again. The
      // holder's creation answers with its durable offset and the client reads on from there.
      try (Custodian source = openSource(phone)) {
        SourceClient.Placement p = SourceClient.newBuilder().holder(h.uri()).replicas(1).patchBytes(100_000)
            .backoff(FAST).build().sendOwn(source, List.of(own.fingerprint())).get(0);
        assertEquals(List.of(h.uri()), p.heldBy(), p.toString());
        assertEquals(BlobState.HELD, h.custodian.stat(own.fingerprint()).state());
        assertEquals(0, h.custodian.stats().reservedBytes());
        assertEquals(own.envelopeLengthBytes(), h.custodian.stats().heldBytes());
        // The holder's copy is the source's envelope, byte for byte: a wrong skip would be refused.
        assertTrue(java.util.Arrays.equals(ownBytes(source, own), custodyBytes(h.custodian, own)));
      }
    }
  }

  @Test
  void aCustodyBlobIsNeverSentAsTheSourcesOwn() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Destination home = net.destination("home");
      Net.Holder h = net.holder("h", 8L << 20);
      Net.Holder other = net.holder("other", 8L << 20);
      Path env = Net.seal(Files.createDirectories(dir.resolve("out")), "e", home.keys, 10_000, 47);
      SourceClient.Placement p = SourceClient.newBuilder().holder(h.uri()).replicas(1).backoff(FAST).build()
          .send(List.of(env)).get(0);
      assertEquals(List.of(h.uri()), p.heldBy(), p.toString());
      SourceClient client = SourceClient.newBuilder().holder(other.uri()).replicas(1).backoff(FAST).build();
      io.crowdbackup.api.store.StoreException e = org.junit.jupiter.api.Assertions.assertThrows(
          io.crowdbackup.api.store.StoreException.class, () -> client.sendOwn(h.custodian, List.of(p.fingerprint())));
      assertTrue(e.getMessage().contains("custody blob"), e.getMessage());
      assertEquals(null, other.custodian.stat(p.fingerprint()));
    }
  }

  private static Custodian openSource(Path phone) throws java.io.IOException {
    RateLimit unshaped = RateLimit.of(RateLimit.MAX_BYTES_PER_SECOND, 1L << 30);
    return Custodian.open(HolderConfig.newBuilder(phone).limitBytes(8L << 20).ingress(unshaped, unshaped)
        .egress(unshaped, unshaped).build());
  }

  private static byte[] ownBytes(Custodian c, BlobStat b) throws java.io.IOException {
    try (ReadableByteChannel ch = c.openOwn(b.fingerprint(), "test")) {
      return readAll(ch);
    }
  }

  private static byte[] custodyBytes(Custodian c, BlobStat b) throws java.io.IOException {
    try (io.crowdbackup.engine.custody.Forward f = c.beginForward(b.fingerprint(), b.locator())) {
      return readAll(f.channel());
    }
  }

  private static byte[] readAll(ReadableByteChannel ch) throws java.io.IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Channels.newInputStream(ch).transferTo(out);
    return out.toByteArray();
  }
}
