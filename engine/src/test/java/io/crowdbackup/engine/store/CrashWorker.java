package io.crowdbackup.engine.store;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.envelope.EnvelopeScanner;
import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.InMemoryBlobIndex;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The child JVM of {@link CrashTest}: opens the store and runs random puts, bursts of concurrent puts (a
 * large one among them, so that commits share directory fsyncs and a put's writer thread runs), resumable
 * uploads, deletes, state changes and verified reads until it is killed. Before each operation it appends what it is about
 * to do to an acknowledgement log, and after the store returns it appends that it was acknowledged; the
 * parent checks the store against the acknowledged lines after every kill.
 *
 * <p>Arguments: store directory, log file, seed, index ("memory" or "chronicle").
 */
public final class CrashWorker {
  private final FileCustodyStore store;
  private final FileChannel log;
  private final SplittableRandom random;
  private final Map<Fingerprint, Long> seeds = new HashMap<>();
  private final List<Fingerprint> held = new ArrayList<>();
  private final java.util.concurrent.ExecutorService burst = java.util.concurrent.Executors.newFixedThreadPool(4);

  private CrashWorker(FileCustodyStore store, FileChannel log, long seed) {
    this.store = store;
    this.log = log;
    this.random = new SplittableRandom(seed);
  }

  public static void main(String[] args) throws Exception {
    Path dir = Paths.get(args[0]);
    Path logPath = Paths.get(args[1]);
    long seed = Long.parseLong(args[2]);
    FileCustodyStore store = FileCustodyStore.open(config(dir, args[3]).build());
    try (FileChannel log = FileChannel.open(logPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND)) {
      CrashWorker w = new CrashWorker(store, log, seed);
      w.learn(logPath);
      w.write("READY");
      w.run();
    } catch (Throwable t) {
      Files.write(logPath, ("ERROR " + t + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
      t.printStackTrace();
      System.exit(3);
    }
  }

  static StoreConfig.Builder config(Path dir, String index) throws ReflectiveOperationException {
    BlobIndex.Factory f = InMemoryBlobIndex.FACTORY;
    if (index.equals("chronicle")) {
      f = (BlobIndex.Factory) Class.forName("io.crowdbackup.enginejvm.store.ChronicleBlobIndex")
          .getMethod("factory", long.class).invoke(null, 20_000L);
    }
    return StoreConfig.newBuilder(dir).indexFactory(f).checkpointEveryBytes(16 * 1024)
        .clock(new StoreTestSupport.MutableClock(StoreTestSupport.NOW_EPOCH_SECOND));
  }

  static StoreTestSupport.Env envelopeFor(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int size = r.nextInt(10) == 0 ? r.nextInt(100_000, 300_000) : r.nextInt(1, 40_000);
    return StoreTestSupport.envelope(seed, size, r.nextBoolean(),
        StoreTestSupport.NOW_EPOCH_SECOND + r.nextLong(60, 12 * 3600));
  }

  private void learn(Path logPath) throws IOException {
    for (String line : Files.readAllLines(logPath, StandardCharsets.UTF_8)) {
      String[] p = line.split(" ");
      if ((p[0].equals("PUT") || p[0].equals("UPLOAD")) && p.length == 3) {
        seeds.put(Fingerprint.fromHex(p[2]), Long.parseLong(p[1]));
      }
    }
    for (BlobStat s : store.list()) {
      if (s.state().hasBytes()) {
        held.add(s.fingerprint());
      }
    }
  }

  private synchronized void write(String line) throws IOException {
    ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) {
      log.write(b);
    }
  }

  private void run() throws IOException {
    while (true) {
      int op = random.nextInt(100);
      if (held.size() > 200 && op < 30) {
        delete(); // keep the store at a steady size over long runs, so every cycle costs the same
      } else if (op < 30) {
        put();
      } else if (op < 35) {
        burst();
      } else if (op < 60) {
        upload();
      } else if (op < 72) {
        delete();
      } else if (op < 85) {
        transition();
      } else {
        read();
      }
    }
  }

  private UploadRequest request(StoreTestSupport.Env e) {
    return random.nextInt(4) == 0 ? e.request().own().build() : e.custody("peer-" + random.nextInt(5));
  }

  private void put() throws IOException {
    long seed = random.nextLong();
    StoreTestSupport.Env e = envelopeFor(seed);
    seeds.put(e.fingerprint, seed);
    write("PUT " + seed + " " + e.fingerprint);
    store.put(request(e), CustodyStoreContractTest.in(e.bytes));
    write("PUT_OK " + e.fingerprint);
    held.add(e.fingerprint);
  }

  /**
   * Four puts at once, one of them of 4.2–5 MB (past {@link UploadImpl#OVERLAP_MIN_BYTES}: hashed and
   * written on two threads); each is logged and acknowledged on its own thread.
   */
  private void burst() throws IOException {
    List<java.util.concurrent.Future<Fingerprint>> puts = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      long seed = random.nextLong();
      SplittableRandom r = new SplittableRandom(seed);
      StoreTestSupport.Env e = i == 0
          ? StoreTestSupport.envelope(seed, r.nextInt(4_200_000, 5_000_000), r.nextBoolean(),
              StoreTestSupport.NOW_EPOCH_SECOND + r.nextLong(60, 12 * 3600))
          : envelopeFor(seed);
      UploadRequest request = request(e);
      puts.add(burst.submit(() -> {
        write("PUT " + seed + " " + e.fingerprint);
        store.put(request, CustodyStoreContractTest.in(e.bytes));
        write("PUT_OK " + e.fingerprint);
        return e.fingerprint;
      }));
    }
    for (java.util.concurrent.Future<Fingerprint> f : puts) {
      try {
        held.add(f.get());
      } catch (InterruptedException | java.util.concurrent.ExecutionException ex) {
        throw new IOException("a concurrent put failed: " + ex, ex);
      }
    }
  }

  private void upload() throws IOException {
    List<UploadInfo> pending = store.uploads();
    Upload u;
    StoreTestSupport.Env e;
    if (!pending.isEmpty() && random.nextBoolean()) {
      Fingerprint fp = pending.get(random.nextInt(pending.size())).request().fingerprint();
      e = envelopeFor(seeds.get(fp));
      u = store.resume(fp);
      write("RESUMED " + fp + " " + u.durableOffset());
    } else {
      long seed = random.nextLong();
      e = envelopeFor(seed);
      seeds.put(e.fingerprint, seed);
      write("UPLOAD " + seed + " " + e.fingerprint);
      u = store.begin(request(e));
    }
    int from = (int) u.offset();
    int to = from + random.nextInt(e.bytes.length - from + 1);
    int at = from;
    while (at < to) {
      int n = Math.min(to - at, 1 + random.nextInt(20_000));
      u.write(ByteBuffer.wrap(e.bytes, at, n));
      at += n;
      if (random.nextInt(3) == 0) {
        long durable = u.checkpoint();
        write("DURABLE " + e.fingerprint + " " + durable);
      }
    }
    if (to == e.bytes.length && random.nextInt(4) != 0) {
      write("COMMIT " + e.fingerprint);
      u.commit();
      write("COMMIT_OK " + e.fingerprint);
      held.add(e.fingerprint);
    } else {
      long durable = u.checkpoint();
      write("DURABLE " + e.fingerprint + " " + durable);
      u.close();
    }
  }

  private Fingerprint someHeld() {
    return held.isEmpty() ? null : held.get(random.nextInt(held.size()));
  }

  private void delete() throws IOException {
    Fingerprint fp = someHeld();
    if (fp == null) {
      return;
    }
    write("DELETE " + fp);
    store.delete(fp);
    write("DELETE_OK " + fp);
    held.remove(fp);
  }

  private void transition() throws IOException {
    Fingerprint fp = someHeld();
    if (fp == null) {
      return;
    }
    BlobState now = store.stat(fp).state();
    BlobState next = random.nextInt(4) == 0 ? BlobState.DELIVERED
        : now == BlobState.HELD ? BlobState.FORWARDING : BlobState.HELD;
    write("STATE " + fp + " " + next);
    store.transition(fp, next);
    write("STATE_OK " + fp + " " + next);
    if (next == BlobState.DELIVERED) {
      held.remove(fp);
    }
  }

  private void read() throws IOException {
    Fingerprint fp = someHeld();
    if (fp == null) {
      return;
    }
    Fingerprint actual;
    try {
      actual = EnvelopeScanner.scan(store.open(fp));
    } catch (StoreException e) {
      throw new IllegalStateException("reading " + fp + " failed", e);
    }
    if (!actual.equals(fp)) {
      throw new IllegalStateException("read back " + actual + " for " + fp);
    }
    write("READ_OK " + fp);
  }
}
