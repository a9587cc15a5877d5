package io.crowdbackup.server;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A hand-driven HTTP/1.1 connection to 127.0.0.1, for faults no well-behaved client produces: a request
 * head sent byte by byte, a body that stops half way or runs past its Content-Length, a connection cut
 * at a chosen moment.
 */
final class RawHttp implements Closeable {
  final Socket socket;
  private final OutputStream out;
  private final InputStream in;

  RawHttp(URI server) throws IOException {
    this(server, null);
  }

  /** A connection from {@code local} (another loopback address is another peer to the holder), or any. */
  RawHttp(URI server, java.net.InetAddress local) throws IOException {
    socket = local == null ? new Socket("127.0.0.1", server.getPort())
        : new Socket(java.net.InetAddress.getByName("127.0.0.1"), server.getPort(), local, 0);
    socket.setSoTimeout(30_000);
    socket.setTcpNoDelay(true);
    out = socket.getOutputStream();
    in = socket.getInputStream();
  }

  /** A request head: the request line, {@code Host}, the given headers (name, value, ...), the blank line. */
  static String head(String method, String path, String... headers) {
    StringBuilder b = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (int i = 0; i < headers.length; i += 2) {
      b.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
    }
    return b.append("\r\n").toString();
  }

  RawHttp send(String text) throws IOException {
    return send(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  RawHttp send(byte[] bytes) throws IOException {
    return send(bytes, 0, bytes.length);
  }

  RawHttp send(byte[] bytes, int from, int length) throws IOException {
    out.write(bytes, from, length);
    out.flush();
    return this;
  }

  /** One answer: status, headers (lower-case names), the body by its Content-Length. */
  static final class Answer {
    final int status;
    final Map<String, String> headers;
    final byte[] body;

    Answer(int status, Map<String, String> headers, byte[] body) {
      this.status = status;
      this.headers = headers;
      this.body = body;
    }

    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    @Override
    public String toString() {
      return status + " " + headers + " " + new String(body, StandardCharsets.UTF_8);
    }
  }

  /** Reads one answer; a HEAD's answer has no body whatever its Content-Length. */
  Answer read(boolean head) throws IOException {
    String status = line();
    if (status == null) {
      throw new IOException("connection closed before an answer");
    }
    String[] parts = status.split(" ", 3);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String l = line(); l != null && !l.isEmpty(); l = line()) {
      int colon = l.indexOf(':');
      headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
    }
    int length = head || !headers.containsKey("content-length") ? 0 : Integer.parseInt(headers.get("content-length"));
    byte[] body = in.readNBytes(length);
    return new Answer(Integer.parseInt(parts[1]), headers, body);
  }

  Answer read() throws IOException {
    return read(false);
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c = in.read(); c >= 0; c = in.read()) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  /**
   * Waits up to {@code timeoutMillis} for the server to close the connection, discarding anything it sends.
   * Returns the milliseconds it took, or -1 if the connection was still open at the end.
   */
  long awaitClosed(long timeoutMillis) throws IOException {
    long start = System.nanoTime();
    long deadline = start + timeoutMillis * 1_000_000L;
    byte[] sink = new byte[8192];
    while (System.nanoTime() < deadline) {
      socket.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000L));
      try {
        if (in.read(sink) < 0) {
          return (System.nanoTime() - start) / 1_000_000L;
        }
      } catch (SocketTimeoutException e) {
        return -1;
      } catch (SocketException e) {
        return (System.nanoTime() - start) / 1_000_000L; // reset by the server: closed too
      }
    }
    return -1;
  }

  /** Closes abruptly (RST): the peer walks away mid-request. */
  void abort() throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
