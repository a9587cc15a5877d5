package io.crowdbackup.engine.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.net.InetAddress;
import org.jspecify.annotations.Nullable;

/**
 * One request as the protocol core sees it, whatever carries it (Jetty, an Android embedded server, a
 * test). The binding supplies the method, the path without query, header lookup, the body and the peer's
 * address; the core does the rest.
 */
public interface ProtocolRequest {
  /** The HTTP method, upper case. */
  String method();

  /** The request path, e.g. {@code /v1/uploads/abc}; no query string. */
  String path();

  /** The first value of a header (case-insensitive name), or {@code null}. */
  @Nullable String header(String name);

  /** The body; read at most what the core needs. Empty for a request without one. */
  InputStream body();

  /**
   * The body in the pieces its transport has them, for PATCH bodies: a binding whose transport hands out
   * buffers (Jetty's chunks) passes them on uncopied. Default: {@link #body()} through one 64 KiB buffer.
   * Use either this or {@link #body()}, once.
   */
  default BodyPieces bodyPieces() {
    InputStream in = body();
    byte[] buffer = new byte[Exchanges.STREAM_BUFFER_BYTES];
    return max -> {
      int n = in.read(buffer, 0, Math.min(buffer.length, max));
      return n < 0 ? null : ByteBuffer.wrap(buffer, 0, n);
    };
  }

  /** A body read piece by piece. */
  interface BodyPieces {
    /**
     * The next piece, or {@code null} at the end of the body; valid until the next call. {@code max} is a
     * hint: a piece may be longer (the caller checks), never empty.
     */
    @Nullable ByteBuffer next(int max) throws IOException;
  }

  /** The address the request came from: what the holder knows of who the peer is. */
  InetAddress remoteAddress();
}
