package io.crowdbackup.engine.store;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.envelope.StreamingSealer;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The child JVM of {@link BigStoreTest}. Arguments: working directory, plaintext length in bytes.
 *
 * <p>The envelope never exists outside the store: the deterministic sealer runs three times over the same
 * plaintext — once to learn the fingerprint, length and SHA-256, once streaming into an upload that is cut
 * off at 40 %, once streaming the rest into the resumed upload — so the test needs disk for one copy only.
 */
public final class BigStoreWorker {
  private BigStoreWorker() {}

  public static void main(String[] args) throws Exception {
    Path dir = Paths.get(args[0]);
    long plaintextBytes = Long.parseLong(args[1]);
    long t0 = System.nanoTime();
    TestEnvelopes.DigestingSink first = new TestEnvelopes.DigestingSink();
    SealResult sealed = seal(plaintextBytes, first);
    long length = first.length;
    byte[] expected = first.sha256.digest();
    long t1 = System.nanoTime();
    System.out.printf("sealed %d bytes (to learn the fingerprint) in %.1f s%n", length, (t1 - t0) / 1e9);

    StoreConfig config = StoreConfig.newBuilder(dir.resolve("store"))
        .clock(new StoreTestSupport.MutableClock(StoreTestSupport.NOW_EPOCH_SECOND)).build();
    UploadRequest request = UploadRequest.newBuilder().fingerprint(sealed.fingerprint())
        .declaredLengthBytes(length).custodyFrom("big-peer").build();
    long interruptAt = length * 2 / 5;
    try (FileCustodyStore store = FileCustodyStore.open(config)) {
      try (Upload u = store.begin(request)) {
        sealInto(plaintextBytes, u, 0, interruptAt);
      } // closing without commit: the connection dropped
      long resumedAt;
      try (Upload u = store.resume(sealed.fingerprint())) {
        resumedAt = u.offset();
        if (resumedAt > interruptAt || resumedAt < interruptAt - (8L << 20) - (2L << 20)) {
          throw new AssertionError("resumed at " + resumedAt + " after an interruption at " + interruptAt);
        }
        sealInto(plaintextBytes, u, resumedAt, Long.MAX_VALUE);
        u.commit();
      }
      long t2 = System.nanoTime();
      System.out.printf("stored (interrupted at %d, resumed at %d) in %.1f s%n", interruptAt, resumedAt,
          (t2 - t1) / 1e9);
      StoreUsage usage = store.usage();
      if (usage.custodyHeldBytes() != length) {
        throw new AssertionError("usage " + usage + " after storing " + length + " bytes");
      }
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      long served = 0;
      try (ReadableByteChannel r = store.open(sealed.fingerprint())) {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        while (r.read(buf) >= 0) {
          buf.flip();
          served += buf.remaining();
          md.update(buf);
          buf.clear();
        }
      }
      long t3 = System.nanoTime();
      if (served != length || !Arrays.equals(expected, md.digest())) {
        throw new AssertionError("read back " + served + " bytes that differ from the " + length + " stored");
      }
      Runtime rt = Runtime.getRuntime();
      System.out.printf("read back and verified in %.1f s; max heap %d MiB%n", (t3 - t2) / 1e9,
          rt.maxMemory() >> 20);
    }
    System.out.println("BIGSTORE OK");
  }

  private static SealResult seal(long plaintextBytes, java.nio.channels.WritableByteChannel sink) throws IOException {
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(1, 1)) {
      return sealer.seal(TestEnvelopes.request(TestEnvelopes.destination(1, "home.example"), TestEnvelopes.source(2))
              .expiresAtEpochSecond(StoreTestSupport.NOW_EPOCH_SECOND + 3600).chunkSizeBytes(1 << 20)
              .compression(Compression.OFF).build(),
          new PseudoRandom(plaintextBytes), plaintextBytes, sink);
    }
  }

  /** Seals again and writes envelope bytes [from, to) into the upload; stops the sealer at {@code to}. */
  private static void sealInto(long plaintextBytes, Upload u, long from, long to) throws IOException {
    try {
      seal(plaintextBytes, new Sink() {
        private long at;

        @Override
        void accept(ByteBuffer b) throws IOException {
          long end = at + b.remaining();
          if (end > from) {
            ByteBuffer part = b.duplicate();
            part.position(part.position() + (int) Math.max(0, from - at));
            part.limit(part.limit() - (int) Math.max(0, end - to));
            u.write(part);
          }
          at = end;
          if (at >= to) {
            throw new Stop();
          }
        }
      });
    } catch (Stop expected) {
      // The cut-off connection.
    }
  }

  private static final class Stop extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Stop() {
      super(null, null, false, false);
    }
  }

  /** An envelope output that hands each buffer to {@link #accept}. */
  private abstract static class Sink implements java.nio.channels.WritableByteChannel {
    abstract void accept(ByteBuffer b) throws IOException;

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = src.remaining();
      accept(src.duplicate());
      src.position(src.limit());
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  /** Pseudo-random plaintext without holding it: one random 1 MiB block, each copy stamped with its index. */
  public static final class PseudoRandom implements ReadableByteChannel {
    private static final int BLOCK = 1 << 20;
    private final byte[] block = new byte[BLOCK];
    private final byte[] current = new byte[BLOCK];
    private long remaining;
    private long produced;

    public PseudoRandom(long length) {
      new SplittableRandom(7).nextBytes(block);
      this.remaining = length;
    }

    @Override
    public int read(ByteBuffer dst) {
      if (remaining == 0) {
        return -1;
      }
      int offset = (int) (produced % BLOCK);
      if (offset == 0) {
        System.arraycopy(block, 0, current, 0, BLOCK);
        ByteBuffer.wrap(current).putLong(0, produced / BLOCK);
      }
      int n = (int) Math.min(Math.min(dst.remaining(), remaining), BLOCK - offset);
      dst.put(current, offset, n);
      produced += n;
      remaining -= n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
