package io.crowdbackup.engine.policy;

import io.crowdbackup.api.policy.ThrottleTimeoutException;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

/**
 * Streams and channels whose bytes are paid for by a {@link Throttle} before the caller sees them.
 *
 * <p>Writes are split into pieces of at most {@link Throttle#maxGrantBytes()}; each piece is paid for,
 * then written. Reads ask the source for at most one piece, then pay for the bytes that actually
 * arrived before returning them: the caller never receives unpaid bytes, and the source is not asked
 * for more while the reader waits, which is what pushes back on a sender (TCP window).
 *
 * <p>Each read or write piece may wait at most {@code timeoutNanos}; if the throttle cannot grant in
 * time it throws {@link ThrottleTimeoutException} (an {@link InterruptedIOException}), and the stream's
 * position is then undefined. An interrupt becomes an {@link InterruptedIOException} with the thread's
 * interrupt flag set again. Closing closes the wrapped stream or channel.
 *
 * <p>The channel wrappers are for blocking channels: a partial write is paid for in full (conservative).
 */
public final class Throttled {
  private Throttled() {}

  public static InputStream inputStream(InputStream in, Throttle throttle, long timeoutNanos) {
    return new ThrottledInputStream(in, throttle, timeoutNanos);
  }

  public static OutputStream outputStream(OutputStream out, Throttle throttle, long timeoutNanos) {
    return new ThrottledOutputStream(out, throttle, timeoutNanos);
  }

  public static ReadableByteChannel readableChannel(ReadableByteChannel in, Throttle throttle, long timeoutNanos) {
    return new ThrottledReadableChannel(in, throttle, timeoutNanos);
  }

  public static WritableByteChannel writableChannel(WritableByteChannel out, Throttle throttle, long timeoutNanos) {
    return new ThrottledWritableChannel(out, throttle, timeoutNanos);
  }

  static void pay(Throttle throttle, long bytes, long timeoutNanos) throws IOException {
    if (bytes == 0) {
      return;
    }
    try {
      throttle.acquire(bytes, timeoutNanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      InterruptedIOException io = new InterruptedIOException("interrupted while waiting for bandwidth");
      io.initCause(e);
      throw io;
    }
  }

  static int pieceBytes(Throttle throttle, int wantedBytes) {
    return (int) Math.min(wantedBytes, Math.min(throttle.maxGrantBytes(), Integer.MAX_VALUE));
  }

  // Not Objects.checkFromIndexSize: Android has it only from API level 30.
  private static void checkRange(byte[] b, int off, int len) {
    if (off < 0 || len < 0 || len > b.length - off) {
      throw new IndexOutOfBoundsException("range [" + off + ", " + off + " + " + len + ") out of bounds for length "
          + b.length);
    }
  }

  /**
   * Calls {@code limit(int)} through {@link Buffer}: compiled against JDK 9+, {@code ByteBuffer.limit(int)}
   * links to a covariant override that Android API level 26 does not have.
   */
  private static Buffer asBuffer(ByteBuffer buffer) {
    return buffer;
  }

  private static void checkTimeout(long timeoutNanos) {
    if (timeoutNanos < 0) {
      throw new IllegalArgumentException("timeoutNanos must not be negative but was " + timeoutNanos);
    }
  }

  private static final class ThrottledInputStream extends FilterInputStream {
    private final Throttle throttle;
    private final long timeoutNanos;

    ThrottledInputStream(InputStream in, Throttle throttle, long timeoutNanos) {
      super(Objects.requireNonNull(in, "in"));
      this.throttle = Objects.requireNonNull(throttle, "throttle");
      checkTimeout(timeoutNanos);
      this.timeoutNanos = timeoutNanos;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        pay(throttle, 1, timeoutNanos);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      checkRange(b, off, len);
      if (len == 0) {
        return 0;
      }
      int n = in.read(b, off, pieceBytes(throttle, len));
      if (n > 0) {
        pay(throttle, n, timeoutNanos);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      // Skipped bytes cross the link too.
      long skipped = in.skip(Math.min(n, throttle.maxGrantBytes()));
      if (skipped > 0) {
        pay(throttle, skipped, timeoutNanos);
      }
      return skipped;
    }

    @Override
    public boolean markSupported() {
      return false;
    }
  }

  private static final class ThrottledOutputStream extends FilterOutputStream {
    private final Throttle throttle;
    private final long timeoutNanos;

    ThrottledOutputStream(OutputStream out, Throttle throttle, long timeoutNanos) {
      super(Objects.requireNonNull(out, "out"));
      this.throttle = Objects.requireNonNull(throttle, "throttle");
      checkTimeout(timeoutNanos);
      this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void write(int b) throws IOException {
      pay(throttle, 1, timeoutNanos);
      out.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      checkRange(b, off, len);
      while (len > 0) {
        int piece = pieceBytes(throttle, len);
        pay(throttle, piece, timeoutNanos);
        out.write(b, off, piece);
        off += piece;
        len -= piece;
      }
    }
  }

  private static final class ThrottledReadableChannel implements ReadableByteChannel {
    private final ReadableByteChannel in;
    private final Throttle throttle;
    private final long timeoutNanos;

    ThrottledReadableChannel(ReadableByteChannel in, Throttle throttle, long timeoutNanos) {
      this.in = Objects.requireNonNull(in, "in");
      this.throttle = Objects.requireNonNull(throttle, "throttle");
      checkTimeout(timeoutNanos);
      this.timeoutNanos = timeoutNanos;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      int wanted = dst.remaining();
      if (wanted == 0) {
        return 0;
      }
      int piece = pieceBytes(throttle, wanted);
      int savedLimit = dst.limit();
      asBuffer(dst).limit(dst.position() + piece);
      int n;
      try {
        n = in.read(dst);
      } finally {
        asBuffer(dst).limit(savedLimit);
      }
      if (n > 0) {
        pay(throttle, n, timeoutNanos);
      }
      return n;
    }

    @Override
    public boolean isOpen() {
      return in.isOpen();
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  private static final class ThrottledWritableChannel implements WritableByteChannel {
    private final WritableByteChannel out;
    private final Throttle throttle;
    private final long timeoutNanos;

    ThrottledWritableChannel(WritableByteChannel out, Throttle throttle, long timeoutNanos) {
      this.out = Objects.requireNonNull(out, "out");
      this.throttle = Objects.requireNonNull(throttle, "throttle");
      checkTimeout(timeoutNanos);
      this.timeoutNanos = timeoutNanos;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int total = 0;
      while (src.hasRemaining()) {
        int piece = pieceBytes(throttle, src.remaining());
        pay(throttle, piece, timeoutNanos);
        int savedLimit = src.limit();
        asBuffer(src).limit(src.position() + piece);
        int n;
        try {
          n = out.write(src);
        } finally {
          asBuffer(src).limit(savedLimit);
        }
        total += n;
        if (n < piece) {
          break; // a non-blocking channel took less; the unwritten part stays paid for
        }
      }
      return total;
    }

    @Override
    public boolean isOpen() {
      return out.isOpen();
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }
}
