package io.crowdbackup.server;

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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP proxy that forwards to {@code target} and, once, cuts every connection after the client
 * has sent {@code cutAfterBytes} in total: a peer walking out of Wi-Fi range mid-upload.
 */
final class CuttingProxy implements Closeable {
  private final ServerSocket server;
  private final URI target;
  private final long cutAfterBytes;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicBoolean cut = new AtomicBoolean();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  CuttingProxy(URI target, long cutAfterBytes) throws IOException {
    this.target = target;
    this.cutAfterBytes = cutAfterBytes;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "cutting-proxy");
    t.setDaemon(true);
    t.start();
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.getLocalPort());
  }

  boolean hasCut() {
    return cut.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(target.getHost(), target.getPort());
        sockets.add(client);
        sockets.add(upstream);
        pipe(client, upstream, true);
        pipe(upstream, client, false);
      } catch (IOException e) {
        return;
      }
    }
  }

  private void pipe(Socket from, Socket to, boolean counts) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[8192];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (counts && !cut.get() && sent.addAndGet(n) > cutAfterBytes && cut.compareAndSet(false, true)) {
            cutAll();
            return;
          }
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // the other side went away
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "cutting-proxy-pipe");
    t.setDaemon(true);
    t.start();
  }

  private void cutAll() {
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    cutAll();
  }
}
