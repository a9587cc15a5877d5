package io.crowdbackup.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import io.crowdbackup.engine.protocol.DestinationProtocol;
import io.crowdbackup.engine.protocol.OfferMessage;
import io.crowdbackup.engine.protocol.Problem;
import io.crowdbackup.engine.receipt.Receipts;
import io.crowdbackup.server.ProtocolClient;
import io.crowdbackup.server.ProtocolFailure;
import io.crowdbackup.server.ProtocolServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;

/**
 * First copy wins across destination servers that share one bucket and nothing else: no lock service, no
 * traffic between them, only the store's conditional create of the delivery record.
 */
class S3RaceTest {
  private static final DestinationKeyPair DESTINATION = TestEnvelopes.destination(1, "https://archive.example/");
  private static final SigningKeyPair SOURCE = TestEnvelopes.source(2);

  @TempDir Path dir;

  private static byte[] seal(long seed, int plaintextBytes) throws IOException {
    return TestEnvelopes.seal(TestEnvelopes.deterministicSealer(seed, 1),
        TestEnvelopes.request(DESTINATION, SOURCE).name("file-" + seed + ".bin").build(),
        TestEnvelopes.plaintext(seed, plaintextBytes, false));
  }

  /**
   * Three servers have each verified and uploaded the same envelope and are held at the commit point
   * until all three are there, so every one of them tries the conditional create: one record, and the two
   * that lost answer the winner's receipt byte for byte.
   */
  @Test
  void serversThatAllUploadedOneEnvelopeCommitOneRecordAndAllAnswerItsReceipt() throws Exception {
    try (S3ProxyFixture s3 = S3ProxyFixture.start(dir.resolve("s3"))) {
      byte[] env = seal(7, 200_000);
      Fingerprint fp = Envelopes.fingerprint(S3DeliverySinkTest.channel(env));
      int servers = 3;
      CyclicBarrier atCommit = new CyclicBarrier(servers);
      List<S3DeliverySink> sinks = new ArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(servers);
      try {
        List<Future<byte[]>> answers = new ArrayList<>();
        for (int i = 0; i < servers; i++) {
          S3DeliverySink sink = S3DeliverySink.open(s3.settings("held/").build(), DESTINATION);
          sink.beforeCommit(f -> {
            try {
              atCommit.await(30, TimeUnit.SECONDS);
            } catch (Exception e) {
              throw new IllegalStateException("the servers did not all reach the commit", e);
            }
          });
          sinks.add(sink);
          answers.add(pool.submit(() -> sink.deliver(S3DeliverySinkTest.channel(env), fp)));
        }
        byte[] first = answers.get(0).get(60, TimeUnit.SECONDS);
        for (Future<byte[]> a : answers) {
          assertArrayEquals(first, a.get(60, TimeUnit.SECONDS));
        }
        Receipts.verify(Receipts.decode(first), fp, Envelopes.readHeader(S3DeliverySinkTest.channel(env)));
        assertArrayEquals(first, sinks.get(1).receipt(fp));
        assertEquals(List.of("held/deliveries/" + fp.toHex(), "held/files/" + fp.toHex()),
            s3.keys().stream().sorted().toList());
      } finally {
        pool.shutdownNow();
        for (S3DeliverySink s : sinks) {
          s.close();
        }
      }
    }
  }

  /**
   * The race: 3 destination servers (Jetty, the destination protocol, an S3 sink each) on one
   * bucket; 1,000 deliveries of 300 distinct envelopes, each to a random server, 24 at a time, the copies
   * of one envelope sent next to each other so that they overlap. Exactly 300 files and 300 records;
   * every answer a receipt that verifies against the envelope's header; one receipt per envelope.
   */
  @Test
  void threeServersOnOneBucketTakeAThousandDeliveriesOfThreeHundredEnvelopes() throws Exception {
    int distinct = 300;
    int deliveries = 1000;
    int servers = 3;
    int senders = 24;
    long t0 = System.nanoTime();
    try (S3ProxyFixture s3 = S3ProxyFixture.start(dir.resolve("s3"))) {
      List<byte[]> envelopes = new ArrayList<>();
      List<Fingerprint> fps = new ArrayList<>();
      Map<Fingerprint, EnvelopeHeader> headers = new LinkedHashMap<>();
      for (int i = 0; i < distinct; i++) {
        byte[] env = seal(1000 + i, 1000 + 37 * i);
        Fingerprint fp = Envelopes.fingerprint(S3DeliverySinkTest.channel(env));
        envelopes.add(env);
        fps.add(fp);
        headers.put(fp, Envelopes.readHeader(S3DeliverySinkTest.channel(env)));
      }
      // Each envelope at least 3 times, 100 of them a 4th; copies adjacent so that they run at once.
      Random random = new Random(42);
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < distinct; i++) {
        int copies = i < deliveries - 3 * distinct ? 4 : 3;
        for (int c = 0; c < copies; c++) {
          order.add(i);
        }
      }
      assertEquals(deliveries, order.size());

      List<S3DeliverySink> sinks = new ArrayList<>();
      List<DestinationProtocol> protocols = new ArrayList<>();
      List<ProtocolServer> httpServers = new ArrayList<>();
      List<ProtocolClient> clients = new ArrayList<>();
      HttpClient http = ProtocolClient.newHttpClient(Duration.ofSeconds(5));
      ExecutorService pool = Executors.newFixedThreadPool(senders);
      try {
        for (int s = 0; s < servers; s++) {
          S3DeliverySink sink = S3DeliverySink.open(s3.settings("race/").build(), DESTINATION);
          sinks.add(sink);
          DestinationProtocol protocol = DestinationProtocol.newBuilder(sink, dir.resolve("staging-" + s))
              .onError((what, e) -> e.printStackTrace()).build();
          protocols.add(protocol);
          ProtocolServer server = ProtocolServer.newBuilder(protocol::handle).port(0).maxThreads(32)
              .name("destination-" + s).build().start();
          httpServers.add(server);
          clients.add(new ProtocolClient(http, server.uri(), Duration.ofSeconds(60)));
        }
        Map<Fingerprint, List<byte[]>> answers = new ConcurrentHashMap<>();
        AtomicInteger byUpload = new AtomicInteger();
        AtomicInteger byRefusal = new AtomicInteger();
        AtomicInteger retries = new AtomicInteger();
        List<Future<?>> done = new ArrayList<>();
        for (int index : order) {
          int server = random.nextInt(servers);
          done.add(pool.submit(() -> {
            byte[] receipt = deliver(clients.get(server), fps.get(index), envelopes.get(index), byUpload, byRefusal,
                retries);
            answers.computeIfAbsent(fps.get(index), k -> new CopyOnWriteArrayList<>()).add(receipt);
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get(5, TimeUnit.MINUTES);
        }

        List<String> keys = s3.keys();
        assertEquals(distinct, keys.stream().filter(k -> k.startsWith("race/files/")).count(), "content objects");
        assertEquals(distinct, keys.stream().filter(k -> k.startsWith("race/deliveries/")).count(), "records");
        assertEquals(2 * distinct, keys.size(), "nothing else in the bucket: " + keys);
        assertEquals(List.of(), s3.openUploads());
        assertEquals(distinct, answers.size());
        int answered = 0;
        for (Map.Entry<Fingerprint, List<byte[]>> e : answers.entrySet()) {
          byte[] first = e.getValue().get(0);
          Receipts.verify(Receipts.decode(first), e.getKey(), headers.get(e.getKey()));
          for (byte[] r : e.getValue()) {
            assertArrayEquals(first, r, "two receipts for " + e.getKey());
            answered++;
          }
          assertArrayEquals(first, sinks.get(0).receipt(e.getKey()));
        }
        assertEquals(deliveries, answered);
        // Spot-check content: the file of every 30th envelope is its plaintext.
        for (int i = 0; i < distinct; i += 30) {
          byte[] stored = s3.client.getObjectAsBytes(GetObjectRequest.builder().bucket(S3ProxyFixture.BUCKET)
              .key(sinks.get(0).contentKey(fps.get(i))).build()).asByteArray();
          assertArrayEquals(TestEnvelopes.plaintext(1000 + i, 1000 + 37 * i, false), stored);
        }
        System.out.printf("S3 race: %d deliveries of %d envelopes to %d servers in %.1f s: %d answered by an upload,"
            + " %d by an already-delivered refusal, %d retried%n", deliveries, distinct, servers,
            (System.nanoTime() - t0) / 1e9, byUpload.get(), byRefusal.get(), retries.get());
        assertTrue(byUpload.get() > distinct, "no two uploads of one envelope overlapped: the race was not run");
      } finally {
        pool.shutdownNow();
        for (ProtocolServer s : httpServers) {
          s.close();
        }
        for (DestinationProtocol p : protocols) {
          p.close();
        }
        for (S3DeliverySink s : sinks) {
          s.close();
        }
      }
    }
  }

  /**
   * A holder's delivery, as the forwarder does it: create (answered with the receipt if already
   * delivered), PATCH the rest, retry on a busy or conflicting upload.
   */
  private static byte[] deliver(ProtocolClient client, Fingerprint fp, byte[] env, AtomicInteger byUpload,
      AtomicInteger byRefusal, AtomicInteger retries) throws Exception {
    Map<String, String> md = new LinkedHashMap<>();
    md.put(OfferMessage.FINGERPRINT, fp.toHex());
    md.put(OfferMessage.EXPIRES, Long.toString(TestEnvelopes.EXPIRES));
    for (int attempt = 1; ; attempt++) {
      try {
        ProtocolClient.Created created = client.create(md, env.length);
        int offset = (int) created.offset();
        ProtocolClient.Patched patched = client.patch(created.upload(), offset,
            () -> new ByteArrayInputStream(env, offset, env.length - offset), env.length - offset);
        assertNotNull(patched.receipt(), "the last PATCH carried no receipt");
        byUpload.incrementAndGet();
        return patched.receipt();
      } catch (ProtocolFailure f) {
        Problem p = f.problem();
        String receipt = p == null ? null : p.text(Problem.RECEIPT);
        if (receipt != null) {
          byRefusal.incrementAndGet();
          return Base64.getDecoder().decode(receipt);
        }
        // Another holder's PATCH of the same upload on this server (busy, offset moved): try again.
        if (attempt >= 50 || f.status() < 409) {
          throw f;
        }
        retries.incrementAndGet();
        Thread.sleep(5 + ThreadLocalRandom.current().nextInt(20));
      }
    }
  }
}
