package io.crowdbackup.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/** At most {@code limit} bytes of a channel, as a stream; the channel is not closed. */
final class RangeInputStream extends InputStream {
  private final ReadableByteChannel in;
  private long left;

  RangeInputStream(ReadableByteChannel in, long limit) {
    this.in = in;
    this.left = limit;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (left <= 0) {
      return -1;
    }
    if (len == 0) {
      return 0;
    }
    int n = in.read(ByteBuffer.wrap(b, off, (int) Math.min(len, left)));
    if (n > 0) {
      left -= n;
    }
    return n;
  }

  /** The next {@code n} bytes of {@code ch}, all of them (an envelope's, read to send it from memory). */
  static byte[] readAll(ReadableByteChannel ch, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw new java.io.EOFException("the envelope ended after " + b.position() + " of " + n + " bytes");
      }
    }
    return b.array();
  }

  /** Reads and drops {@code n} bytes from {@code ch} (to reach a resume offset on a sequential channel). */
  static void skip(ReadableByteChannel ch, long n) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    while (n > 0) {
      buf.clear().limit((int) Math.min(buf.capacity(), n));
      int r = ch.read(buf);
      if (r < 0) {
        throw new IOException("the envelope ended " + n + " bytes before the resume offset");
      }
      n -= r;
    }
  }
}
