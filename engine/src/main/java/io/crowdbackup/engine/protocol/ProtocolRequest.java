package io.crowdbackup.engine.protocol;

import java.io.InputStream;
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

  /** The address the request came from: what the holder knows of who the peer is. */
  InetAddress remoteAddress();
}
