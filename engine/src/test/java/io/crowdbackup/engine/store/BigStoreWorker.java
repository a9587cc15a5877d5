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
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.SplittableRandom;

/** The child JVM of {@link BigStoreTest}. Arguments: working directory, plaintext length in bytes. */
public final class BigStoreWorker {
  private BigStoreWorker() {}

  public static void main(String[] args) throws Exception {
    Path dir = Paths.get(args[0]);
    long plaintextBytes = Long.parseLong(args[1]);
    Path envelopeFile = dir.resolve("big.envelope");
    long t0 = System.nanoTime();
    SealResult sealed;
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(1, 1);
        FileChannel out = FileChannel.open(envelopeFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      sealed = sealer.seal(TestEnvelopes.request(TestEnvelopes.destination(1, "home.example"), TestEnvelopes.source(2))
              .expiresAtEpochSecond(StoreTestSupport.NOW_EPOCH_SECOND + 3600).chunkSizeBytes(1 << 20)
              .compression(Compression.OFF).build(),
          new PseudoRandom(plaintextBytes), plaintextBytes, out);
    }
    long length = Files.size(envelopeFile);
    long t1 = System.nanoTime();
    System.out.printf("sealed %d bytes in %.1f s%n", length, (t1 - t0) / 1e9);

    StoreConfig config = StoreConfig.newBuilder(dir.resolve("store"))
        .clock(new StoreTestSupport.MutableClock(StoreTestSupport.NOW_EPOCH_SECOND)).build();
    UploadRequest request = UploadRequest.newBuilder().fingerprint(sealed.fingerprint()).declaredLengthBytes(length)
        .custodyFrom("big-peer").build();
    long interruptAt = length * 2 / 5;
    try (FileCustodyStore store = FileCustodyStore.open(config);
        FileChannel in = FileChannel.open(envelopeFile, StandardOpenOption.READ)) {
      try (Upload u = store.begin(request)) {
        copy(in, 0, interruptAt, u);
      }
      long resumedAt;
      try (Upload u = store.resume(sealed.fingerprint())) {
        resumedAt = u.offset();
        copy(in, resumedAt, length, u);
        u.commit();
      }
      long t2 = System.nanoTime();
      System.out.printf("stored (interrupted at %d, resumed at %d) in %.1f s%n", interruptAt, resumedAt,
          (t2 - t1) / 1e9);
      StoreUsage usage = store.usage();
      if (usage.custodyHeldBytes() != length) {
        throw new AssertionError("usage " + usage + " after storing " + length + " bytes");
      }
      byte[] expected = sha256(in);
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

  private static void copy(FileChannel in, long from, long to, Upload u) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(1 << 16);
    long at = from;
    while (at < to) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), to - at));
      int n = in.read(buf, at);
      buf.flip();
      u.write(buf);
      at += n;
    }
  }

  private static byte[] sha256(FileChannel in) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    ByteBuffer buf = ByteBuffer.allocate(1 << 16);
    long at = 0;
    int n;
    while ((n = in.read(buf, at)) > 0) {
      buf.flip();
      md.update(buf);
      buf.clear();
      at += n;
    }
    return md.digest();
  }

  /** Pseudo-random plaintext without holding it: one random 1 MiB block, each copy stamped with its index. */
  static final class PseudoRandom implements ReadableByteChannel {
    private static final int BLOCK = 1 << 20;
    private final byte[] block = new byte[BLOCK];
    private final byte[] current = new byte[BLOCK];
    private long remaining;
    private long produced;

    PseudoRandom(long length) {
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
