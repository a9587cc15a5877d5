package io.crowdbackup.engine.envelope;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/** Channel loops that the JDK leaves to callers. */
final class IoUtil {
  private IoUtil() {}

  /** Reads until the buffer is full or the channel ends; returns bytes read. */
  @SuppressWarnings("ThreadPriorityCheck") // Thread.yield on purpose, see below
  static int readFully(ReadableByteChannel in, ByteBuffer dst) throws IOException {
    int total = 0;
    while (dst.hasRemaining()) {
      int n = in.read(dst);
      if (n < 0) {
        break;
      }
      if (n == 0) {
        // A non-blocking channel handed to a blocking API: yield rather than spin hot (onSpinWait is
        // absent from Android).
        Thread.yield();
      }
      total += n;
    }
    return total;
  }

  static void writeFully(WritableByteChannel out, ByteBuffer src) throws IOException {
    while (src.hasRemaining()) {
      out.write(src);
    }
  }
}
