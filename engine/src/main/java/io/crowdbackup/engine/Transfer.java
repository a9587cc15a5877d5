package io.crowdbackup.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Progress and cancellation of one transfer: a seal, a custody upload, a forward, an inbox delivery. Attach
 * it to the channel the bytes flow through ({@link #reading}, {@link #writing}); its listener hears the bytes
 * done and the total, and {@link #cancel()}, from any thread, makes the next read or write fail with
 * {@link TransferCancelledException}. The operation then ends as on any other I/O failure, and none leaves
 * anything half-written: a seal into the device's store ({@code Custodian.sealOwn}) leaves no file; a seal
 * into the caller's own channel stops, and the caller deletes that output; an inbox delivery removes its
 * temporary file and publishes nothing; a custody upload keeps only its durable part, apart from the held
 * blobs, for a resume or an abort; a forward that ends unfinished returns the blob to held.
 *
 * <pre>{@code
 * Transfer t = Transfer.create((done, total) -> bar.setProgress(done, total));
 * cancelButton.setOnClickListener(v -> t.cancel());
 * upload.transferFrom(t.reading(fromPeer, offer.declaredLengthBytes()));
 * }</pre>
 *
 * <p>The one forwarding-channel decorator of the library: every counting or progress-reporting channel is
 * this one. Thread-safe for one reader or writer and any number of cancellers.
 */
public final class Transfer {
  /** Told of progress after each read or write that moved bytes. Called on the transferring thread. */
  public interface Listener {
    /** A listener that ignores progress. */
    Listener NONE = (done, total) -> { };

    /**
     * Called as bytes move.
     *
     * @param bytesDone bytes moved so far through every channel of this transfer
     * @param bytesTotal the total the caller declared (-1 if unknown)
     */
    void onProgress(long bytesDone, long bytesTotal);
  }

  private final Listener listener;
  private volatile boolean cancelled;
  private volatile long bytesDone;

  private Transfer(Listener listener) {
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /** A transfer reporting to {@code listener}. */
  public static Transfer create(Listener listener) {
    return new Transfer(listener);
  }

  /** A transfer that only counts and can be cancelled. */
  public static Transfer create() {
    return new Transfer(Listener.NONE);
  }

  /** {@code in}, counted against {@code bytesTotal} (-1 if unknown) and cancellable. Closing it closes {@code in}. */
  public ReadableByteChannel reading(ReadableByteChannel in, long bytesTotal) {
    return new Forwarding(Objects.requireNonNull(in, "in"), null, bytesTotal);
  }

  /** {@code out}, counted against {@code bytesTotal} (-1 if unknown) and cancellable. Closing it closes {@code out}. */
  public WritableByteChannel writing(WritableByteChannel out, long bytesTotal) {
    return new Forwarding(null, Objects.requireNonNull(out, "out"), bytesTotal);
  }

  /** Makes the next read or write of this transfer fail; safe from any thread, safe twice. */
  public void cancel() {
    cancelled = true;
  }

  public boolean isCancelled() {
    return cancelled;
  }

  /** Bytes moved so far, over every channel of this transfer. */
  public long bytesDone() {
    return bytesDone;
  }

  private void moved(int n, long bytesTotal) {
    if (n > 0) {
      long done = bytesDone + n; // one transferring thread writes; cancellers only read
      bytesDone = done;
      listener.onProgress(done, bytesTotal);
    }
  }

  private void checkNotCancelled() throws TransferCancelledException {
    if (cancelled) {
      throw new TransferCancelledException("cancelled after " + bytesDone + " bytes");
    }
  }

  /** The decorator: forwards to one side, counts, and checks for cancellation before each call. */
  private final class Forwarding implements ByteChannel {
    private final @Nullable ReadableByteChannel in; // exactly one of in and out is set
    private final @Nullable WritableByteChannel out;
    private final long bytesTotal;

    Forwarding(@Nullable ReadableByteChannel in, @Nullable WritableByteChannel out, long bytesTotal) {
      this.in = in;
      this.out = out;
      this.bytesTotal = bytesTotal;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      if (in == null) {
        throw new UnsupportedOperationException("a writing channel");
      }
      checkNotCancelled();
      int n = in.read(dst);
      moved(n, bytesTotal);
      return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      if (out == null) {
        throw new UnsupportedOperationException("a reading channel");
      }
      checkNotCancelled();
      int n = out.write(src);
      moved(n, bytesTotal);
      return n;
    }

    @Override
    public boolean isOpen() {
      return in != null ? in.isOpen() : out != null && out.isOpen();
    }

    @Override
    public void close() throws IOException {
      if (in != null) {
        in.close();
      } else if (out != null) {
        out.close();
      }
    }
  }
}
