package io.crowdbackup.bench.store;

import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Builds the store that {@link StoreOpenBenchmark} opens, in its own JVM so that every benchmark fork opens
 * it cold: {@code blobs} real envelopes (200-byte plaintext, about 1 KiB sealed, 50 peers, 2 locators,
 * expiries spread over 12 hourly groups two days ahead) put through {@link FileCustodyStore#put} with the
 * Chronicle index, then closed cleanly; and a copy of its Chronicle Map file for the bare-map {@code limit}.
 * fsyncs are skipped while building ({@link io.crowdbackup.bench.SyncToggleOpener}); sealing runs on up to 4 threads.
 *
 * <p>Run: {@code java <chronicle flags> -cp bench/target/benchmarks.jar
 * io.crowdbackup.bench.store.StoreOpenFixture 100000} (bench/run-store.sh does it). Prints the build rate.
 */
public final class StoreOpenFixture {
  static final String STORE = "store";
  static final String LIMIT = "limit";
  static final String BUILT = "BUILT";

  private StoreOpenFixture() {}

  static Path directory(int blobs) throws IOException {
    return BenchFiles.root().resolve("store-open-" + blobs);
  }

  public static void main(String[] args) throws IOException {
    int blobs = Integer.parseInt(args[0]);
    Path dir = directory(blobs);
    if (Files.exists(dir.resolve(BUILT))) {
      System.out.println("fixture " + dir + " already built");
      return;
    }
    BenchFiles.deleteTree(dir);
    Files.createDirectories(dir);
    long expiryBase = System.currentTimeMillis() / 1000 + 2 * 86_400;
    long t0 = System.nanoTime();
    // Sealing (an X25519 agreement per envelope) is most of the cost: two threads, one store.
    int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    AtomicInteger next = new AtomicInteger();
    AtomicInteger done = new AtomicInteger();
    try (FileCustodyStore s = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve(STORE))
        .indexFactory(StoreOpenBenchmark.indexFactory(blobs)).fileOpener(io.crowdbackup.bench.SyncToggleOpener.withoutFsync()).build())) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<Future<?>> work = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        work.add(pool.submit(() -> {
          BenchFiles sealer = new BenchFiles();
          for (int i = next.getAndIncrement(); i < blobs; i = next.getAndIncrement()) {
            BenchFiles.Sealed e = sealer.seal(i, 200, expiryBase + (i % 12) * 3600);
            UploadRequest r = UploadRequest.newBuilder().fingerprint(e.result.fingerprint())
                .declaredLengthBytes(e.bytes.length).custodyFrom("peer-" + (i % 50)).build();
            s.put(r, Channels.newChannel(new ByteArrayInputStream(e.bytes)));
            int n = done.incrementAndGet();
            if (n % 10_000 == 0 || n == blobs) {
              double sec = (System.nanoTime() - t0) / 1e9;
              System.out.printf("%,d blobs in %.1f s (%.0f blobs/s)%n", n, sec, n / sec);
            }
          }
          return null;
        }));
      }
      pool.shutdown();
      for (Future<?> f : work) {
        try {
          f.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while building " + dir, e);
        } catch (ExecutionException e) {
          throw new IOException("building " + dir + " failed: " + e.getCause(), e.getCause());
        }
      }
      if (s.usage().blobCount() != blobs) {
        throw new IllegalStateException("built " + s.usage().blobCount() + " blobs, wanted " + blobs);
      }
    }
    Files.createDirectories(dir.resolve(LIMIT));
    Files.copy(dir.resolve(STORE).resolve("index").resolve(StoreOpenBenchmark.CHRONICLE_FILE),
        dir.resolve(LIMIT).resolve(StoreOpenBenchmark.CHRONICLE_FILE), StandardCopyOption.REPLACE_EXISTING);
    Files.write(dir.resolve(BUILT), new byte[0]);
    System.out.println("fixture " + dir + " built");
  }
}
