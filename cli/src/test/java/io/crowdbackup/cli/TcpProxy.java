package io.crowdbackup.cli;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A loopback TCP proxy: a load balancer in front of destination servers (new connections go to the
 * current {@link #target}; one whose server died is cut, as a real balancer's would be), or, with a rate,
 * a slow network link that widens the moments a test wants to hit (client-to-target bytes per second).
 */
final class TcpProxy implements Closeable {
  private final ServerSocket server;
  private final AtomicReference<URI> target;
  private final long bytesPerSecond;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  /** {@code bytesPerSecond} 0: unthrottled. */
  TcpProxy(URI target, long bytesPerSecond) throws IOException {
    this.target = new AtomicReference<>(target);
    this.bytesPerSecond = bytesPerSecond;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "tcp-proxy-" + server.getLocalPort());
    t.setDaemon(true);
    t.start();
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.getLocalPort());
  }

  int port() {
    return server.getLocalPort();
  }

  /** Where connections accepted from now on go. */
  void target(URI next) {
    target.set(next);
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      URI to = target.get();
      try {
        Socket upstream = new Socket(to.getHost(), to.getPort());
        sockets.add(client);
        sockets.add(upstream);
        pipe(client, upstream, bytesPerSecond);
        pipe(upstream, client, 0);
      } catch (IOException e) {
        closeQuietly(client); // nothing listens there (a killed server): the client sees a refusal
      }
    }
  }

  private void pipe(Socket from, Socket to, long rate) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      long sent = 0;
      long t0 = System.nanoTime();
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          out.write(buf, 0, n);
          out.flush();
          sent += n;
          if (rate > 0) {
            long due = t0 + sent * 1_000_000_000L / rate;
            long wait = due - System.nanoTime();
            if (wait > 0) {
              Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
          }
        }
      } catch (IOException | InterruptedException e) {
        // either side went away: cut both, as a balancer does when its backend dies
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "tcp-proxy-pipe");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }
}
