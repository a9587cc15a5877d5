package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.protocol.Json;
import io.crowdbackup.engine.protocol.OfferMessage;
import io.crowdbackup.engine.protocol.Problem;
import io.crowdbackup.engine.protocol.Tus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** The holder service over real sockets, driven by raw HTTP: what a peer that is not our client may send. */
class HolderServiceTest {
  @TempDir Path dir;
  private Net net;
  private Net.Holder holder;
  private Path envelope;
  private byte[] bytes;
  private Fingerprint fp;
  private long expires;
  private final HttpClient http = ProtocolClient.newHttpClient(Duration.ofSeconds(2));

  @BeforeEach
  void setUp() throws Exception {
    net = new Net(dir);
    holder = net.holder("h", 8L << 20);
    Net.Destination home = net.destination("home");
    envelope = Net.seal(Files.createDirectories(dir.resolve("out")), "e", home.keys, 200_000, 9);
    bytes = Files.readAllBytes(envelope);
    try (FileChannel ch = FileChannel.open(envelope)) {
      expires = Envelopes.readHeader(ch).expiresAtEpochSecond();
      ch.position(0);
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
    return HttpRequest.newBuilder(URI.create(holder.uri() + path));
  }

  private String create(long length) throws Exception {
    HttpResponse<String> r = send(at("/v1/uploads").header(Tus.TUS_RESUMABLE, Tus.VERSION)
        .header(Tus.UPLOAD_LENGTH, Long.toString(length))
        .header(Tus.UPLOAD_METADATA, Tus.formatMetadata(new OfferMessage(fp, length, expires, "p", false)
            .toTusMetadata())).POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(201, r.statusCode(), r.body());
    return r.headers().firstValue("Location").orElseThrow();
  }

  private HttpResponse<String> patch(String url, long offset, byte[] body, String checksum) throws Exception {
    HttpRequest.Builder b = at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION)
        .header(Tus.UPLOAD_OFFSET, Long.toString(offset)).header("Content-Type", Tus.OFFSET_OCTET_STREAM)
        .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(body));
    if (checksum != null) {
      b.header(Tus.UPLOAD_CHECKSUM, checksum);
    }
    return send(b);
  }

  private Problem problem(HttpResponse<String> r) throws Exception {
    assertEquals(Problem.MEDIA_TYPE, r.headers().firstValue("Content-Type").orElse(null), r.body());
    Problem p = Problem.decode(r.body().getBytes(StandardCharsets.UTF_8));
    assertEquals(r.statusCode(), p.status());
    assertTrue(!r.body().contains(dir.toString()), "a problem never names a local path: " + r.body());
    return p;
  }

  private long reserved() {
    return holder.custodian.stats().reservedBytes();
  }

  @Test
  void optionsAdvertiseTheTusSubset() throws Exception {
    HttpResponse<String> r = send(at("/v1/uploads").method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
    assertEquals(204, r.statusCode());
    assertEquals("1.0.0", r.headers().firstValue(Tus.TUS_VERSION).orElse(null));
    assertEquals(Tus.EXTENSIONS, r.headers().firstValue(Tus.TUS_EXTENSION).orElse(null));
    assertEquals("sha256", r.headers().firstValue(Tus.TUS_CHECKSUM_ALGORITHM).orElse(null));
    assertEquals(Long.toString(8L << 20), r.headers().firstValue(Tus.TUS_MAX_SIZE).orElse(null));
  }

  private HttpResponse<String> createWithUpload(byte[] first) throws Exception {
    return send(at("/v1/uploads").header(Tus.TUS_RESUMABLE, Tus.VERSION)
        .header(Tus.UPLOAD_LENGTH, Long.toString(bytes.length))
        .header(Tus.UPLOAD_METADATA, Tus.formatMetadata(new OfferMessage(fp, bytes.length, expires, "p", false)
            .toTusMetadata())).header("Content-Type", Tus.OFFSET_OCTET_STREAM)
        .POST(HttpRequest.BodyPublishers.ofByteArray(first)));
  }

  /** tus creation-with-upload: the whole envelope in the creation, held (committed) when 201 answers. */
  @Test
  void aCreationCarryingTheWholeEnvelopeHoldsItInOneExchange() throws Exception {
    HttpResponse<String> r = createWithUpload(bytes);
    assertEquals(201, r.statusCode(), r.body());
    assertEquals(Long.toString(bytes.length), r.headers().firstValue(Tus.UPLOAD_OFFSET).orElse(null));
    assertTrue(r.headers().firstValue("Location").isPresent());
    assertEquals(BlobState.HELD, holder.custodian.stat(fp).state());
  }

  /** A creation with the first bytes answers only what it made durable; the rest continues by PATCH. */
  @Test
  void aCreationCarryingTheFirstBytesAnswersTheDurableOffset() throws Exception {
    HttpResponse<String> r = createWithUpload(Arrays.copyOf(bytes, 100_000));
    assertEquals(201, r.statusCode(), r.body());
    long offset = Long.parseLong(r.headers().firstValue(Tus.UPLOAD_OFFSET).orElseThrow());
    String url = r.headers().firstValue("Location").orElseThrow();
    HttpResponse<String> head = send(at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION)
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertEquals(Long.toString(offset), head.headers().firstValue(Tus.UPLOAD_OFFSET).orElse(null));
    // The 100,000 bytes end inside a piece; like a PATCH, the creation's checkpoint makes them all durable
    // (the tail record), and HEAD above agreed.
    assertEquals(100_000, offset);
    HttpResponse<String> rest = patch(url, offset, Arrays.copyOfRange(bytes, (int) offset, bytes.length), null);
    assertEquals(204, rest.statusCode(), rest.body());
    assertEquals(BlobState.HELD, holder.custodian.stat(fp).state());
  }

  /** Bytes that are not the envelope, sent with the creation, are refused with nothing kept. */
  @Test
  void aCreationCarryingBadBytesIsRefusedWithNothingKept() throws Exception {
    byte[] tampered = bytes.clone();
    tampered[tampered.length - 100] ^= 1;
    HttpResponse<String> r = createWithUpload(tampered);
    Problem p = problem(r);
    assertTrue(p.knownType() == Problem.Type.FINGERPRINT_MISMATCH || p.knownType() == Problem.Type.MALFORMED,
        p.toString());
    assertEquals(0, reserved());
    assertNull(holder.custodian.stat(fp));
  }

  @Test
  void aWrongOffsetIs409WithTheOffsetToContinueFrom() throws Exception {
    String url = create(bytes.length);
    assertEquals(204, patch(url, 0, Arrays.copyOf(bytes, 100_000), null).statusCode());
    HttpResponse<String> r = patch(url, 5, Arrays.copyOfRange(bytes, 5, 10), null);
    assertEquals(409, r.statusCode());
    Problem p = problem(r);
    assertEquals(Problem.Type.OFFSET_MISMATCH, p.knownType());
    long durable = p.number(Problem.UPLOAD_OFFSET, -1);
    // HEAD says the same durable offset; continuing from it works (the holder cuts back to it).
    HttpResponse<String> head = send(at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION)
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertEquals(Long.toString(durable), head.headers().firstValue(Tus.UPLOAD_OFFSET).orElse(null));
    assertTrue(durable > 0 && durable <= 100_000, "durable " + durable);
    HttpResponse<String> rest = patch(url, durable, Arrays.copyOfRange(bytes, (int) durable, bytes.length), null);
    assertEquals(204, rest.statusCode(), rest.body());
    assertEquals(BlobState.HELD, holder.custodian.stat(fp).state());
  }

  @Test
  void moreBytesThanDeclaredEndTheUploadAndFreeTheReservation() throws Exception {
    String url = create(bytes.length);
    assertEquals(bytes.length, reserved());
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 10);
    HttpResponse<String> r = patch(url, 0, longer, null);
    assertEquals(413, r.statusCode());
    assertEquals(Problem.Type.UPLOAD_TOO_LONG, problem(r).knownType());
    assertEquals(0, reserved());
    assertNull(holder.custodian.stat(fp));
    assertEquals(404, patch(url, 0, bytes, null).statusCode());
  }

  @Test
  void aBodyWhoseFingerprintDoesNotMatchIsRefusedWithNothingKept() throws Exception {
    String url = create(bytes.length);
    byte[] tampered = bytes.clone();
    tampered[tampered.length - 100] ^= 1;
    HttpResponse<String> r = patch(url, 0, tampered, null);
    Problem p = problem(r);
    assertTrue(p.knownType() == Problem.Type.FINGERPRINT_MISMATCH || p.knownType() == Problem.Type.MALFORMED,
        p.toString());
    assertEquals(0, reserved());
    assertNull(holder.custodian.stat(fp));
  }

  @Test
  void aChecksumMismatchDiscardsThePatch() throws Exception {
    String url = create(bytes.length);
    byte[] piece = Arrays.copyOf(bytes, 1000);
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(new byte[1000]);
    HttpResponse<String> r = patch(url, 0, piece, Tus.formatChecksum(digest));
    assertEquals(460, r.statusCode());
    assertEquals(0, problem(r).number(Problem.UPLOAD_OFFSET, -1));
    byte[] good = MessageDigest.getInstance("SHA-256").digest(bytes);
    assertEquals(204, patch(url, 0, bytes, Tus.formatChecksum(good)).statusCode());
    assertEquals(BlobState.HELD, holder.custodian.stat(fp).state());
  }

  @Test
  void terminationFreesTheReservation() throws Exception {
    String url = create(bytes.length);
    assertEquals(204, patch(url, 0, Arrays.copyOf(bytes, 50_000), null).statusCode());
    HttpResponse<String> r = send(at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION).DELETE());
    assertEquals(204, r.statusCode());
    assertEquals(0, reserved());
    assertEquals(404, send(at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION)
        .method("HEAD", HttpRequest.BodyPublishers.noBody())).statusCode());
  }

  @Test
  void malformedAndOversizedInputIs400Problem() throws Exception {
    HttpRequest.Builder[] bad = {
        at("/v1/uploads").header(Tus.TUS_RESUMABLE, Tus.VERSION).header(Tus.UPLOAD_LENGTH, "-5")
            .POST(HttpRequest.BodyPublishers.noBody()),
        at("/v1/uploads").header(Tus.TUS_RESUMABLE, Tus.VERSION).header(Tus.UPLOAD_LENGTH, "10")
            .header(Tus.UPLOAD_METADATA, "fingerprint !!!").POST(HttpRequest.BodyPublishers.noBody()),
        at("/v1/uploads").header(Tus.TUS_RESUMABLE, Tus.VERSION).header(Tus.UPLOAD_LENGTH, "10")
            .header(Tus.UPLOAD_METADATA, "a " + "QUFB".repeat(1100)).POST(HttpRequest.BodyPublishers.noBody()),
        at("/v1/offers").header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"fingerprint\":")),
        at("/v1/offers").header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"peer\":\"" + "x".repeat(5000) + "\"}")),
        at("/v1/offers").header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"fingerprint\":\"" + fp.toHex() + "\",\"lengthBytes\":1.5,\"expiresAtEpochSecond\":1}")),
        at("/v1/receipts").POST(HttpRequest.BodyPublishers.ofByteArray(new byte[1000])),
        at("/v1/uploads/" + "ab".repeat(40)).header(Tus.TUS_RESUMABLE, Tus.VERSION)
            .method("HEAD", HttpRequest.BodyPublishers.noBody()),
    };
    for (HttpRequest.Builder b : bad) {
      HttpResponse<String> r = send(b);
      assertEquals(400, r.statusCode(), r.request() + " " + r.body());
      if (!r.request().method().equals("HEAD")) {
        assertEquals(Problem.Type.BAD_REQUEST, problem(r).knownType(), r.body());
      }
    }
    HttpResponse<String> noVersion = send(at("/v1/uploads").header(Tus.UPLOAD_LENGTH, "10")
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(412, noVersion.statusCode());
    assertEquals("1.0.0", noVersion.headers().firstValue(Tus.TUS_VERSION).orElse(null));
    assertEquals(0, reserved());
  }

  @Test
  void offersAreAnsweredWithAcceptRefusalOrCounterOffer() throws Exception {
    byte[] offer = new OfferMessage(fp, bytes.length, expires, "p", false).encode();
    HttpResponse<String> r = send(at("/v1/offers").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(offer)));
    assertEquals(201, r.statusCode(), r.body());
    Json.Obj o = Json.parseObject(r.body().getBytes(StandardCharsets.UTF_8), "answer");
    String url = o.string("uploadUrl");
    assertEquals(r.headers().firstValue("Location").orElse(null), url);
    // Offering again (the source lost its state): the same upload, from its durable offset.
    HttpResponse<String> again = send(at("/v1/offers").POST(HttpRequest.BodyPublishers.ofByteArray(offer)));
    assertEquals(201, again.statusCode(), again.body());
    assertEquals(url, again.headers().firstValue("Location").orElse(null));
    assertEquals(204, patch(url, 0, bytes, null).statusCode());

    // Too large for the quota: a machine-readable refusal with the numbers a peer needs.
    Fingerprint other = Fingerprint.fromHex("01".repeat(32));
    HttpResponse<String> big = send(at("/v1/offers").POST(HttpRequest.BodyPublishers.ofByteArray(
        new OfferMessage(other, 100L << 20, expires, null, false).encode())));
    Problem p = problem(big);
    assertTrue(p.knownType() == Problem.Type.TOO_LARGE || p.knownType() == Problem.Type.QUOTA_FULL, p.toString());
    assertTrue(p.number(Problem.BYTES_FREE, -1) >= 0, p.toString());

    // Insisting on a retention beyond the holder's: the counter-offer.
    long farFuture = holder.custodian.nowEpochSecond() + 30L * 24 * 3600;
    HttpResponse<String> ttl = send(at("/v1/offers").POST(HttpRequest.BodyPublishers.ofByteArray(
        new OfferMessage(other, 1000, farFuture, null, true).encode())));
    Problem c = problem(ttl);
    assertEquals(Problem.Type.TTL_TOO_LONG, c.knownType(), c.toString());
    assertEquals(409, c.status());
    long counter = c.number(Problem.COUNTER_OFFER_EXPIRES, -1);
    assertTrue(counter > holder.custodian.nowEpochSecond() && counter < farFuture, c.toString());
    HttpResponse<String> taken = send(at("/v1/offers").POST(HttpRequest.BodyPublishers.ofByteArray(
        new OfferMessage(other, 1000, counter, null, true).encode())));
    assertEquals(201, taken.statusCode(), taken.body());

    HttpResponse<String> status = send(at("/v1/status").GET());
    Json.Obj st = Json.parseObject(status.body().getBytes(StandardCharsets.UTF_8), "status");
    assertEquals(bytes.length, st.integer("heldBytes", 0, Long.MAX_VALUE));
    assertEquals(1000, st.integer("reservedBytes", 0, Long.MAX_VALUE));
    assertNotNull(st.array("peers"), "loopback sees the per-peer list");
  }

  @Test
  void aPatchIsAcceptedThroughTheMethodOverride() throws Exception {
    String url = create(bytes.length);
    HttpResponse<String> r = send(at(url).header(Tus.TUS_RESUMABLE, Tus.VERSION).header(Tus.UPLOAD_OFFSET, "0")
        .header("X-HTTP-Method-Override", "PATCH").header("Content-Type", Tus.OFFSET_OCTET_STREAM)
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)));
    assertEquals(204, r.statusCode(), r.body());
    assertEquals(BlobState.HELD, holder.custodian.stat(fp).state());
  }
}
