package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreTestSupport.envelope;
import static io.crowdbackup.engine.store.StoreTestSupport.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.engine.store.StoreTestSupport.Env;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-shot put's reused read buffers: owned by one put at a time, handed back on every path. */
class PutBuffersTest {
  @TempDir
  Path dir;

  private StoreConfig config() {
    return StoreConfig.newBuilder(dir.resolve("store"))
        .clock(new StoreTestSupport.MutableClock(StoreTestSupport.NOW_EPOCH_SECOND)).build();
  }

  @Test
  void aBufferIsReusedOnlyAfterItIsGivenBackAndTheIdleOnesAreBounded() {
    PutBuffers pool = new PutBuffers(1);
    ByteBuffer a = pool.take();
    ByteBuffer b = pool.take();
    assertNotSame(a, b, "two puts at once got the same buffer");
    a.put((byte) 1).limit(10);
    pool.give(a);
    pool.give(b); // the pool is full: dropped
    assertEquals(1, pool.idleCount());
    ByteBuffer again = pool.take();
    assertSame(a, again);
    assertEquals(0, again.position());
    assertEquals(PutBuffers.BYTES, again.limit());
  }

  /** A channel that hands out {@code bytes} and remembers the buffer it was asked to fill. */
  private static class Recording implements ReadableByteChannel {
    final ReadableByteChannel in;
    byte[] seen;

    Recording(byte[] bytes) {
      this.in = CustodyStoreContractTest.in(bytes);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      seen = dst.array();
      return in.read(dst);
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

  @Test
  void aPutRunningWhileAnotherReadsGetsItsOwnBufferAndBothStoreTheirBytes() throws IOException {
    Env outer = envelope(1, 60_000);
    Env inner = envelope(2, 60_000);
    try (FileCustodyStore store = FileCustodyStore.open(config())) {
      Recording innerIn = new Recording(inner.bytes);
      Recording outerIn = new Recording(outer.bytes) {
        private boolean started;

        @Override
        public int read(ByteBuffer dst) throws IOException {
          if (!started) {
            started = true;
            store.put(inner.custody("p"), innerIn); // while the outer put holds its buffer
          }
          return super.read(dst);
        }
      };
      store.put(outer.custody("p"), outerIn);
      assertNotSame(outerIn.seen, innerIn.seen, "two puts at once read into the same buffer");
      assertArrayEquals(outer.bytes, readAll(store.open(outer.fingerprint)));
      assertArrayEquals(inner.bytes, readAll(store.open(inner.fingerprint)));
      assertEquals(2, store.putBuffers.idleCount());
    }
  }

  @Test
  void aRejectedPutGivesItsBufferBackAndTheNextPutStoresItsOwnBytes() throws IOException {
    Env bad = envelope(3, 60_000);
    byte[] tampered = bad.bytes.clone();
    tampered[tampered.length / 2] ^= 1;
    Env good = envelope(4, 60_000);
    try (FileCustodyStore store = FileCustodyStore.open(config())) {
      Recording badIn = new Recording(tampered);
      assertThrows(EnvelopeException.class, () -> store.put(bad.custody("p"), badIn));
      assertEquals(1, store.putBuffers.idleCount());
      Recording goodIn = new Recording(good.bytes);
      store.put(good.custody("p"), goodIn);
      assertSame(badIn.seen, goodIn.seen, "the failed put's buffer was not reused");
      assertEquals(1, store.putBuffers.idleCount());
      assertArrayEquals(good.bytes, readAll(store.open(good.fingerprint)));
    }
  }
}
