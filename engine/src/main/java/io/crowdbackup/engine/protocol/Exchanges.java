package io.crowdbackup.engine.protocol;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.jspecify.annotations.Nullable;

/** What the holder and destination cores share: bounded body reads, the tus headers, protocol errors. */
final class Exchanges {
  /** The size of the one buffer a PATCH streams through. */
  static final int STREAM_BUFFER_BYTES = 64 * 1024;
  static final String UPLOADS = "/v1/uploads";
  static final String NO_STORE = "no-store";
  /** Seconds a peer is asked to wait after this side failed. */
  static final String RETRY_AFTER_SECONDS = "5";

  private Exchanges() {}

  /** Reads a whole small body, refusing one longer than {@code maxBytes} without reading past it. */
  static byte[] readBody(InputStream in, int maxBytes, String what) throws IOException, ProtocolException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(maxBytes, 8192));
    byte[] buf = new byte[Math.min(maxBytes + 1, 8192)];
    int total = 0;
    while (true) {
      int n = in.read(buf, 0, Math.min(buf.length, maxBytes + 1 - total));
      if (n < 0) {
        return out.toByteArray();
      }
      total += n;
      if (total > maxBytes) {
        throw new ProtocolException(ProtocolException.Reason.TOO_LARGE, what,
            "is longer than " + maxBytes + " bytes");
      }
      out.write(buf, 0, n);
    }
  }

  /**
   * The method a request means: a POST with {@code X-HTTP-Method-Override: PATCH} or {@code DELETE} is
   * that method, for HTTP stacks that cannot send them (Java's HttpURLConnection, which tus-java-client
   * falls back to).
   */
  static String method(ProtocolRequest req) {
    String m = req.method();
    if (m.equals("POST")) {
      String o = req.header("X-HTTP-Method-Override");
      if (o != null && (o.equals("PATCH") || o.equals("DELETE"))) {
        return o;
      }
    }
    return m;
  }

  /** Routes one request of a protocol core. */
  interface Router {
    ProtocolResponse route(String method, String path) throws IOException, ProtocolException;
  }

  /**
   * Answers one request through {@code router}: a protocol error becomes its 400/412 problem, a failure of
   * this side a 503 whose detail names nothing local (the cause, which may name local paths, goes to
   * {@code onError} only).
   */
  static ProtocolResponse handle(ProtocolRequest req, Router router,
      java.util.function.BiConsumer<String, Throwable> onError, String side) {
    String path = req.path();
    String method = method(req);
    try {
      return router.route(method, path);
    } catch (ProtocolException e) {
      return problem(e);
    } catch (IOException | RuntimeException e) {
      onError.accept(method + " " + path, e);
      return tus(unavailable("this " + side + " failed to complete the request; retry later"));
    }
  }

  static ProtocolResponse problem(ProtocolException e) {
    Problem.Type t = e.reason() == ProtocolException.Reason.UNSUPPORTED_VERSION ? Problem.Type.UNSUPPORTED_VERSION
        : Problem.Type.BAD_REQUEST;
    return tus(ProtocolResponse.problem(Problem.of(t, e.getMessage())));
  }

  /** Adds {@code Tus-Resumable} (and {@code Tus-Version}, which a 412 needs) to any upload answer. */
  static ProtocolResponse tus(ProtocolResponse r) {
    r.header(Tus.TUS_RESUMABLE, Tus.VERSION);
    if (r.status() == 412) {
      r.header(Tus.TUS_VERSION, Tus.VERSION);
    }
    return r;
  }

  static ProtocolResponse options(long maxSizeBytes) {
    return ProtocolResponse.status(204).header(Tus.TUS_RESUMABLE, Tus.VERSION).header(Tus.TUS_VERSION, Tus.VERSION)
        .header(Tus.TUS_EXTENSION, Tus.EXTENSIONS).header(Tus.TUS_CHECKSUM_ALGORITHM, Tus.CHECKSUM_ALGORITHMS)
        .header(Tus.TUS_MAX_SIZE, Long.toString(maxSizeBytes));
  }

  /**
   * How long a PATCH or DELETE waits for another request on the same upload to end before it is answered
   * 423. A peer that lost its connection resumes at once, while the server may still be ending the dead
   * request; stock tus clients do not retry a 423.
   */
  static final long BUSY_WAIT_MILLIS = 2000;

  /** Takes {@code lock}, waiting up to {@link #BUSY_WAIT_MILLIS}; false if it stayed busy. */
  static boolean lockSoon(java.util.concurrent.locks.ReentrantLock lock) throws java.io.InterruptedIOException {
    try {
      return lock.tryLock(BUSY_WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while waiting for an upload's lock");
    }
  }

  /** The answer to a request on an upload another request is writing. */
  static ProtocolResponse busy(io.crowdbackup.api.Fingerprint fp) {
    return ProtocolResponse.problem(Problem.of(Problem.Type.UPLOAD_BUSY, "another request is writing the upload of "
        + fp + "; retry after it ends"));
  }

  /** A builder's check of an upload id secret: given once, {@link UploadIds#SECRET_BYTES} long; a copy. */
  static byte[] checkedSecret(byte @Nullable [] already, byte[] secret) {
    if (already != null) {
      throw new IllegalStateException("uploadIdSecret was already set");
    }
    if (secret.length != UploadIds.SECRET_BYTES) {
      throw new IllegalArgumentException("uploadIdSecret must be " + UploadIds.SECRET_BYTES + " bytes but was "
          + secret.length);
    }
    return secret.clone();
  }

  /** Upload ids from the given secret, or from a fresh random one (ids then last as long as the process). */
  static UploadIds uploadIds(byte @Nullable [] secretOrNull) {
    byte[] secret = secretOrNull;
    if (secret == null) {
      secret = new byte[UploadIds.SECRET_BYTES];
      new java.security.SecureRandom().nextBytes(secret);
    }
    return new UploadIds(secret);
  }

  static ProtocolResponse notFound(String what) {
    return ProtocolResponse.problem(Problem.of(Problem.Type.NOT_FOUND, what));
  }

  static ProtocolResponse methodNotAllowed(String method, String path, String allowed) {
    return ProtocolResponse.problem(Problem.of(Problem.Type.METHOD_NOT_ALLOWED, method + " is not allowed on "
        + path + "; allowed: " + allowed)).header("Allow", allowed);
  }

  static ProtocolResponse unavailable(String detail) {
    return ProtocolResponse.problem(Problem.of(Problem.Type.UNAVAILABLE, detail))
        .header("Retry-After", RETRY_AFTER_SECONDS);
  }

  /** A PATCH's media type is right, or the 415 answer. */
  static @Nullable ProtocolResponse checkOffsetOctetStream(@Nullable String contentType) {
    if (contentType != null && contentType.trim().toLowerCase(java.util.Locale.ROOT)
        .startsWith(Tus.OFFSET_OCTET_STREAM)) {
      return null;
    }
    return tus(ProtocolResponse.problem(Problem.of(Problem.Type.UNSUPPORTED_MEDIA_TYPE, "a PATCH must be "
        + Tus.OFFSET_OCTET_STREAM + " but is '" + (contentType == null ? "(none)" : Tus.printable(contentType))
        + "'")));
  }

  /**
   * Whether a tus creation carries the upload's first bytes (tus creation-with-upload): its body is
   * {@code application/offset+octet-stream}. A creation without that type has its body ignored, as before.
   */
  static boolean carriesUpload(ProtocolRequest post) {
    String type = post.header("Content-Type");
    return type != null && type.trim().toLowerCase(java.util.Locale.ROOT).startsWith(Tus.OFFSET_OCTET_STREAM);
  }

  /** A creation-with-upload seen as the PATCH of its body at the offset the creation answered. */
  static ProtocolRequest asPatch(ProtocolRequest post, long offset) {
    String at = Long.toString(offset);
    return new ProtocolRequest() {
      @Override
      public String method() {
        return "PATCH";
      }

      @Override
      public String path() {
        return post.path();
      }

      @Override
      public @Nullable String header(String name) {
        return name.equalsIgnoreCase(Tus.UPLOAD_OFFSET) ? at : post.header(name);
      }

      @Override
      public java.io.InputStream body() {
        return post.body();
      }

      @Override
      public BodyPieces bodyPieces() {
        return post.bodyPieces();
      }

      @Override
      public java.net.InetAddress remoteAddress() {
        return post.remoteAddress();
      }
    };
  }

  /**
   * The answer to a creation-with-upload once its body went through the PATCH path: {@code 201} with the
   * creation's headers, then the PATCH's ({@code Upload-Offset}, which the caller makes the durable offset,
   * and whatever a last PATCH adds, such as a receipt). A PATCH that failed
   * (a refusal of the bytes, a device failure) answers as it would, with the upload's {@code Location} added
   * when the creation stands, so the peer can ask {@code HEAD} and resume.
   */
  static ProtocolResponse createdWithUpload(ProtocolResponse created, ProtocolResponse patched) {
    String location = created.headers().get("Location");
    if (patched.status() != 204) {
      return location == null ? patched : patched.header("Location", location);
    }
    ProtocolResponse r = ProtocolResponse.status(201);
    created.headers().forEach(r::header);
    patched.headers().forEach(r::header); // Upload-Offset, and what the last PATCH adds (a receipt)
    return r;
  }

  /** The declared Content-Length, or -1 when the body is chunked. */
  static long contentLength(@Nullable String value) throws ProtocolException {
    return value == null ? -1 : Tus.parseNonNegative("Content-Length", value);
  }
}
