package io.crowdbackup.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongPredicate;

/**
 * A demo phone's radio: a loopback TCP relay in front of its holder service, which peers reach through it.
 * It passes every byte unchanged, except once: the first {@code PATCH} (or creation carrying the envelope)
 * its {@code dropHere} test takes (by
 * the body's length) gets only half its body through, and then the radio drops — the holder sees its
 * end of the connection close (and keeps what arrived, durably), the source sees its connection reset. So
 * the source client's resume is the real one: it asks the holder's durable offset and continues from there.
 *
 * <p>The drop is deterministic, so that every count of the demo stays the same on every run: it cuts at a
 * fixed body byte, and it resets the source's connection only after the holder has answered (or closed)
 * its half, so the source's {@code HEAD} always finds the upload checkpointed. It understands just enough
 * HTTP/1.1 for that (a request head, {@code Content-Length}); anything else it relays untouched.
 */
final class DemoRadio implements Closeable {
  private static final int MAX_HEAD_BYTES = 64 * 1024;
  private static final int IO_TIMEOUT_MILLIS = 30_000;

  /** One drop of one upload, as it happened. */
  static final class Drop {
    final long bodyBytes;
    final long cutAtBytes;

    Drop(long bodyBytes, long cutAtBytes) {
      this.bodyBytes = bodyBytes;
      this.cutAtBytes = cutAtBytes;
    }
  }

  private final int targetPort;
  private final LongPredicate dropHere;
  private final ServerSocket listener;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile Drop drop;

  /**
   * @param dropHere asked with the body length of each {@code PATCH}: true (once, atomically) for the one
   *     to cut
   */
  DemoRadio(String name, int targetPort, LongPredicate dropHere) throws IOException {
    this.targetPort = targetPort;
    this.dropHere = dropHere;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::acceptLoop, name + "-radio");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Where peers reach the phone. */
  URI uri() {
    return URI.create("http://127.0.0.1:" + listener.getLocalPort());
  }

  /** The drop this radio had, or {@code null}. */
  Drop drop() {
    return drop;
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      Socket peer;
      try {
        peer = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      try {
        Socket holder = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        peer.setSoTimeout(IO_TIMEOUT_MILLIS);
        holder.setSoTimeout(IO_TIMEOUT_MILLIS);
        sockets.add(peer);
        sockets.add(holder);
        new Connection(peer, holder).start();
      } catch (IOException e) {
        closeQuietly(peer);
      }
    }
  }

  /** One relayed connection: a thread each way. */
  private final class Connection {
    final Socket peer;
    final Socket holder;
    final Thread down;
    volatile boolean dropping;

    Connection(Socket peer, Socket holder) {
      this.peer = peer;
      this.holder = holder;
      this.down = new Thread(this::down, "radio-down");
      down.setDaemon(true);
    }

    void start() {
      Thread up = new Thread(this::up, "radio-up");
      up.setDaemon(true);
      up.start();
      down.start();
    }

    /** Peer to holder, request by request. */
    private void up() {
      try {
        InputStream in = new BufferedInputStream(peer.getInputStream());
        OutputStream out = holder.getOutputStream();
        while (true) {
          byte[] head = readHead(in);
          if (head == null) {
            holder.shutdownOutput(); // the peer closed: pass it on
            return;
          }
          out.write(head);
          String text = new String(head, StandardCharsets.ISO_8859_1);
          String lower = text.toLowerCase(Locale.ROOT);
          if (head.length >= MAX_HEAD_BYTES || lower.contains("\ntransfer-encoding:")) {
            in.transferTo(out); // not a request this radio understands: relay the rest untouched
            holder.shutdownOutput();
            return;
          }
          long length = contentLength(lower);
          long cutAt = -1;
          boolean upload = text.startsWith("PATCH ") || text.startsWith("POST ")
              && lower.contains("\ncontent-type: application/offset+octet-stream"); // creation-with-upload
          if (upload && dropHere.test(length)) {
            cutAt = length / 2;
          }
          copy(in, out, cutAt >= 0 ? cutAt : length);
          out.flush();
          if (cutAt >= 0) {
            dropNow(length, cutAt);
            return;
          }
        }
      } catch (IOException e) {
        close();
      }
    }

    /**
     * The holder gets an orderly end after exactly {@code cutAt} body bytes; once it has answered into the
     * void (and so has checkpointed what arrived), the peer's connection is reset.
     */
    private void dropNow(long length, long cutAt) throws IOException {
      dropping = true;
      holder.shutdownOutput();
      try {
        down.join(IO_TIMEOUT_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      drop = new Drop(length, cutAt);
      peer.setSoLinger(true, 0); // a reset, as a radio that vanished leaves it
      close();
    }

    /** Holder to peer; discarded once the radio is dropping. */
    private void down() {
      byte[] buf = new byte[16 * 1024];
      try {
        InputStream in = holder.getInputStream();
        OutputStream out = peer.getOutputStream();
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          if (!dropping) {
            out.write(buf, 0, n);
            out.flush();
          }
        }
        if (!dropping) {
          peer.shutdownOutput();
        }
      } catch (IOException e) {
        if (!dropping) {
          close();
        }
      }
    }

    private void close() {
      closeQuietly(peer);
      closeQuietly(holder);
      sockets.remove(peer);
      sockets.remove(holder);
    }
  }

  /** A request head up to and with its blank line, or {@code null} at a clean end before one. */
  private static byte[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream(512);
    int last4 = 0;
    while (head.size() < MAX_HEAD_BYTES) {
      int b = in.read();
      if (b < 0) {
        if (head.size() == 0) {
          return null;
        }
        throw new IOException("the connection ended inside a request head");
      }
      head.write(b);
      last4 = last4 << 8 | b;
      if (last4 == 0x0d0a0d0a) {
        break;
      }
    }
    return head.toByteArray();
  }

  private static long contentLength(String lowerHead) throws IOException {
    int i = lowerHead.indexOf("\ncontent-length:");
    if (i < 0) {
      return 0;
    }
    int end = lowerHead.indexOf('\r', i + 1);
    try {
      return Long.parseLong(lowerHead.substring(i + "\ncontent-length:".length(), end).trim());
    } catch (NumberFormatException | IndexOutOfBoundsException e) {
      throw new IOException("a request with a bad Content-Length: " + e.getMessage(), e);
    }
  }

  private static void copy(InputStream in, OutputStream out, long n) throws IOException {
    byte[] buf = new byte[16 * 1024];
    while (n > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, n));
      if (r < 0) {
        throw new IOException("the peer closed " + n + " bytes before the end of a request body");
      }
      out.write(buf, 0, r);
      n -= r;
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing is best effort
    }
  }

  /** Stops listening and closes every relayed connection. */
  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket s : sockets) {
      closeQuietly(s);
    }
    sockets.clear();
  }
}
