package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.engine.protocol.ProtocolRequest;
import io.crowdbackup.engine.protocol.ProtocolResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * How {@link ProtocolServer} hands a PATCH body to the core: chunks already waiting are joined into large
 * pieces (each piece is a file write, a bandwidth payment and a hashing call), in order, and a failure
 * comes only after every byte that arrived before it.
 */
class BodyPiecesTest {
  private static final int BODY_BYTES = 2 << 20;

  /** What the core saw of one body. */
  private static final class Seen {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int pieces;
    IOException failure;
  }

  private static ProtocolServer server(Function<ProtocolRequest, ProtocolResponse> core) throws IOException {
    return ProtocolServer.newBuilder(core).port(0).idleTimeout(Duration.ofSeconds(30)).stopTimeout(Duration.ZERO)
        .minRequestBytesPerSecond(0).name("body-pieces").build().start();
  }

  /** A core that waits for {@code go}, then reads the whole body piece by piece. */
  private static Function<ProtocolRequest, ProtocolResponse> reader(CountDownLatch go,
      CompletableFuture<Seen> seen) {
    return req -> {
      Seen s = new Seen();
      try {
        assertTrue(go.await(30, TimeUnit.SECONDS));
        ProtocolRequest.BodyPieces in = req.bodyPieces();
        for (ByteBuffer p = in.next(Integer.MAX_VALUE); p != null; p = in.next(Integer.MAX_VALUE)) {
          byte[] b = new byte[p.remaining()];
          p.get(b);
          s.bytes.write(b, 0, b.length);
          s.pieces++;
        }
      } catch (IOException e) {
        s.failure = e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      seen.complete(s);
      return ProtocolResponse.status(204);
    };
  }

  private static byte[] body() {
    byte[] b = new byte[BODY_BYTES];
    new SplittableRandom(7).nextBytes(b);
    return b;
  }

  @Test
  void chunksThatAreWaitingAreJoinedInOrder() throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    CompletableFuture<Seen> seen = new CompletableFuture<>();
    byte[] body = body();
    try (ProtocolServer s = server(reader(go, seen)); RawHttp c = new RawHttp(s.uri())) {
      c.send(RawHttp.head("PATCH", "/v1/uploads/x", "Content-Length", Integer.toString(body.length)));
      CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
        try {
          c.send(body); // as fast as the socket takes it: the reader finds chunks waiting
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      Thread.sleep(200); // let the bytes queue up in the socket before the core reads
      go.countDown();
      Seen r = seen.get(30, TimeUnit.SECONDS);
      sent.get(30, TimeUnit.SECONDS);
      assertNull(r.failure);
      assertArrayEquals(body, r.bytes.toByteArray());
      // Handed on one by one, Jetty's chunks made 129 pieces of these 2 MiB (16 KiB each); joined into
      // 256 KiB, 9.
      assertTrue(r.pieces < 24, r.pieces + " pieces for " + body.length + " bytes");
      assertEquals(204, c.read().status);
    }
  }

  @Test
  void aBodyCutOffDeliversEveryByteThatArrivedThenTheFailure() throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    CompletableFuture<Seen> seen = new CompletableFuture<>();
    byte[] body = body();
    int sentBytes = body.length / 2 + 12_345;
    try (ProtocolServer s = server(reader(go, seen))) {
      RawHttp c = new RawHttp(s.uri());
      c.send(RawHttp.head("PATCH", "/v1/uploads/x", "Content-Length", Integer.toString(body.length)));
      for (int at = 0; at < sentBytes; at += 4096) {
        c.send(body, at, Math.min(4096, sentBytes - at));
      }
      c.close(); // the peer goes away mid-body, the rest of its bytes already waiting in the socket
      go.countDown();
      Seen r = seen.get(30, TimeUnit.SECONDS);
      assertNotNull(r.failure, "a body cut short ends in a failure, not in a short success");
      assertArrayEquals(Arrays.copyOf(body, sentBytes), r.bytes.toByteArray());
    }
  }
}
