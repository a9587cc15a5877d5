package io.crowdbackup.bench.custody;

import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.bench.SyncToggleOpener;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.envelope.EnvelopeHeaders;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Eviction of a store of {@code blobs} tiny custody blobs of which 1% have expired.
 *
 * <ul>
 *   <li>{@code crowdbackup}: {@code FileCustodyStore.dropExpired(now)} — lists only the expiry groups that
 *       can hold expired blobs, so it costs what expired.
 *   <li>{@code full-scan}: what a store without expiry groups does — {@code list()} every blob, check each
 *       expiry, {@code delete} the expired ones (one directory fsync per delete, as the public API does).
 *   <li>{@code scan-only}: just the {@code list()} and the check, deleting nothing: the floor under
 *       {@code full-scan}, to separate the scan from the deletes.
 * </ul>
 *
 * <p>Each measured call removes the expired blobs, so before each iteration the same 1% are put back
 * (fsync switched off while preparing, on while measuring: see {@link SyncToggleOpener}). The store is
 * built once into {@code ${java.io.tmpdir}/crowdbackup-evict-<blobs>} and reused by later forks and runs
 * (delete the directory to rebuild). Index: the portable in-memory one (Android's default), rebuilt from
 * the data files when the store opens.
 *
 * <p>The envelopes are one real sealed envelope with its header salt and expiry rewritten per blob: the
 * header MAC then no longer verifies for the destination, but a holder's store cannot check it (it has no
 * key), and every fingerprint is computed over the actual bytes. This is what makes a million distinct
 * envelopes cheap to make.
 *
 * <p>Run: {@code java -jar bench/target/benchmarks.jar EvictionBenchmark -p blobs=100000}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class EvictionBenchmark {
  /** Aligned to the default one-hour expiry group. */
  static final long T0 = 1_800_000_000L - 1_800_000_000L % 3600;
  static final long NOW = T0 + 1800;
  static final int SALT_OFFSET = 10 + 1 + 1 + 8 + 8 + 32;
  static final int EXPIRY_OFFSET = 10 + 1 + 1 + 8;

  @Param({"100000"})
  public int blobs;

  @Param({"crowdbackup", "full-scan", "scan-only"})
  public String impl;

  private SyncToggleOpener opener;
  private FileCustodyStore store;
  private List<byte[]> expired;

  @Setup(Level.Trial)
  public void openStore() throws IOException {
    Path dir = Paths.get(System.getProperty("java.io.tmpdir"), "crowdbackup-evict-" + blobs);
    opener = new SyncToggleOpener();
    long started = System.nanoTime();
    if (!Files.exists(dir.resolve("BUILT"))) {
      build(dir, blobs, opener);
      Files.write(dir.resolve("BUILT"), "ok".getBytes(StandardCharsets.US_ASCII));
      System.out.printf("%nbuilt %d blobs in %.1f s%n", blobs, (System.nanoTime() - started) / 1e9);
    }
    started = System.nanoTime();
    store = FileCustodyStore.open(config(dir, opener));
    System.out.printf("%nopened %d blobs in %.1f s%n", store.usage().blobCount(), (System.nanoTime() - started) / 1e9);
    byte[] template = template();
    expired = new ArrayList<>();
    for (int i = 0; i < blobs / 100; i++) {
      expired.add(envelope(template, i, T0 + 10));
    }
  }

  /** Puts back the 1% the previous iteration dropped (fsync off: preparation, not measurement). */
  @Setup(Level.Iteration)
  public void restoreExpired() throws IOException {
    opener.fsync = false;
    try {
      for (byte[] e : expired) {
        Fingerprint fp = Envelopes.fingerprint(Channels.newChannel(new ByteArrayInputStream(e)));
        if (store.stat(fp) == null) {
          put(store, fp, e);
        }
      }
    } finally {
      opener.fsync = true;
    }
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    store.close();
  }

  @Benchmark
  public long evict() throws IOException {
    switch (impl) {
      case "crowdbackup":
        return store.dropExpired(NOW);
      case "full-scan": {
        long n = 0;
        for (BlobStat s : store.list()) {
          if (s.expiresAtEpochSecond() <= NOW && store.delete(s.fingerprint())) {
            n++;
          }
        }
        return n;
      }
      case "scan-only": {
        long n = 0;
        for (BlobStat s : store.list()) {
          if (s.expiresAtEpochSecond() <= NOW) {
            n++;
          }
        }
        return n;
      }
      default:
        throw new IllegalArgumentException("impl " + impl);
    }
  }

  static StoreConfig config(Path dir, SyncToggleOpener opener) {
    return StoreConfig.newBuilder(dir).fileOpener(opener)
        .clock(Clock.fixed(Instant.ofEpochSecond(T0), ZoneOffset.UTC)).build();
  }

  /** Builds the store: 1% expiring at T0 + 10 (the first group), the rest spread over the next 12 groups. */
  static void build(Path dir, int blobs, SyncToggleOpener opener) throws IOException {
    opener.fsync = false;
    byte[] template = template();
    try (FileCustodyStore s = FileCustodyStore.open(config(dir, opener))) {
      int expiredCount = blobs / 100;
      for (int i = 0; i < blobs; i++) {
        long expires = i < expiredCount ? T0 + 10 : T0 + 3600 * (1 + i % 12) + i % 3600;
        byte[] e = envelope(template, i, expires);
        put(s, Envelopes.fingerprint(Channels.newChannel(new ByteArrayInputStream(e))), e);
        if (i % 100_000 == 99_999) {
          System.out.printf("  %d blobs%n", i + 1);
        }
      }
    } finally {
      opener.fsync = true;
    }
  }

  static void put(FileCustodyStore s, Fingerprint fp, byte[] e) throws IOException {
    s.put(UploadRequest.newBuilder().fingerprint(fp).declaredLengthBytes(e.length).custodyFrom("peer-" + (fp.hashCode() & 63))
        .build(), Channels.newChannel(new ByteArrayInputStream(e)));
  }

  /** The {@code i}-th distinct envelope: the template with salt and expiry rewritten. */
  static byte[] envelope(byte[] template, int i, long expiresAtEpochSecond) {
    byte[] e = template.clone();
    ByteBuffer b = ByteBuffer.wrap(e);
    b.putLong(SALT_OFFSET, 0x5a17_0000_0000_0000L ^ i);
    b.putLong(EXPIRY_OFFSET, expiresAtEpochSecond);
    return e;
  }

  static byte[] template() throws IOException {
    SealRequest request = SealRequest.newBuilder()
        .destination(Keys.generateDestination("home.example").card())
        .releaseKey(Keys.generateSigning().publicKey())
        .expiresAtEpochSecond(T0 + 86_400)
        .name("x")
        .mediaType("application/octet-stream")
        .createdAtEpochMillis(T0 * 1000)
        .build();
    byte[] plaintext = {42};
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (EnvelopeSealer sealer = Envelopes.sealer()) {
      sealer.seal(request, Channels.newChannel(new ByteArrayInputStream(plaintext)), plaintext.length,
          Channels.newChannel(out));
    }
    byte[] t = out.toByteArray();
    // The offsets above follow envelope format v1; check them once against the header reader.
    byte[] probe = envelope(t, 7, T0 + 123);
    if (EnvelopeHeaders.decode(probe).expiresAtEpochSecond() != T0 + 123) {
      throw new IllegalStateException("expiry offset does not match envelope format v1");
    }
    return t;
  }

  /** Times building a store of {@code args[0]} blobs into {@code args[1]}: {@code java -cp benchmarks.jar ...}. */
  public static void main(String[] args) throws IOException {
    int n = Integer.parseInt(args[0]);
    Path dir = Paths.get(args[1]);
    long t = System.nanoTime();
    build(dir, n, new SyncToggleOpener());
    System.out.printf("built %d blobs in %.1f s%n", n, (System.nanoTime() - t) / 1e9);
    t = System.nanoTime();
    try (FileCustodyStore s = FileCustodyStore.open(config(dir, new SyncToggleOpener()))) {
      System.out.printf("opened %d blobs in %.1f s%n", s.usage().blobCount(), (System.nanoTime() - t) / 1e9);
    }
  }
}
