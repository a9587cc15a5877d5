package io.crowdbackup.bench.store;

import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * One durable put of a whole envelope (issue 3, "put ... with full durability"): the call returns only when
 * the bytes and the directory entry are on stable storage.
 *
 * <ul>
 *   <li>{@code impl=crowdbackup}: {@link FileCustodyStore#put} of a real envelope sealed in set-up (portable
 *       index): header check, fingerprint while writing, footer, data fsync, rename into its expiry group,
 *       directory fsync. The blob is deleted after each put, outside the timing, so the same envelope can be
 *       put again and the disk does not fill.
 *   <li>{@code impl=crowdbackup-no-flush-behind}: the same with {@link StoreConfig.Builder#flushBehindBytes}
 *       0, to show in the same run what fsyncing behind the writer buys (not a peer of the issue's).
 *   <li>{@code impl=file-per-blob}: the same bytes written the way a careful file-per-blob store would: temp
 *       file in the target directory, write, fsync, atomic rename, fsync of the directory. No checks at all.
 *   <li>{@code impl=file-per-blob-verified} (issue 15's yardstick): the naive store that does a holder's
 *       minimum: the same bytes read from the same input channel as {@code crowdbackup}'s
 *       ({@link BenchFiles#input}) into a reused 64 KiB buffer, hashed slice by slice ({@link BenchFiles.Verifier}:
 *       SHA-256 of each 64 KiB slice, then of those digests, compared with the expected value) and written
 *       slice by slice into a temp file, fsync, rename, directory fsync.
 *   <li>{@code impl=limit-verified}: {@code limit} with the same input and hashing (read, hash, then append,
 *       slice by slice).
 *   <li>{@code impl=limit} (the floor): the same bytes appended to one open file and fsynced: one fsync
 *       per put, no new inode, no rename. The file is truncated (outside the timing) once it passes 1 GiB.
 *   <li>{@code impl=limit-overwrite}: the same bytes written over blocks already allocated and written (a ring
 *       of at least 256 MiB filled in set-up) with {@code force(false)} (fdatasync): no metadata changes, so no
 *       file-system journal commit — the disk's own write-and-flush floor. Not in the issue; added because on
 *       ext4 an append + fsync costs a journal commit that the other two also pay.
 * </ul>
 *
 * <p>{@code file-per-blob}, {@code limit} and {@code limit-overwrite} write straight from the array (no input
 * channel, no checks): floors, not peers. {@code plaintextBytes} is the sealed plaintext; the envelope is about
 * 0.1 % larger (64 KiB chunks).
 * Score: puts per second; bytes per second is score × envelope size. The files go under
 * {@code $CROWDBACKUP_BENCH_DIR} (else {@code java.io.tmpdir}), which must be the disk to measure.
 *
 * <p>Run: {@code CROWDBACKUP_BENCH_DIR=/some/disk/dir java -jar bench/target/benchmarks.jar StorePutBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class StorePutBenchmark {
  private static final long LIMIT_ROTATE_BYTES = 1L << 30;
  private static final long RING_MIN_BYTES = 256L << 20;

  @Param({"crowdbackup", "crowdbackup-no-flush-behind", "file-per-blob", "file-per-blob-verified", "limit",
      "limit-verified", "limit-overwrite"})
  public String impl;

  @Param({"65536", "1048576", "67108864"})
  public int plaintextBytes;

  private Path dir;
  private byte[] envelope;
  private UploadRequest request;
  private FileCustodyStore store;
  private Path blobDir;
  private Path blobFile;
  private Path blobTemp;
  private FileChannel segment;
  private long ringBytes;
  private long ringPosition;
  private BenchFiles.Verifier verifier;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = BenchFiles.tempDir("store-put-");
    BenchFiles.Sealed sealed = new BenchFiles().seal(plaintextBytes, plaintextBytes,
        System.currentTimeMillis() / 1000 + 12 * 3600);
    envelope = sealed.bytes;
    request = UploadRequest.newBuilder().fingerprint(sealed.result.fingerprint())
        .declaredLengthBytes(envelope.length).custodyFrom("bench-peer").build();
    switch (impl) {
      case "crowdbackup":
        store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store")).build());
        break;
      case "crowdbackup-no-flush-behind":
        store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store")).flushBehindBytes(0).build());
        break;
      case "file-per-blob":
      case "file-per-blob-verified":
        verifier = new BenchFiles.Verifier(envelope);
        blobDir = Files.createDirectories(dir.resolve("blobs"));
        String name = sealed.result.fingerprint().toHex();
        blobFile = blobDir.resolve(name + ".blob");
        blobTemp = blobDir.resolve(name + ".tmp");
        break;
      case "limit":
      case "limit-verified":
        verifier = new BenchFiles.Verifier(envelope);
        segment = FileChannel.open(dir.resolve("segment"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        break;
      case "limit-overwrite":
        segment = FileChannel.open(dir.resolve("ring"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        long slots = Math.max(4, RING_MIN_BYTES / envelope.length);
        ringBytes = slots * envelope.length;
        for (long i = 0; i < slots; i++) {
          writeFully(segment, envelope);
        }
        segment.force(true);
        segment.position(0);
        break;
      default:
        throw new IllegalArgumentException("unknown impl " + impl);
    }
  }

  @TearDown(Level.Invocation)
  public void afterPut() throws IOException {
    switch (impl) {
      case "crowdbackup":
      case "crowdbackup-no-flush-behind":
        if (!store.delete(request.fingerprint())) {
          throw new IllegalStateException("the put blob " + request.fingerprint() + " was not stored");
        }
        break;
      case "file-per-blob":
      case "file-per-blob-verified":
        Files.delete(blobFile);
        break;
      case "limit":
      case "limit-verified":
        if (segment.size() >= LIMIT_ROTATE_BYTES) {
          segment.truncate(0);
          segment.position(0);
          segment.force(true);
        }
        break;
      default:
        ringPosition = (ringPosition + envelope.length) % ringBytes;
        segment.position(ringPosition);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    if (store != null) {
      store.close();
    }
    if (segment != null) {
      segment.close();
    }
    BenchFiles.deleteTree(dir);
  }

  @Benchmark
  public Object put() throws IOException {
    switch (impl) {
      case "crowdbackup":
      case "crowdbackup-no-flush-behind":
        return store.put(request, BenchFiles.input(envelope));
      case "file-per-blob":
        BenchFiles.putFilePerBlob(blobTemp, blobFile, envelope);
        return blobFile;
      case "file-per-blob-verified":
        verifier.putFilePerBlob(blobTemp, blobFile);
        return blobFile;
      case "limit-verified":
        verifier.append(verifier.input(), segment);
        segment.force(true);
        return segment;
      case "limit":
        writeFully(segment, envelope);
        segment.force(true);
        return segment;
      default:
        writeFully(segment, envelope);
        segment.force(false);
        return segment;
    }
  }

  private static void writeFully(FileChannel ch, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }
}
