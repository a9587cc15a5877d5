package io.crowdbackup.server;

import io.crowdbackup.engine.protocol.ProtocolRequest;
import io.crowdbackup.engine.protocol.ProtocolResponse;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.MinimumDataRateHandler;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Binds a protocol core (the engine's {@code HolderProtocol} or {@code DestinationProtocol}) to Jetty's
 * core handler API: HTTP/1.1 and h2c on one port, an idle timeout on the connector (a peer that sends
 * nothing for that long is cut off, its upload left resumable), a bounded thread pool. The handler only
 * translates; every decision is the core's.
 */
public final class ProtocolServer implements Closeable {
  private static final int INPUT_BUFFER_BYTES = 64 * 1024;
  private final Server server;
  private final PieceBuffers pieceBuffers = new PieceBuffers();
  private final ServerConnector connector;
  private final String scheme;

  private ProtocolServer(Builder b) {
    QueuedThreadPool threads = new QueuedThreadPool(b.maxThreads, Math.min(8, b.maxThreads));
    threads.setName(b.name);
    server = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendXPoweredBy(false);
    if (b.tls != null) {
      // HTTPS, HTTP/1.1 only (h2 over TLS would need ALPN). The SNI host check is off: peers dial an address.
      SecureRequestCustomizer secure = new SecureRequestCustomizer();
      secure.setSniHostCheck(false);
      http.addCustomizer(secure);
      SslContextFactory.Server ssl = new SslContextFactory.Server();
      ssl.setSslContext(b.tls);
      connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(http));
    } else {
      HttpConnectionFactory h1 = new HttpConnectionFactory(http);
      // Bodies are read in pieces of up to this much (the default 8 KiB makes a 64 MiB upload 8192 reads
      // and file writes); the buffer goes back to the pool between reads, so idle uploads do not hold one.
      h1.setInputBufferSize(INPUT_BUFFER_BYTES);
      connector = new ServerConnector(server, h1, new HTTP2CServerConnectionFactory(http));
    }
    scheme = b.tls != null ? "https" : "http";
    connector.setHost(b.host);
    connector.setPort(b.port);
    connector.setIdleTimeout(b.idleTimeout.toMillis());
    server.addConnector(connector);
    // A body that trickles in just under the idle timeout would hold a request thread for ever (the cores
    // read bodies blocking): below the minimum rate the request is cut off, its upload left resumable.
    server.setHandler(b.minRequestBytesPerSecond > 0
        ? new MinimumDataRateHandler(new CoreHandler(b.core, pieceBuffers), b.minRequestBytesPerSecond, 0)
        : new CoreHandler(b.core, pieceBuffers));
    server.setStopTimeout(b.stopTimeout.toMillis());
    server.setStopAtShutdown(false);
  }

  public static Builder newBuilder(Function<ProtocolRequest, ProtocolResponse> core) {
    return new Builder(core);
  }

  /** Starts listening; returns once the port is bound. */
  public ProtocolServer start() throws IOException {
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("could not start the server on " + connector.getHost() + ":" + connector.getPort() + ": "
          + e, e);
    }
    return this;
  }

  /** The bound port (the real one when 0 was asked for). */
  public int port() {
    return connector.getLocalPort();
  }

  /** {@code http://host:port} (or {@code https://}), the base URL peers use. */
  public URI uri() {
    String host = connector.getHost() == null ? "127.0.0.1" : connector.getHost();
    return URI.create(scheme + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port());
  }

  /** Stops gracefully: stops accepting, lets requests in flight finish up to the stop timeout. Safe twice. */
  @Override
  public void close() throws IOException {
    try {
      server.stop();
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("could not stop the server: " + e, e);
    }
  }

  /** Blocks until the server stopped. */
  public void join() throws InterruptedException {
    server.join();
  }

  private static final class CoreHandler extends Handler.Abstract {
    private final Function<ProtocolRequest, ProtocolResponse> core;
    private final PieceBuffers pieceBuffers;

    CoreHandler(Function<ProtocolRequest, ProtocolResponse> core, PieceBuffers pieceBuffers) {
      this.core = core;
      this.pieceBuffers = pieceBuffers;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      JettyRequest jr = new JettyRequest(request, pieceBuffers);
      ProtocolResponse r;
      try {
        r = core.apply(jr);
      } finally {
        jr.releaseAll();
      }
      response.setStatus(r.status());
      for (Map.Entry<String, String> h : r.headers().entrySet()) {
        response.getHeaders().put(h.getKey(), h.getValue());
      }
      if (r.bodyLength() == 0 || request.getMethod().equals("HEAD")) {
        if (r.status() != 204 && r.status() >= 200) {
          response.getHeaders().put(HttpHeader.CONTENT_LENGTH, r.bodyLength() == 0 ? 0 : r.bodyLength());
        }
        response.write(true, null, callback);
      } else {
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, r.bodyLength());
        response.write(true, ByteBuffer.wrap(r.body()), callback);
      }
      return true;
    }
  }

  /** A Jetty request as the core sees it; the body is read blocking, through Jetty's bounded buffers. */
  private static final class JettyRequest implements ProtocolRequest {
    private final Request request;
    private final PieceBuffers pieceBuffers;
    private InputStream body;
    /** The chunk whose buffer the core holds as its current body piece; released at the next read. */
    private Content.Chunk piece;
    /** Or the pooled buffer the core holds, chunks copied together; back to the pool at the next read. */
    private ByteBuffer joined;
    /** A chunk read while joining that did not fit (or a failure after them): the next piece. */
    private Content.Chunk next;
    private boolean ended;

    JettyRequest(Request request, PieceBuffers pieceBuffers) {
      this.request = request;
      this.pieceBuffers = pieceBuffers;
    }

    @Override
    public String method() {
      return request.getMethod();
    }

    @Override
    public String path() {
      String p = request.getHttpURI().getPath();
      return p == null ? "/" : p;
    }

    @Override
    public String header(String name) {
      return request.getHeaders().get(name);
    }

    @Override
    public InputStream body() {
      if (body == null) {
        body = Request.asInputStream(request);
      }
      return body;
    }

    /**
     * Jetty's own chunks: a PATCH body goes from the connection's buffer to the file uncopied (the stream
     * view copies every byte once more, through a small array). Over a fast link a read finds only what
     * arrived since the last one, about 16 KiB: a 64 MiB upload came in 4,100 chunks, each a file write, a
     * bandwidth payment and a hashing call. Chunks that are already waiting are therefore copied together
     * into one pooled buffer of {@link PieceBuffers#BYTES} (4,100 file writes became about 260); a chunk
     * that arrives alone (a slow peer) is passed on as it is, and nothing is held while waiting for more.
     */
    @Override
    public BodyPieces bodyPieces() {
      return max -> {
        releasePiece();
        Content.Chunk c = take(true);
        if (c == null) {
          return null;
        }
        if (c.remaining() >= PieceBuffers.BYTES / 2 || ended) {
          piece = c;
          return c.getByteBuffer();
        }
        Content.Chunk more = take(false);
        ByteBuffer into = more == null ? null : pieceBuffers.borrow();
        if (into == null) {
          if (more != null) {
            next = more; // (a failure met on the way is in next already)
          }
          piece = c;
          return c.getByteBuffer();
        }
        ((java.nio.Buffer) into).clear();
        into.put(c.getByteBuffer());
        c.release();
        while (more != null && more.remaining() <= into.remaining()) {
          into.put(more.getByteBuffer());
          more.release();
          more = take(false);
        }
        if (more != null) {
          next = more; // did not fit (a failure met on the way is in next already)
        }
        ((java.nio.Buffer) into).flip();
        joined = into;
        return into;
      };
    }

    /**
     * The next chunk with bytes, or null at the end of the body, or (not blocking) when none is waiting.
     * A failure is thrown here, after every chunk before it was handed on.
     */
    private Content.Chunk take(boolean block) throws IOException {
      while (true) {
        Content.Chunk c = next;
        next = null;
        if (c == null) {
          if (ended) {
            return null;
          }
          c = request.read();
        }
        if (c == null) {
          if (!block) {
            return null;
          }
          try (Blocker.Runnable demand = Blocker.runnable()) {
            request.demand(demand);
            demand.block();
          }
          continue;
        }
        if (Content.Chunk.isFailure(c)) {
          if (!block) {
            next = c; // the bytes before it go on first
            return null;
          }
          Throwable f = c.getFailure();
          ended = true;
          throw f instanceof IOException ? (IOException) f : new IOException(f);
        }
        ended = c.isLast();
        if (!c.hasRemaining()) {
          c.release();
          continue;
        }
        return c;
      }
    }

    void releasePiece() {
      if (piece != null) {
        piece.release();
        piece = null;
      }
      if (joined != null) {
        pieceBuffers.giveBack(joined);
        joined = null;
      }
    }

    /** At the end of the exchange: also a chunk read ahead and not handed on. */
    void releaseAll() {
      releasePiece();
      if (next != null) {
        next.release();
        next = null;
      }
    }

    @Override
    public InetAddress remoteAddress() {
      SocketAddress a = request.getConnectionMetaData().getRemoteSocketAddress();
      if (a instanceof InetSocketAddress && ((InetSocketAddress) a).getAddress() != null) {
        return ((InetSocketAddress) a).getAddress();
      }
      return InetAddress.getLoopbackAddress();
    }
  }

  /**
   * The buffers body chunks are joined into: direct (the file write takes them as they are), at most
   * {@link #MAX} of them for the whole server, so a thousand uploads hold at most 8 MiB; when all are
   * lent out, chunks go on unjoined.
   */
  static final class PieceBuffers {
    static final int BYTES = 256 * 1024;
    static final int MAX = 32;
    private final java.util.concurrent.ArrayBlockingQueue<ByteBuffer> free =
        new java.util.concurrent.ArrayBlockingQueue<>(MAX);
    private final java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();

    ByteBuffer borrow() {
      ByteBuffer b = free.poll();
      if (b == null && made.getAndUpdate(n -> n < MAX ? n + 1 : n) < MAX) {
        b = ByteBuffer.allocateDirect(BYTES);
      }
      return b;
    }

    void giveBack(ByteBuffer b) {
      free.offer(b);
    }
  }

  /**
   * Fail-fast builder; {@link #build()} changes nothing. Each setting may be given once: a second one fails with
   * "<i>name</i> was already set to <i>value</i>" rather than replace the first.
   */
  public static final class Builder {
    private final Function<ProtocolRequest, ProtocolResponse> core;
    private String host = "127.0.0.1";
    private int port;
    private Duration idleTimeout = Duration.ofSeconds(30);
    private Duration stopTimeout = Duration.ofSeconds(5);
    private long minRequestBytesPerSecond = 1024;
    private int maxThreads = 200;
    private String name = "crowdbackup-http";
    private javax.net.ssl.SSLContext tls;
    private final SetOnce given = new SetOnce();

    private Builder(Function<ProtocolRequest, ProtocolResponse> core) {
      this.core = Objects.requireNonNull(core, "core");
    }

    /** The address to listen on. Default 127.0.0.1; {@code 0.0.0.0} for a venue network. */
    public Builder host(String host) {
      Objects.requireNonNull(host, "host");
      given.mark("host", this.host);
      this.host = host;
      return this;
    }

    /** The port; 0 (the default) picks a free one, see {@link ProtocolServer#port()}. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535 but was " + port);
      }
      given.mark("port", this.port);
      this.port = port;
      return this;
    }

    /** How long a connection may send nothing before it is closed. Default 30 s. */
    public Builder idleTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("idleTimeout must be positive but was " + timeout);
      }
      given.mark("idleTimeout", this.idleTimeout);
      this.idleTimeout = timeout;
      return this;
    }

    /** How long a stop waits for requests in flight. Default 5 s. */
    public Builder stopTimeout(Duration timeout) {
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("stopTimeout must not be negative but was " + timeout);
      }
      given.mark("stopTimeout", this.stopTimeout);
      this.stopTimeout = timeout;
      return this;
    }

    /**
     * The slowest a request body may arrive, bytes per second, averaged over the request: a slower peer is
     * cut off (slow-loris on the body). Default 1024; 0 turns the check off.
     */
    public Builder minRequestBytesPerSecond(long bytesPerSecond) {
      if (bytesPerSecond < 0) {
        throw new IllegalArgumentException("minRequestBytesPerSecond must not be negative but was " + bytesPerSecond);
      }
      given.mark("minRequestBytesPerSecond", this.minRequestBytesPerSecond);
      this.minRequestBytesPerSecond = bytesPerSecond;
      return this;
    }

    /** Request threads at most (a PATCH holds one while it streams); at least 4. Default 200. */
    public Builder maxThreads(int threads) {
      if (threads < 4) {
        throw new IllegalArgumentException("maxThreads must be at least 4 but was " + threads);
      }
      given.mark("maxThreads", this.maxThreads);
      this.maxThreads = threads;
      return this;
    }

    /**
     * Serves HTTPS with this context's key (see {@link Tls#serverContext}): what a destination whose
     * locator is not loopback must do. Default: plain HTTP (HTTP/1.1 and h2c).
     */
    public Builder tls(javax.net.ssl.SSLContext context) {
      Objects.requireNonNull(context, "context");
      given.mark("tls", this.tls);
      this.tls = context;
      return this;
    }

    /** The thread pool's name, for thread dumps. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      given.mark("name", this.name);
      this.name = name;
      return this;
    }

    public ProtocolServer build() {
      return new ProtocolServer(this);
    }
  }
}
