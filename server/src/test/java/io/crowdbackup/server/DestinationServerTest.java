package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.protocol.DestinationProtocol;
import io.crowdbackup.engine.protocol.Problem;
import io.crowdbackup.engine.protocol.Tus;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The destination server over real sockets, driven by raw HTTP. */
class DestinationServerTest {
  @TempDir Path dir;
  private Net net;
  private Net.Destination home;
  private byte[] bytes;
  private Fingerprint fp;
  private final HttpClient http = ProtocolClient.newHttpClient(Duration.ofSeconds(2));

  @BeforeEach
  void setUp() throws Exception {
    net = new Net(dir);
    home = net.destination("home");
    Path env = Net.seal(Files.createDirectories(dir.resolve("out")), "e", home.keys, 150_000, 31);
    bytes = Files.readAllBytes(env);
    try (FileChannel ch = FileChannel.open(env)) {
      fp = Envelopes.fingerprint(ch);
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    net.close();
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return http.send(b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder at(String path) {
    return HttpRequest.newBuilder(URI.create(home.uri() + path));
  }

  private HttpResponse<String> create(long length) throws Exception {
    return send(at("/v1/uploads").header(Tus.TUS_RESUMABLE, Tus.VERSION).header(Tus.UPLOAD_LENGTH,
        Long.toString(length)).header(Tus.UPLOAD_METADATA, "fingerprint " + Base64.getEncoder().encodeToString(
        fp.toHex().getBytes(StandardCharsets.US_ASCII))).POST(HttpRequest.BodyPublishers.noBody()));
  }

  private HttpRequest.Builder patch(String url, long offset, HttpRequest.BodyPublisher body) {
    return at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION).header(Tus.UPLOAD_OFFSET, Long.toString(offset))
        .header("Content-Type", Tus.OFFSET_OCTET_STREAM).method("PATCH", body);
  }

  private static Problem problem(HttpResponse<String> r) throws Exception {
    return Problem.decode(r.body().getBytes(StandardCharsets.UTF_8));
  }

  /** tus creation-with-upload: the whole envelope in the creation; the 201 carries the receipt. */
  @Test
  void aCreationCarryingTheWholeEnvelopeDeliversItInOneExchange() throws Exception {
    HttpResponse<String> r = send(at("/v1/uploads").header(Tus.TUS_RESUMABLE, Tus.VERSION).header(Tus.UPLOAD_LENGTH,
        Long.toString(bytes.length)).header(Tus.UPLOAD_METADATA, "fingerprint " + Base64.getEncoder().encodeToString(
        fp.toHex().getBytes(StandardCharsets.US_ASCII))).header("Content-Type", Tus.OFFSET_OCTET_STREAM)
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)));
    assertEquals(201, r.statusCode(), r.body());
    assertEquals(Long.toString(bytes.length), r.headers().firstValue(Tus.UPLOAD_OFFSET).orElse(null));
    String receipt = r.headers().firstValue(DestinationProtocol.RECEIPT_HEADER).orElseThrow();
    HttpResponse<String> again = create(bytes.length); // delivered: refused with the same receipt
    assertEquals(receipt, again.headers().firstValue(DestinationProtocol.RECEIPT_HEADER).orElse(null));
  }

  @Test
  void aDeliveredFingerprintIsRefusedBeforeAnyByteWithTheStoredReceipt() throws Exception {
    String url = create(bytes.length).headers().firstValue("Location").orElseThrow();
    HttpResponse<String> done = send(patch(url, 0, HttpRequest.BodyPublishers.ofByteArray(bytes)));
    assertEquals(204, done.statusCode(), done.body());
    byte[] receipt = Base64.getDecoder().decode(done.headers().firstValue(DestinationProtocol.RECEIPT_HEADER)
        .orElseThrow());
    assertArrayEquals(Receipts.encode(home.inbox.receiptFor(fp)), receipt);

    HttpResponse<String> again = create(bytes.length);
    assertEquals(409, again.statusCode());
    Problem p = problem(again);
    assertEquals(Problem.Type.ALREADY_DELIVERED, p.knownType());
    assertArrayEquals(receipt, Base64.getDecoder().decode(p.text(Problem.RECEIPT)));
    assertArrayEquals(receipt, Base64.getDecoder().decode(again.headers().firstValue(
        DestinationProtocol.RECEIPT_HEADER).orElseThrow()));
    assertEquals(1, home.inbox.deliveredCount());
  }

  @Test
  void moreBytesThanDeclaredAndAFingerprintMismatchKeepNothing() throws Exception {
    String url = create(bytes.length).headers().firstValue("Location").orElseThrow();
    HttpResponse<String> tooLong = send(patch(url, 0, HttpRequest.BodyPublishers.ofByteArray(
        Arrays.copyOf(bytes, bytes.length + 1))));
    assertEquals(413, tooLong.statusCode());
    assertEquals(Problem.Type.UPLOAD_TOO_LONG, problem(tooLong).knownType());
    assertEquals(404, send(patch(url, 0, HttpRequest.BodyPublishers.ofByteArray(bytes))).statusCode());

    url = create(bytes.length).headers().firstValue("Location").orElseThrow();
    byte[] tampered = bytes.clone();
    tampered[bytes.length / 2] ^= 0x40;
    HttpResponse<String> bad = send(patch(url, 0, HttpRequest.BodyPublishers.ofByteArray(tampered)));
    assertEquals(422, bad.statusCode(), bad.body());
    assertTrue(!bad.body().contains(dir.toString()), bad.body());
    assertEquals(0, home.inbox.deliveredCount());
    try (var files = Files.list(home.inbox.directory())) {
      assertEquals(0, files.filter(f -> !f.getFileName().toString().startsWith(".")).count(), "nothing published");
    }
  }

  @Test
  void aBodyWhoseFirstChunkIsCorruptIsRefusedBeforeTheRestIsSent() throws Exception {
    String url = create(bytes.length).headers().firstValue("Location").orElseThrow();
    byte[] corrupt = bytes.clone();
    corrupt[0] ^= 0x01; // the magic: no envelope starts so
    try (RawHttp raw = new RawHttp(home.uri())) {
      raw.send(RawHttp.head("PATCH", url, Tus.TUS_RESUMABLE, Tus.VERSION, Tus.UPLOAD_OFFSET, "0", "Content-Type",
          Tus.OFFSET_OCTET_STREAM, "Content-Length", Integer.toString(corrupt.length)));
      raw.send(corrupt, 0, 16 * 1024); // the first chunk only; the other 134 KB are never sent
      RawHttp.Answer a = raw.read();
      assertEquals(422, a.status, a.toString());
      Problem p = Problem.decode(a.body);
      assertEquals(Problem.Type.ENVELOPE_REJECTED, p.knownType());
      assertEquals("BAD_MAGIC", p.text(Problem.ENVELOPE_REASON), a.toString());
    }
    assertEquals(404, send(at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION).method("HEAD",
        HttpRequest.BodyPublishers.noBody())).statusCode(), "nothing staged is kept");
    assertEquals(0, home.inbox.deliveredCount());

    // The right bytes from another holder are still taken.
    url = create(bytes.length).headers().firstValue("Location").orElseThrow();
    HttpResponse<String> ok = send(patch(url, 0, HttpRequest.BodyPublishers.ofByteArray(bytes)));
    assertEquals(204, ok.statusCode(), ok.body());
  }

  @Test
  void aWrongUploadOffsetIs409AndAChunkedBodyPastTheLengthEndsTheUpload() throws Exception {
    String url = create(bytes.length).headers().firstValue("Location").orElseThrow();
    assertEquals(204, send(patch(url, 0, HttpRequest.BodyPublishers.ofByteArray(Arrays.copyOf(bytes, 50_000))))
        .statusCode());
    HttpResponse<String> ahead = send(patch(url, 60_000, HttpRequest.BodyPublishers.ofByteArray(
        Arrays.copyOfRange(bytes, 60_000, 70_000))));
    assertEquals(409, ahead.statusCode(), ahead.body());
    assertEquals(Problem.Type.OFFSET_MISMATCH, problem(ahead).knownType());
    assertEquals(50_000, problem(ahead).number(Problem.UPLOAD_OFFSET, -1));
    assertEquals("50000", ahead.headers().firstValue(Tus.UPLOAD_OFFSET).orElse(null));
    // No Content-Length (chunked), and one byte more than declared: the upload is ended, nothing kept.
    byte[] longer = Arrays.copyOfRange(bytes, 50_000, bytes.length + 1);
    HttpResponse<String> tooLong = send(patch(url, 50_000, HttpRequest.BodyPublishers.ofInputStream(
        () -> new java.io.ByteArrayInputStream(longer))));
    assertEquals(413, tooLong.statusCode(), tooLong.body());
    assertEquals(Problem.Type.UPLOAD_TOO_LONG, problem(tooLong).knownType());
    assertEquals(404, send(at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION).method("HEAD",
        HttpRequest.BodyPublishers.noBody())).statusCode(), "nothing staged is kept");
    assertEquals(0, home.inbox.deliveredCount());
  }

  @Test
  void aDisconnectAtEveryPhaseKeepsWhatWasStagedAndTheReceiptIsGivenAgain() throws Exception {
    String creation = RawHttp.head("POST", "/v1/uploads", Tus.TUS_RESUMABLE, Tus.VERSION, Tus.UPLOAD_LENGTH,
        Integer.toString(bytes.length), Tus.UPLOAD_METADATA, "fingerprint " + Base64.getEncoder().encodeToString(
        fp.toHex().getBytes(StandardCharsets.US_ASCII)), "Content-Length", "0");
    try (RawHttp c = new RawHttp(home.uri())) {
      c.send(creation);
      c.abort(); // the creation's answer is lost
    }
    HttpResponse<String> created = create(bytes.length);
    assertEquals(201, created.statusCode(), created.body());
    String url = created.headers().firstValue("Location").orElseThrow();
    try (RawHttp c = new RawHttp(home.uri())) {
      c.send(RawHttp.head("PATCH", url, Tus.TUS_RESUMABLE, Tus.VERSION, Tus.UPLOAD_OFFSET, "0", "Content-Type",
          Tus.OFFSET_OCTET_STREAM, "Content-Length", Integer.toString(bytes.length))).send(bytes, 0, 60_000);
      Thread.sleep(200);
      c.abort(); // mid-PATCH
    }
    long offset = Long.parseLong(send(at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION).method("HEAD",
        HttpRequest.BodyPublishers.noBody())).headers().firstValue(Tus.UPLOAD_OFFSET).orElseThrow());
    assertTrue(offset >= 0 && offset <= 60_000, "HEAD after a cut at 60,000: " + offset);
    try (RawHttp c = new RawHttp(home.uri())) {
      c.send(RawHttp.head("PATCH", url, Tus.TUS_RESUMABLE, Tus.VERSION, Tus.UPLOAD_OFFSET, Long.toString(offset),
          "Content-Type", Tus.OFFSET_OCTET_STREAM, "Content-Length", Long.toString(bytes.length - offset)))
          .send(bytes, (int) offset, bytes.length - (int) offset);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (home.inbox.deliveredCount() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      c.abort(); // delivered, but the last PATCH's answer (the receipt) is lost
    }
    assertEquals(1, home.inbox.deliveredCount());
    byte[] receipt = Receipts.encode(home.inbox.receiptFor(fp));
    // The holder asks again in every way it may: each answer carries the same receipt, byte for byte.
    HttpResponse<String> head = send(at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION).method("HEAD",
        HttpRequest.BodyPublishers.noBody()));
    assertEquals(404, head.statusCode());
    assertArrayEquals(receipt, Base64.getDecoder().decode(head.headers().firstValue(
        DestinationProtocol.RECEIPT_HEADER).orElseThrow()));
    // (A repeat of the last PATCH without its body: one with the body may see the connection closed
    // before the early answer, as the server does not read a body it refuses.)
    HttpResponse<String> patchAgain = send(patch(url, bytes.length, HttpRequest.BodyPublishers.noBody()));
    assertEquals(409, patchAgain.statusCode(), patchAgain.body());
    assertArrayEquals(receipt, Base64.getDecoder().decode(problem(patchAgain).text(Problem.RECEIPT)));
    HttpResponse<String> createAgain = create(bytes.length);
    assertEquals(409, createAgain.statusCode());
    assertArrayEquals(receipt, Base64.getDecoder().decode(problem(createAgain).text(Problem.RECEIPT)));
    assertEquals(1, home.inbox.deliveredCount());
  }

  @Test
  void aResumeAfterARestartRebuildsTheCheckFromTheStagedBytes() throws Exception {
    String url = create(bytes.length).headers().firstValue("Location").orElseThrow();
    HttpResponse<String> first = send(patch(url, 0, HttpRequest.BodyPublishers.ofByteArray(
        Arrays.copyOf(bytes, 70_000))));
    assertEquals(204, first.statusCode(), first.body());
    home.restart();
    byte[] tampered = Arrays.copyOfRange(bytes, 70_000, bytes.length);
    tampered[tampered.length / 2] ^= 0x40;
    HttpResponse<String> bad = send(patch(url, 70_000, HttpRequest.BodyPublishers.ofByteArray(tampered)));
    assertEquals(422, bad.statusCode(), bad.body());
    assertEquals(0, home.inbox.deliveredCount());
  }

  @Test
  void aSecondPatchOfTheSameUploadWhileTheFirstRunsIsBusy() throws Exception {
    String url = create(bytes.length).headers().firstValue("Location").orElseThrow();
    CountDownLatch firstBytesSent = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    // A body that sends 100 000 bytes, then stalls until released.
    InputStream slow = new InputStream() {
      int pos;

      @Override
      public int read() {
        throw new UnsupportedOperationException();
      }

      @Override
      public int read(byte[] b, int off, int len) throws java.io.IOException {
        if (pos == 100_000) {
          firstBytesSent.countDown();
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            throw new java.io.InterruptedIOException();
          }
        }
        if (pos >= bytes.length) {
          return -1;
        }
        int n = Math.min(len, (pos < 100_000 ? 100_000 : bytes.length) - pos);
        System.arraycopy(bytes, pos, b, off, n);
        pos += n;
        return n;
      }
    };
    var first = http.sendAsync(patch(url, 0, HttpRequest.BodyPublishers.fromPublisher(
        HttpRequest.BodyPublishers.ofInputStream(() -> slow), bytes.length)).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertTrue(firstBytesSent.await(10, TimeUnit.SECONDS));
    // Wait until the server is writing the first body: its bytes reach the staged file (a HEAD would not
    // say, as it reports only what was fsynced).
    long deadline = System.nanoTime() + 10_000_000_000L;
    Path staged = dir.resolve("home").resolve("staging").resolve(fp.toHex() + "-" + bytes.length + ".part");
    while (Files.size(staged) == 0) {
      assertTrue(System.nanoTime() < deadline, "the first PATCH never reached the server");
      Thread.sleep(20);
    }
    HttpResponse<String> second = send(patch(url, 0, HttpRequest.BodyPublishers.ofByteArray(bytes)));
    assertEquals(423, second.statusCode(), second.body());
    assertEquals(Problem.Type.UPLOAD_BUSY, problem(second).knownType());
    release.countDown();
    HttpResponse<String> r = first.get(20, TimeUnit.SECONDS);
    assertEquals(204, r.statusCode(), r.body());
    assertEquals(1, home.inbox.deliveredCount());
  }

  @Test
  void anIdlePeerIsCutOffAndItsUploadStaysResumable() throws Exception {
    String url = create(bytes.length).headers().firstValue("Location").orElseThrow();
    // Raw socket: headers and 20 000 bytes of a 150 000-byte body, then silence past the idle timeout.
    URI u = home.uri();
    try (java.net.Socket s = new java.net.Socket(u.getHost(), u.getPort())) {
      String head = "PATCH " + url + " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
          + "Content-Type: application/offset+octet-stream\r\nContent-Length: " + bytes.length + "\r\n\r\n";
      s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(bytes, 0, 20_000);
      s.getOutputStream().flush();
      s.setSoTimeout((int) Net.IDLE.toMillis() * 3);
      long t0 = System.nanoTime();
      int n = s.getInputStream().read(new byte[1]);
      long waitedMillis = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(waitedMillis < Net.IDLE.toMillis() * 3, "the server closed or answered after " + waitedMillis);
      assertTrue(n >= -1);
    }
    HttpResponse<String> headAnswer = send(at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION)
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    long offset = Long.parseLong(headAnswer.headers().firstValue(Tus.UPLOAD_OFFSET).orElseThrow());
    assertEquals(20_000, offset);
    HttpResponse<String> rest = send(patch(url, offset, HttpRequest.BodyPublishers.ofByteArray(
        Arrays.copyOfRange(bytes, (int) offset, bytes.length))));
    assertEquals(204, rest.statusCode(), rest.body());
    assertEquals(1, home.inbox.deliveredCount());
  }

  @Test
  void strangersCannotStageMoreThanTheBoundsAndAbandonedUploadsGo() throws Exception {
    Net.Destination small = net.destination("small", b -> b.maxStaged(1, 10L << 20));
    Net.Destination forgetful = net.destination("forgetful",
        b -> b.maxStaged(1, 10L << 20).abandonAfter(java.time.Duration.ZERO));
    Fingerprint envelopeFp = fp;
    for (Net.Destination d : java.util.List.of(small, forgetful)) {
      home = d;
      fp = envelopeFp;
      HttpResponse<String> first = create(bytes.length);
      assertEquals(201, first.statusCode(), first.body());
      fp = Fingerprint.fromHex("7f".repeat(32));
      HttpResponse<String> second = create(1000);
      if (d == small) {
        assertEquals(507, second.statusCode(), second.body());
        Problem p = problem(second);
        assertEquals(Problem.Type.QUOTA_FULL, p.knownType());
        assertEquals((10L << 20) - bytes.length, p.number(Problem.BYTES_FREE, -1));
        assertTrue(second.headers().firstValue("Retry-After").isPresent());
      } else {
        // The first upload was untouched past the abandonment time: removed, so the second fits.
        assertEquals(201, second.statusCode(), second.body());
        String firstUrl = first.headers().firstValue("Location").orElseThrow();
        assertEquals(404, send(patch(firstUrl, 0, HttpRequest.BodyPublishers.ofByteArray(bytes))).statusCode());
      }
    }
  }
}
