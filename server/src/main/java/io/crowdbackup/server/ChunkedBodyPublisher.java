package io.crowdbackup.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A PATCH body read from a stream in large pieces. The JDK's {@code BodyPublishers.ofInputStream} hands the
 * client 16 KiB arrays, so a 64 MiB upload crosses the client's flow machinery (and its selector and worker
 * threads) 4096 times; pieces of {@link #PIECE_BYTES} cut that 16-fold. Each piece is a fresh array: the
 * client may still hold the previous one while it writes it.
 */
final class ChunkedBodyPublisher implements Flow.Publisher<ByteBuffer> {
  static final int PIECE_BYTES = 256 * 1024;

  private final Supplier<InputStream> body;
  private final long lengthBytes;

  ChunkedBodyPublisher(Supplier<InputStream> body, long lengthBytes) {
    this.body = body;
    this.lengthBytes = lengthBytes;
  }

  @Override
  public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
    subscriber.onSubscribe(new Subscription(subscriber));
  }

  private final class Subscription implements Flow.Subscription {
    private final Flow.Subscriber<? super ByteBuffer> subscriber;
    private final AtomicLong demand = new AtomicLong();
    /** Requests not yet worked off; only the caller that raised it from 0 delivers (no reentrant onNext). */
    private final AtomicInteger work = new AtomicInteger();
    private InputStream in;
    private long left = lengthBytes;
    private volatile boolean done;

    Subscription(Flow.Subscriber<? super ByteBuffer> subscriber) {
      this.subscriber = subscriber;
    }

    @Override
    public void request(long n) {
      if (done) {
        return;
      }
      if (n <= 0) {
        finish(new IllegalArgumentException("request(" + n + "): demand must be positive"));
        return;
      }
      demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
      if (work.getAndIncrement() != 0) {
        return;
      }
      do {
        while (!done && demand.get() > 0) {
          demand.decrementAndGet();
          deliverOne();
        }
      } while (work.decrementAndGet() != 0);
    }

    private void deliverOne() {
      try {
        if (in == null) {
          in = body.get();
        }
        if (left == 0) {
          finish(null);
          return;
        }
        // Straight into the piece: readNBytes(int) would read 8 KiB at a time into a list of arrays, then
        // copy them into the piece (two copies and 33 arrays per piece; the client's worker spent more time
        // there than in writing to the socket).
        byte[] piece = new byte[(int) Math.min(PIECE_BYTES, left)];
        int n = in.readNBytes(piece, 0, piece.length);
        if (n < piece.length) {
          finish(new IOException("the body ended " + (left - n) + " bytes before its declared " + lengthBytes));
          return;
        }
        left -= n;
        subscriber.onNext(ByteBuffer.wrap(piece));
        if (left == 0) {
          finish(null);
        }
      } catch (IOException | UncheckedIOException e) {
        finish(e);
      }
    }

    private void finish(Throwable failure) {
      if (done) {
        return;
      }
      done = true;
      try {
        if (in != null) {
          in.close();
        }
      } catch (IOException e) {
        // the body was read, or its failure is what is reported
      }
      if (failure == null) {
        subscriber.onComplete();
      } else {
        subscriber.onError(failure);
      }
    }

    @Override
    public void cancel() {
      done = true;
    }
  }
}
