package io.crowdbackup.server;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.protocol.DeliveryQuery;
import io.crowdbackup.engine.protocol.DestinationProtocol;
import io.crowdbackup.engine.protocol.Problem;
import io.crowdbackup.engine.protocol.ProtocolException;
import io.crowdbackup.engine.protocol.Tus;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The client side of docs/protocol.md over the JDK {@link HttpClient}, for one peer (a holder or a
 * destination) at {@code base}. Never follows a redirect, and refuses an upload {@code Location} on
 * another origin: bytes go only where the caller pointed. Answers are read with a bound; a refusal or
 * error is a {@link ProtocolFailure} carrying the peer's problem.
 */
public final class ProtocolClient {
  /** Bound on any answer body we read (problems, JSON, receipts). */
  static final int MAX_ANSWER_BYTES = 512 * 1024;

  private final HttpClient http;
  private final URI base;
  private final Duration requestTimeout;

  /**
   * @param base {@code http://host:port} (a path prefix is allowed; {@code /v1/...} is appended)
   */
  public ProtocolClient(HttpClient http, URI base, Duration requestTimeout) {
    this.http = Objects.requireNonNull(http, "http");
    String s = base.toString();
    this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    if (!"http".equals(this.base.getScheme()) && !"https".equals(this.base.getScheme())) {
      throw new IllegalArgumentException("a peer's base URL must be http or https, not " + base);
    }
    this.requestTimeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
  }

  /** An {@link HttpClient} as this protocol wants it: HTTP/1.1, no redirects, a connect timeout. */
  public static HttpClient newHttpClient(Duration connectTimeout) {
    return HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(connectTimeout).build();
  }

  public URI base() {
    return base;
  }

  /** What a tus creation answered: where to send the bytes, and from which offset. */
  public static final class Created {
    private final URI upload;
    private final long offset;
    private final byte[] receipt;

    Created(URI upload, long offset, byte[] receipt) {
      this.upload = upload;
      this.offset = offset;
      this.receipt = receipt;
    }

    /**
     * The receipt a destination answers a creation-with-upload that carried the whole envelope, or
     * {@code null}. Not verified.
     */
    public byte[] receipt() {
      return receipt == null ? null : receipt.clone();
    }

    public URI upload() {
      return upload;
    }

    public long offset() {
      return offset;
    }
  }

  /** What a PATCH answered: the new offset, and the receipt the last PATCH to a destination carries. */
  public static final class Patched {
    private final long offset;
    private final byte[] receipt;

    Patched(long offset, byte[] receipt) {
      this.offset = offset;
      this.receipt = receipt;
    }

    public long offset() {
      return offset;
    }

    /** The receipt bytes, or {@code null} (a holder sends none). Not verified. */
    public byte[] receipt() {
      return receipt == null ? null : receipt.clone();
    }
  }

  /** tus creation ({@code POST /v1/uploads}); at a holder this is the offer. */
  public Created create(Map<String, String> metadata, long lengthBytes) throws IOException {
    return create(metadata, lengthBytes, null, 0);
  }

  /**
   * Envelopes up to this long go in the creation request itself (tus creation-with-upload): one exchange,
   * not two. Larger ones are offered first, so a refusal costs no bytes on the wire.
   */
  public static final long CREATE_WITH_UPLOAD_MAX_BYTES = 2L << 20;

  /**
   * tus creation carrying the first {@code firstBytes} bytes from offset 0 (creation-with-upload), or none
   * when {@code first} is {@code null}. The answer's offset is what the peer made durable: a peer that
   * ignored the bytes (it found an upload further on, or does not speak the extension) answers less, and
   * the caller PATCHes from there.
   */
  public Created create(Map<String, String> metadata, long lengthBytes, Supplier<InputStream> first,
      long firstBytes) throws IOException {
    HttpRequest.Builder b = request("/v1/uploads").header(Tus.TUS_RESUMABLE, Tus.VERSION)
        .header(Tus.UPLOAD_LENGTH, Long.toString(lengthBytes)).header(Tus.UPLOAD_METADATA, Tus.formatMetadata(metadata));
    if (first == null) {
      b.POST(HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", Tus.OFFSET_OCTET_STREAM).POST(HttpRequest.BodyPublishers.fromPublisher(
          new ChunkedBodyPublisher(first, firstBytes), firstBytes));
    }
    HttpRequest req = b.build();
    HttpResponse<InputStream> r = send(req);
    byte[] body = readAnswer(r);
    if (r.statusCode() != 201) {
      throw failure("offer to " + base, r, body);
    }
    String location = r.headers().firstValue("Location").orElseThrow(() -> new IOException("creation at " + base
        + " answered 201 without a Location"));
    URI upload = sameOrigin(base.resolve(location));
    long offset = r.headers().firstValue(Tus.UPLOAD_OFFSET).isPresent() ? offsetOf(r, upload) : 0;
    Optional<String> receipt = r.headers().firstValue(DestinationProtocol.RECEIPT_HEADER);
    return new Created(upload, offset, receipt.isPresent() ? decodeReceipt(receipt.get(), upload) : null);
  }

  /** The durable offset ({@code HEAD}). */
  public long head(URI upload) throws IOException {
    HttpRequest req = HttpRequest.newBuilder(sameOrigin(upload)).timeout(requestTimeout)
        .header(Tus.TUS_RESUMABLE, Tus.VERSION).method("HEAD", HttpRequest.BodyPublishers.noBody()).build();
    HttpResponse<InputStream> r = send(req);
    byte[] body = readAnswer(r);
    if (r.statusCode() != 200) {
      throw failure("HEAD " + upload, r, body);
    }
    return offsetOf(r, upload);
  }

  /**
   * Sends {@code lengthBytes} from {@code body} at {@code offset} ({@code PATCH}); the stream is read by
   * the HTTP client, once.
   */
  public Patched patch(URI upload, long offset, Supplier<InputStream> body, long lengthBytes) throws IOException {
    HttpRequest req = HttpRequest.newBuilder(sameOrigin(upload)).timeout(requestTimeout)
        .header(Tus.TUS_RESUMABLE, Tus.VERSION).header(Tus.UPLOAD_OFFSET, Long.toString(offset))
        .header("Content-Type", Tus.OFFSET_OCTET_STREAM)
        .method("PATCH", HttpRequest.BodyPublishers.fromPublisher(new ChunkedBodyPublisher(body, lengthBytes),
            lengthBytes)).build();
    HttpResponse<InputStream> r = send(req);
    byte[] answer = readAnswer(r);
    if (r.statusCode() != 204) {
      throw failure("PATCH " + upload, r, answer);
    }
    Optional<String> receipt = r.headers().firstValue(DestinationProtocol.RECEIPT_HEADER);
    return new Patched(offsetOf(r, upload), receipt.isPresent() ? decodeReceipt(receipt.get(), upload) : null);
  }

  /** tus termination ({@code DELETE}). */
  public void delete(URI upload) throws IOException {
    HttpRequest req = HttpRequest.newBuilder(sameOrigin(upload)).timeout(requestTimeout)
        .header(Tus.TUS_RESUMABLE, Tus.VERSION).DELETE().build();
    HttpResponse<InputStream> r = send(req);
    byte[] body = readAnswer(r);
    if (r.statusCode() != 204) {
      throw failure("DELETE " + upload, r, body);
    }
  }

  /** A destination's batch answer: the delivered ones, with (unverified) receipts. */
  public Map<Fingerprint, byte[]> queryDeliveries(List<Fingerprint> fingerprints) throws IOException {
    HttpRequest req = request("/v1/deliveries/query").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(DeliveryQuery.encodeRequest(fingerprints))).build();
    HttpResponse<InputStream> r = send(req);
    byte[] body = readAnswer(r);
    if (r.statusCode() != 200) {
      throw failure("delivery query to " + base, r, body);
    }
    try {
      return DeliveryQuery.decodeResponse(body);
    } catch (ProtocolException e) {
      throw new IOException("the delivery query answer of " + base + " is malformed: " + e.getMessage(), e);
    }
  }

  /** A destination's receipt for one fingerprint (unverified), or {@code null} if not delivered. */
  public byte[] delivery(Fingerprint fingerprint) throws IOException {
    HttpResponse<InputStream> r = send(request("/v1/deliveries/" + fingerprint.toHex()).GET().build());
    byte[] body = readAnswer(r);
    if (r.statusCode() == 404) {
      return null;
    }
    if (r.statusCode() != 200) {
      throw failure("delivery of " + fingerprint + " at " + base, r, body);
    }
    return body;
  }

  /** Posts a receipt ({@code release=false}) or a release to a holder; returns the outcome name. */
  public String drop(byte[] encoded, boolean release) throws IOException {
    HttpRequest req = request(release ? "/v1/releases" : "/v1/receipts")
        .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(encoded))
        .build();
    HttpResponse<InputStream> r = send(req);
    byte[] body = readAnswer(r);
    if (r.statusCode() != 200) {
      throw failure((release ? "release" : "receipt") + " to " + base, r, body);
    }
    try {
      return io.crowdbackup.engine.protocol.Json.parseObject(body, "drop answer").string("outcome");
    } catch (ProtocolException e) {
      throw new IOException("the drop answer of " + base + " is malformed: " + e.getMessage(), e);
    }
  }

  /** The holder's status JSON, as text. */
  public String status() throws IOException {
    HttpResponse<InputStream> r = send(request("/v1/status").GET().build());
    byte[] body = readAnswer(r);
    if (r.statusCode() != 200) {
      throw failure("status of " + base, r, body);
    }
    return new String(body, java.nio.charset.StandardCharsets.UTF_8);
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(base + path)).timeout(requestTimeout);
  }

  /** An upload URL must be on the peer we were pointed at: a Location elsewhere is never followed. */
  URI sameOrigin(URI u) throws IOException {
    if (!Objects.equals(u.getScheme(), base.getScheme()) || !Objects.equals(u.getHost(), base.getHost())
        || u.getPort() != base.getPort()) {
      throw new ProtocolFailure("upload URL " + u + " is not on " + base + "; refused (no other origin)", 0, null,
          null);
    }
    return u;
  }

  private HttpResponse<InputStream> send(HttpRequest req) throws IOException {
    try {
      return http.send(req, HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      InterruptedIOException io = new InterruptedIOException("interrupted: " + req.method() + " " + req.uri());
      io.initCause(e);
      throw io;
    }
  }

  private static byte[] readAnswer(HttpResponse<InputStream> r) throws IOException {
    try (InputStream in = r.body()) {
      byte[] b = in.readNBytes(MAX_ANSWER_BYTES + 1);
      if (b.length > MAX_ANSWER_BYTES) {
        throw new IOException(r.request().method() + " " + r.request().uri() + " answered more than "
            + MAX_ANSWER_BYTES + " bytes");
      }
      return b;
    }
  }

  private static ProtocolFailure failure(String what, HttpResponse<InputStream> r, byte[] body) {
    Problem p = null;
    if (r.headers().firstValue("Content-Type").map(t -> t.startsWith(Problem.MEDIA_TYPE)).orElse(false)) {
      try {
        p = Problem.decode(body);
      } catch (ProtocolException e) {
        p = null; // an unreadable problem is just its status
      }
    }
    Duration retryAfter = r.headers().firstValue("Retry-After").map(ProtocolClient::retryAfter).orElse(null);
    if (r.statusCode() >= 300 && r.statusCode() < 400) {
      what += " (redirect to " + r.headers().firstValue("Location").orElse("?") + " not followed)";
    }
    return new ProtocolFailure(what, r.statusCode(), p, retryAfter);
  }

  /** {@code Retry-After} in seconds (an HTTP date is taken as no hint), bounded to an hour. */
  static Duration retryAfter(String v) {
    try {
      long s = Long.parseLong(v.trim());
      return s < 0 ? null : Duration.ofSeconds(Math.min(s, 3600));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static long offsetOf(HttpResponse<InputStream> r, URI upload) throws IOException {
    String v = r.headers().firstValue(Tus.UPLOAD_OFFSET).orElseThrow(() -> new IOException(upload
        + " answered without Upload-Offset"));
    try {
      return Tus.parseNonNegative(Tus.UPLOAD_OFFSET, v);
    } catch (ProtocolException e) {
      throw new IOException(upload + " answered a bad " + e.getMessage(), e);
    }
  }

  private static byte[] decodeReceipt(String b64, URI upload) throws IOException {
    try {
      return DeliveryQuery.decodeReceipt(b64, "receipt from " + upload);
    } catch (ProtocolException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  /** The receipt a problem (an {@code already-delivered} refusal) carries, or {@code null}. */
  static byte[] receiptOf(ProtocolFailure f) {
    if (f.problem() == null || f.problem().text(Problem.RECEIPT) == null) {
      return null;
    }
    try {
      return Base64.getDecoder().decode(f.problem().text(Problem.RECEIPT));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
