package io.crowdbackup.engine.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.ThrottleTimeoutException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ThrottledTest {
  private static final long SECOND = 1_000_000_000L;
  private static final long RATE = 64 * 1024;
  private static final long BURST = 16 * 1024;

  private final ManualTimeSource clock = new ManualTimeSource();
  private final TokenBucket bucket = TokenBucket.create("test", RateLimit.of(RATE, BURST), clock, clock, true);
  private final long start = clock.monotonicNanos();
  /** (nanos since start, cumulative bytes) each time bytes moved. */
  private final List<long[]> moves = new ArrayList<>();
  private long moved;

  private void record(long bytes) {
    moved += bytes;
    moves.add(new long[] {clock.monotonicNanos() - start, moved});
  }

  /** Token-bucket conformance of everything that moved: never more than burst + rate * elapsed. */
  private void assertNeverAheadOfTheRate() {
    for (long[] m : moves) {
      long allowed = BURST + (m[0] / SECOND) * RATE + (m[0] % SECOND) * RATE / SECOND;
      assertTrue(m[1] <= allowed, m[1] + " bytes after " + m[0] + " ns, allowed " + allowed);
    }
  }

  private static byte[] data(int n) {
    byte[] b = new byte[n];
    new SplittableRandom(n).nextBytes(b);
    return b;
  }

  @Test
  void outputStreamSplitsLargeWritesAndKeepsTheRate() throws IOException {
    byte[] in = data(1 << 20);
    java.io.ByteArrayOutputStream sink = new java.io.ByteArrayOutputStream();
    OutputStream recording = new OutputStream() {
      @Override
      public void write(int b) {
        sink.write(b);
        record(1);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        assertTrue(len <= BURST, "a piece is at most the burst: " + len);
        sink.write(b, off, len);
        record(len);
      }
    };
    try (OutputStream out = Throttled.outputStream(recording, bucket, 60 * SECOND)) {
      out.write(in);
      out.write(7);
    }
    byte[] expected = new byte[in.length + 1];
    System.arraycopy(in, 0, expected, 0, in.length);
    expected[in.length] = 7;
    assertArrayEquals(expected, sink.toByteArray());
    assertNeverAheadOfTheRate();
    // (1 MiB + 1 - 16 KiB burst) at 64 KiB/s, to the nanosecond rounding of the waits.
    long expectedNanos = ((1L << 20) + 1 - BURST) * SECOND / RATE;
    long elapsed = clock.monotonicNanos() - start;
    assertTrue(Math.abs(elapsed - expectedNanos) < 1_000_000, elapsed + " vs " + expectedNanos);
  }

  @Test
  void inputStreamPaysForWhatArrivedBeforeReturningIt() throws IOException {
    byte[] in = data(300_000);
    InputStream source = new ByteArrayInputStream(in) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        assertTrue(len <= BURST, "never asks the source for more than one piece: " + len);
        return super.read(b, off, len);
      }
    };
    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
    try (InputStream throttled = Throttled.inputStream(source, bucket, 60 * SECOND)) {
      byte[] buf = new byte[100_000];
      int n;
      while ((n = throttled.read(buf, 0, buf.length)) > 0) {
        got.write(buf, 0, n);
        record(n); // the caller has these bytes now
      }
    }
    assertArrayEquals(in, got.toByteArray());
    assertNeverAheadOfTheRate();
  }

  @Test
  void channelsKeepTheRate() throws IOException {
    byte[] in = data(200_000);
    ReadableByteChannel r = Throttled.readableChannel(Channels.newChannel(new ByteArrayInputStream(in)), bucket,
        60 * SECOND);
    java.io.ByteArrayOutputStream sink = new java.io.ByteArrayOutputStream();
    WritableByteChannel w = Throttled.writableChannel(Channels.newChannel(sink), Throttle.unlimited(), 0);
    ByteBuffer buf = ByteBuffer.allocate(70_000);
    while (r.read(buf) > 0) {
      buf.flip();
      record(buf.remaining());
      w.write(buf);
      buf.clear();
    }
    assertArrayEquals(in, sink.toByteArray());
    assertNeverAheadOfTheRate();

    moves.clear();
    moved = 0;
    TokenBucket drained = TokenBucket.create("w", RateLimit.of(RATE, BURST), clock, clock, false);
    WritableByteChannel slow = Throttled.writableChannel(new WritableByteChannel() {
      @Override
      public int write(ByteBuffer src) {
        int n = src.remaining();
        src.position(src.limit());
        record(n);
        return n;
      }

      @Override
      public boolean isOpen() {
        return true;
      }

      @Override
      public void close() {}
    }, drained, 60 * SECOND);
    assertEquals(in.length, slow.write(ByteBuffer.wrap(in)));
    assertEquals(in.length, moved);
  }

  @Test
  void timeoutAndInterruptAreInterruptedIoExceptions() throws IOException {
    TokenBucket empty = TokenBucket.create("slow", RateLimit.of(1024, 4096), clock, clock, false);
    OutputStream out = Throttled.outputStream(OutputStream.nullOutputStream(), empty, SECOND);
    ThrottleTimeoutException e = assertThrows(ThrottleTimeoutException.class, () -> out.write(new byte[2048]));
    assertEquals(2048, e.requestedBytes());

    OutputStream patient = Throttled.outputStream(OutputStream.nullOutputStream(), empty, Throttle.NO_TIMEOUT);
    Thread.currentThread().interrupt();
    try {
      assertThrows(InterruptedIOException.class, () -> patient.write(new byte[100]));
      assertTrue(Thread.interrupted(), "the interrupt flag is set again");
    } finally {
      Thread.interrupted();
    }
  }
}
