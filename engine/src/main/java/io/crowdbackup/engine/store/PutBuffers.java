package io.crowdbackup.engine.store;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * Read buffers for the store's one-shot puts below {@link UploadImpl#OVERLAP_MIN_BYTES}, reused across
 * puts: a fresh 64 KiB buffer per put was 87.6 % of the bytes a 64 KiB put allocated
 * (bench/RESULTS-store.md, section 1e). A buffer belongs to one put from {@link #take} to {@link #give}, so
 * concurrent puts never share one; at most {@code maxIdle} are kept, so idle memory stays bounded at
 * {@code maxIdle} x {@link #BYTES} however many threads put at once (more concurrent puts allocate
 * buffers that are dropped when given back to a full pool). Like the JDK's own temporary buffer cache, this
 * relies on a caller's {@code ReadableByteChannel} not keeping the buffer it is handed past its read.
 */
final class PutBuffers {
  /** Capacity of every buffer: the largest put read whole. */
  static final int BYTES = UploadImpl.WHOLE_PUT_BUFFER_MAX_BYTES;

  private final ArrayBlockingQueue<ByteBuffer> idle;

  PutBuffers(int maxIdle) {
    if (maxIdle < 1) {
      throw new IllegalArgumentException("maxIdle " + maxIdle + ", expected at least 1");
    }
    this.idle = new ArrayBlockingQueue<>(maxIdle);
  }

  /** A cleared heap buffer of {@link #BYTES}, owned by the caller until it {@link #give}s it back. */
  ByteBuffer take() {
    ByteBuffer b = idle.poll();
    return b != null ? b : ByteBuffer.allocate(BYTES);
  }

  /** Hands {@code b} back; the caller must hold no view of it any more. Kept only if the pool has room. */
  void give(ByteBuffer b) {
    ((Buffer) b).clear();
    idle.offer(b);
  }

  /** Buffers kept for reuse (tests). */
  int idleCount() {
    return idle.size();
  }
}
