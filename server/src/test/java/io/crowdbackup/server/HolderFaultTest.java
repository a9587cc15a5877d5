package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.protocol.Problem;
import io.crowdbackup.engine.protocol.Tus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The holder service under the faults of issue 13, over real loopback sockets driven by hand
 * ({@link RawHttp}): idle and slow-loris peers, a body longer than declared, a wrong offset, two PATCHes
 * of one upload at once, bytes that do not hash to the offered fingerprint, and a peer that disconnects
 * at every phase and then resumes from HEAD's offset. After each: the store is consistent (nothing kept
 * of a refused upload, its reservation freed; a finished upload HELD at its length).
 */
class HolderFaultTest {
  private static final Duration IDLE = Duration.ofSeconds(1);
  @TempDir Path dir;
  private FaultHolder holder;
  private byte[] envelope;
  private Fingerprint fp;

  @BeforeEach
  void start() throws IOException {
    holder = new FaultHolder(dir.resolve("holder"), IDLE, 8);
    envelope = seal("e", 300_000, 1);
    fp = FaultHolder.fingerprint(envelope);
  }

  @AfterEach
  void stop() throws IOException {
    holder.close();
    assertEquals(List.of(), holder.errors, "the holder reported failures of its own");
  }

  private byte[] seal(String name, int plaintextBytes, long seed) throws IOException {
    DestinationKeyPair home = Keys.generateDestination("http://127.0.0.1:9/");
    Path out = Files.createDirectories(dir.resolve("out"));
    return Files.readAllBytes(Net.seal(out, name, home, plaintextBytes, seed));
  }

  private void assertHeld(Fingerprint f, byte[] env) throws IOException {
    BlobStat s = holder.custodian.stat(f);
    assertTrue(s != null && s.state() == BlobState.HELD, "not held: " + s);
    assertEquals(env.length, s.envelopeLengthBytes());
    assertEquals(0, holder.custodian.stats().reservedBytes(), "a reservation outlived its upload");
  }

  private void assertNothingKept(Fingerprint f) throws IOException {
    BlobStat s = holder.custodian.stat(f);
    assertTrue(s == null || !s.state().hasBytes(), "kept: " + s);
    assertTrue(holder.custodian.uploads().isEmpty(), "an upload stayed: " + holder.custodian.uploads());
    assertEquals(0, holder.custodian.stats().reservedBytes(), "its reservation was not freed");
    assertEquals(0, holder.custodian.stats().heldBytes());
  }

  /** The answer is this status with a problem of this type. */
  private static void assertProblem(RawHttp.Answer a, int status, Problem.Type type) throws Exception {
    assertEquals(status, a.status, a.toString());
    assertEquals(type.name(), Problem.decode(a.body).text(Problem.REASON), a.toString());
  }

  // --- timeouts ---------------------------------------------------------------------------------------

  @Test
  void anIdlePeerIsCutOffAtTheIdleTimeout() throws Exception {
    try (RawHttp silent = new RawHttp(holder.uri()); RawHttp afterOneRequest = new RawHttp(holder.uri())) {
      afterOneRequest.send(RawHttp.head("GET", "/v1/status")).read();
      long silentMs = silent.awaitClosed(10_000);
      long keptAliveMs = afterOneRequest.awaitClosed(10_000);
      assertTrue(silentMs >= 500 && silentMs < 5_000, "a connection that sent nothing closed after " + silentMs + " ms");
      assertTrue(keptAliveMs >= 0 && keptAliveMs < 5_000, "an idle kept-alive connection closed after " + keptAliveMs
          + " ms");
    }
  }

  @Test
  void aPatchThatStallsIsCutOffAndTheUploadResumesFromWhatWasMadeDurable() throws Exception {
    String upload = holder.client().create(envelope);
    try (RawHttp c = new RawHttp(holder.uri())) {
      c.send(FaultHolder.patch(upload, 0, envelope.length)).send(envelope, 0, 200_000);
      // The body stops: the idle timeout ends the read; the core keeps what arrived.
      long closedMs = c.awaitClosed(10_000);
      assertTrue(closedMs >= 0 && closedMs < 5_000, "a stalled PATCH was still open after 10 s");
    }
    long offset = holder.client().head(upload);
    assertTrue(offset >= 128 * 1024 && offset <= 200_000, "durable offset after 200,000 bytes: " + offset);
    assertEquals(204, holder.client().finish(upload, envelope).status);
    assertHeld(fp, envelope);
  }

  /**
   * Slow-loris: peers that send a request head a byte at a time hold connections, but no request thread
   * (Jetty parses heads without one), so with 30 of them against 8 threads an offer from another peer is
   * still answered at once.
   */
  @Test
  void slowLorisHeadsDoNotStopOffersFromOtherPeers() throws Exception {
    List<RawHttp> loris = new ArrayList<>();
    try {
      for (int i = 0; i < 30; i++) {
        loris.add(new RawHttp(holder.uri()).send("POST /v1/offers HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
      }
      for (int round = 0; round < 5; round++) {
        for (RawHttp l : loris) {
          try {
            l.send("a");
          } catch (IOException cut) {
            // The holder may also cut a connection whose head never ends: fine, it holds nothing then.
          }
        }
        long start = System.nanoTime();
        HttpResponse<String> r = offer(seal("o" + round, 10, 100 + round));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(201, r.statusCode(), r.body());
        assertTrue(ms < 2_000, "an offer took " + ms + " ms beside 30 slow-loris connections");
        Thread.sleep(300);
      }
    } finally {
      for (RawHttp l : loris) {
        l.close();
      }
    }
  }

  private HttpResponse<String> offer(byte[] env) throws Exception {
    io.crowdbackup.engine.protocol.OfferMessage m = new io.crowdbackup.engine.protocol.OfferMessage(
        FaultHolder.fingerprint(env), env.length, System.currentTimeMillis() / 1000 + 3600, null, false);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    return http.send(HttpRequest.newBuilder(URI.create(holder.uri() + "/v1/offers")).timeout(Duration.ofSeconds(5))
        .POST(HttpRequest.BodyPublishers.ofByteArray(m.encode())).build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Slow-loris on the body: a PATCH that trickles a byte every half second never trips the 1 s idle
   * timeout, yet holds a request thread for as long as it likes (the core reads bodies blocking). The
   * holder's minimum request data rate cuts it off; what arrived stays resumable.
   */
  @Test
  void aPatchThatTricklesBelowTheMinimumDataRateIsCutOff() throws Exception {
    String upload = holder.client().create(envelope);
    try (RawHttp c = new RawHttp(holder.uri())) {
      c.send(FaultHolder.patch(upload, 0, envelope.length)).send(envelope, 0, 1000);
      long start = System.nanoTime();
      int at = 1000;
      boolean cut = false;
      while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(12)) {
        try {
          c.send(envelope, at++, 1);
        } catch (IOException e) {
          cut = true;
          break;
        }
        if (c.awaitClosed(500) >= 0) {
          cut = true;
          break;
        }
      }
      assertTrue(cut, "a PATCH trickling 2 bytes a second was still open after 12 s");
    }
    assertEquals(204, holder.client().finish(upload, envelope).status);
    assertHeld(fp, envelope);
  }

  // --- bodies and offsets -----------------------------------------------------------------------------

  @Test
  void aContentLengthPastTheDeclaredLengthIsRefusedAndNothingKept() throws Exception {
    String upload = holder.client().create(envelope);
    byte[] longer = new byte[envelope.length + 10];
    try (RawHttp c = new RawHttp(holder.uri())) {
      // The holder answers from the Content-Length alone, before reading (and without waiting for) the body.
      RawHttp.Answer a = c.send(FaultHolder.patch(upload, 0, longer.length)).read();
      assertProblem(a, 413, Problem.Type.UPLOAD_TOO_LONG);
    }
    assertNothingKept(fp);
  }

  @Test
  void aChunkedBodyThatRunsPastTheDeclaredLengthIsRefusedAndNothingKept() throws Exception {
    String upload = holder.client().create(envelope);
    String head = RawHttp.head("PATCH", upload, Tus.TUS_RESUMABLE, Tus.VERSION, Tus.UPLOAD_OFFSET, "0",
        "Content-Type", Tus.OFFSET_OCTET_STREAM, "Transfer-Encoding", "chunked");
    try (RawHttp c = new RawHttp(holder.uri())) {
      c.send(head);
      for (int off = 0; off < envelope.length; off += 50_000) {
        int n = Math.min(50_000, envelope.length - off);
        c.send(Integer.toHexString(n) + "\r\n").send(envelope, off, n).send("\r\n");
      }
      c.send("a\r\n0123456789\r\n0\r\n\r\n"); // ten bytes more than declared
      RawHttp.Answer a = c.read();
      assertProblem(a, 413, Problem.Type.UPLOAD_TOO_LONG);
    }
    assertNothingKept(fp);
  }

  @Test
  void aWrongUploadOffsetIs409WithTheOffsetToUse() throws Exception {
    String upload = holder.client().create(envelope);
    assertEquals(204, holder.client().patch(upload, envelope, 0, 100_000).status);
    long durable = holder.client().head(upload); // at a piece boundary at or below the 100,000 received
    assertTrue(durable > 0 && durable <= 100_000, "durable offset " + durable);
    RawHttp.Answer a = holder.client().patch(upload, envelope, 99_999, 150_000);
    assertProblem(a, 409, Problem.Type.OFFSET_MISMATCH);
    assertEquals(Long.toString(durable), a.header(Tus.UPLOAD_OFFSET));
    assertEquals(durable, Problem.decode(a.body).number(Problem.UPLOAD_OFFSET, -1));
    RawHttp.Answer ahead = holder.client().patch(upload, envelope, 100_001, 150_000);
    assertEquals(409, ahead.status, ahead.toString());
    assertEquals(204, holder.client().patch(upload, envelope, 100_000, envelope.length).status);
    assertHeld(fp, envelope);
  }

  @Test
  void twoPatchesOfOneUploadAtOnceOneWinsTheOtherIsRefusedAndTheStoreStaysConsistent() throws Exception {
    String upload = holder.client().create(envelope);
    try (RawHttp first = new RawHttp(holder.uri())) {
      first.send(FaultHolder.patch(upload, 0, envelope.length)).send(envelope, 0, 100_000);
      Thread.sleep(200); // the first PATCH is inside the core, holding the upload
      // It keeps streaming (well within the idle timeout and above the minimum rate) while the second comes.
      Thread rest = new Thread(() -> {
        try {
          for (int off = 100_000; off < envelope.length; off += 20_000) {
            first.send(envelope, off, Math.min(20_000, envelope.length - off));
            Thread.sleep(150);
          }
        } catch (IOException | InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
      rest.start();
      // A small body, so that it is all sent before the holder answers and closes.
      RawHttp.Answer second = holder.client().patch(upload, envelope, 0, 1000);
      assertTrue(second.status == 423 || second.status == 409, second.toString());
      rest.join();
      RawHttp.Answer won = first.read();
      assertEquals(204, won.status, won.toString());
      assertEquals(Integer.toString(envelope.length), won.header(Tus.UPLOAD_OFFSET));
    }
    assertHeld(fp, envelope);
  }

  @Test
  void manyConcurrentPatchesOfOneUploadLeaveOneConsistentBlob() throws Exception {
    String upload = holder.client().create(envelope);
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Integer>> answers = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        answers.add(pool.submit(() -> {
          go.await();
          return holder.client().patch(upload, envelope, 0, envelope.length).status;
        }));
      }
      go.countDown();
      int won = 0;
      for (Future<Integer> f : answers) {
        int s = f.get(30, TimeUnit.SECONDS);
        assertTrue(s == 204 || s == 409 || s == 423, "status " + s);
        won += s == 204 ? 1 : 0;
      }
      // One writes the whole envelope; a later one may be answered 204 as the repeat of a finished upload
      // only with an empty body, so exactly one 204 here.
      assertEquals(1, won);
    } finally {
      pool.shutdownNow();
    }
    assertHeld(fp, envelope);
  }

  @Test
  void bytesThatDoNotHashToTheOfferedFingerprintAreRefusedAndNothingKept() throws Exception {
    byte[] other = seal("other", 300_000, 2);
    assertEquals(envelope.length, other.length);
    String upload = holder.client().create(envelope);
    RawHttp.Answer a = holder.client().patch(upload, other, 0, other.length);
    assertProblem(a, 422, Problem.Type.FINGERPRINT_MISMATCH);
    assertNothingKept(fp);
    assertNull(holder.custodian.stat(FaultHolder.fingerprint(other)));
  }

  /**
   * A PATCH whose body does not match its {@code Upload-Checksum} is 460 and leaves the upload exactly as
   * it was, also when the body would have completed a piece (here: the header).
   */
  @Test
  void aBodyThatDoesNotMatchItsUploadChecksumLeavesTheUploadAsItWas() throws Exception {
    String upload = holder.client().create(envelope);
    assertEquals(204, holder.client().patch(upload, envelope, 0, 70_000).status);
    long before = holder.client().head(upload);
    byte[] wrong = MessageDigest.getInstance("SHA-256").digest("not the body".getBytes(StandardCharsets.UTF_8));
    RawHttp.Answer a;
    try (RawHttp c = new RawHttp(holder.uri())) {
      a = c.send(FaultHolder.patch(upload, before, 100_000, Tus.UPLOAD_CHECKSUM, Tus.formatChecksum(wrong)))
          .send(envelope, (int) before, 100_000).read();
    }
    assertProblem(a, Tus.STATUS_CHECKSUM_MISMATCH, Problem.Type.CHECKSUM_MISMATCH);
    assertEquals(before, holder.client().head(upload));
    assertEquals(204, holder.client().finish(upload, envelope).status);
    assertHeld(fp, envelope);
  }

  // --- disconnects ------------------------------------------------------------------------------------

  @Test
  void aDisconnectDuringCreationLeavesNothingAndTheOfferCanBeMadeAgain() throws Exception {
    String creation = FaultHolder.creation(fp, envelope.length);
    try (RawHttp c = new RawHttp(holder.uri())) {
      c.send(creation.substring(0, creation.length() / 2)).abort();
    }
    Thread.sleep(200);
    assertNothingKept(fp);
    String upload = holder.client().create(envelope);
    assertEquals(204, holder.client().finish(upload, envelope).status);
    assertHeld(fp, envelope);
  }

  @Test
  void aCreationWhoseAnswerIsLostIsFoundAgainByOfferingOnceMore() throws Exception {
    try (RawHttp c = new RawHttp(holder.uri())) {
      c.send(FaultHolder.creation(fp, envelope.length));
      Thread.sleep(300); // the holder accepted; the peer walks away before reading the answer
      c.abort();
    }
    String upload = holder.client().create(envelope); // the same URL, at the durable offset 0
    assertEquals(0, holder.client().head(upload));
    assertEquals(204, holder.client().finish(upload, envelope).status);
    assertHeld(fp, envelope);
  }

  @Test
  void aDisconnectMidPatchResumesFromHeadsOffset() throws Exception {
    String upload = holder.client().create(envelope);
    int[] cuts = {1, 70_000, 150_000, envelope.length - 1};
    for (int cut : cuts) {
      long from = holder.client().head(upload);
      try (RawHttp c = new RawHttp(holder.uri())) {
        c.send(FaultHolder.patch(upload, from, envelope.length - from)).send(envelope, (int) from, cut - (int) from);
        Thread.sleep(200);
        c.abort();
      }
      Thread.sleep(200);
      long offset = holder.client().head(upload);
      assertTrue(offset >= from && offset <= cut, "durable offset " + offset + " after a cut at " + cut + " from "
          + from);
    }
    assertEquals(204, holder.client().finish(upload, envelope).status);
    assertHeld(fp, envelope);
  }

  @Test
  void aDisconnectBeforeTheFinalAnswerLeavesTheBlobHeldAndTheLastPatchIsAnsweredAgain() throws Exception {
    String upload = holder.client().create(envelope);
    try (RawHttp c = new RawHttp(holder.uri())) {
      c.send(FaultHolder.patch(upload, 0, envelope.length)).send(envelope);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (holder.custodian.stat(fp) == null && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      c.abort(); // the holder has committed; the peer goes before reading the answer
    }
    // The peer asks HEAD, which says the whole envelope is there; a PATCH of nothing at that offset is
    // answered 204 like the lost answer.
    assertEquals(envelope.length, holder.client().head(upload));
    RawHttp.Answer again = holder.client().patch(upload, envelope, envelope.length, envelope.length);
    assertEquals(204, again.status, again.toString());
    assertHeld(fp, envelope);
  }
}
