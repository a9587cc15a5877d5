package io.crowdbackup.s3;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.engine.envelope.StreamingSealer;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import io.crowdbackup.engine.store.BigStoreWorker.PseudoRandom;
import java.io.IOException;
import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.URI;
import java.nio.channels.Pipe;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicReference;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * One big delivery into an S3 sink, in its own JVM (the bounded-memory test runs it at {@code -Xmx128m}):
 * {@code BigDeliveryProcess <endpoint> <key prefix> <plaintext bytes>}. Seals a deterministic envelope
 * once to learn its fingerprint (nothing written), then again through a pipe straight into
 * {@link S3DeliverySink#deliver}, so the envelope is never on disk or in memory whole. Prints
 * {@code FINGERPRINT}, {@code RECEIPT}, {@code PEAK HEAP} (the sum of the heap pools' peaks, and the
 * most the heap held after a collection) and the timings, one per line.
 */
public final class BigDeliveryProcess {
  static final DestinationKeyPair DESTINATION = TestEnvelopes.destination(1, "https://archive.example/");

  private BigDeliveryProcess() {}

  public static void main(String[] args) throws Exception {
    URI endpoint = URI.create(args[0]);
    String prefix = args[1];
    long plaintextBytes = Long.parseLong(args[2]);
    // The most heap left after a collection (all pools, from the collector's own report): an upper bound of
    // what the delivery keeps live (a young collection leaves the old generation's garbage in place). The
    // pool peaks printed below only say how far the heap was let fill before a collection.
    long[] maxAfterGc = {0};
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((NotificationEmitter) gc).addNotificationListener((n, handback) -> {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
          return;
        }
        GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from(
            (CompositeData) n.getUserData());
        long sum = 0;
        for (MemoryUsage u : info.getGcInfo().getMemoryUsageAfterGc().values()) {
          sum += u.getUsed();
        }
        synchronized (maxAfterGc) {
          maxAfterGc[0] = Math.max(maxAfterGc[0], sum);
        }
      }, null, null);
    }
    long t0 = System.nanoTime();
    SealResult sealed = seal(new PseudoRandom(plaintextBytes), plaintextBytes, new TestEnvelopes.DigestingSink());
    long t1 = System.nanoTime();
    System.out.println("FINGERPRINT " + sealed.fingerprint().toHex());
    S3Settings settings = S3Settings.newBuilder().bucket(S3ProxyFixture.BUCKET).keyPrefix(prefix).endpoint(endpoint)
        .region("us-east-1").pathStyle(true).credentials(S3ProxyFixture.IDENTITY, S3ProxyFixture.CREDENTIAL).build();
    Pipe pipe = Pipe.open();
    AtomicReference<Throwable> sealFailure = new AtomicReference<>();
    Thread sealer = new Thread(() -> {
      try (WritableByteChannel out = pipe.sink()) {
        SealResult again = seal(new PseudoRandom(plaintextBytes), plaintextBytes, out);
        if (!again.fingerprint().equals(sealed.fingerprint())) {
          throw new AssertionError("the deterministic sealer sealed another envelope");
        }
      } catch (Throwable e) {
        sealFailure.set(e);
      }
    }, "sealer");
    sealer.start();
    byte[] receipt;
    try (S3DeliverySink sink = S3DeliverySink.open(settings, DESTINATION); ReadableByteChannel in = pipe.source()) {
      receipt = sink.deliver(in, sealed.fingerprint());
    }
    sealer.join();
    if (sealFailure.get() != null) {
      throw new AssertionError("sealing failed", sealFailure.get());
    }
    long t2 = System.nanoTime();
    System.out.println("RECEIPT " + Base64.getEncoder().encodeToString(receipt));
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    synchronized (maxAfterGc) {
      System.out.println("PEAK HEAP " + peak + " (pool peaks), " + maxAfterGc[0] + " after a collection, of max "
          + Runtime.getRuntime().maxMemory());
    }
    System.out.printf("TIMES fingerprint pass %.1f s, seal + deliver %.1f s%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9);
  }

  static SealResult seal(ReadableByteChannel plaintext, long plaintextBytes, WritableByteChannel out)
      throws IOException {
    SealRequest request = TestEnvelopes.request(DESTINATION, TestEnvelopes.source(2)).name("big.bin")
        .mediaType("application/octet-stream").chunkSizeBytes(1 << 20).compression(Compression.OFF).build();
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(1, 2)) {
      return sealer.seal(request, plaintext, plaintextBytes, out);
    }
  }
}
