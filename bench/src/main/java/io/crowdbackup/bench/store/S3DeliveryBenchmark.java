package io.crowdbackup.bench.store;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.bench.CpuTime;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.protocol.DeliverySink;
import io.crowdbackup.engine.protocol.DestinationProtocol;
import io.crowdbackup.engine.protocol.OfferMessage;
import io.crowdbackup.engine.protocol.ProtocolRequest;
import io.crowdbackup.engine.protocol.ProtocolResponse;
import io.crowdbackup.s3.S3DeliverySink;
import io.crowdbackup.s3.S3ProxyServer;
import io.crowdbackup.server.ProtocolClient;
import io.crowdbackup.server.ProtocolServer;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
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
 * Deliveries into a destination over HTTP, into S3 against the filesystem inbox (issue 14). One call is a
 * batch of 48 MiB of envelopes ({@code 48 MiB / size} deliveries, at least {@value #CLIENTS}) sent by {@value #CLIENTS} client
 * threads at once, each delivery a tus creation plus one PATCH of the whole envelope, answered with its
 * receipt once the destination has staged, verified, opened and committed it:
 *
 * <ul>
 *   <li>{@code impl=inbox}: one destination server over a filesystem inbox (the home server, the default).
 *   <li>{@code impl=s3-1}: one destination server over {@link S3DeliverySink}, into S3Proxy (filesystem
 *       backend, path-style, signature v4: {@link S3ProxyServer}) in this JVM on loopback.
 *   <li>{@code impl=s3-3}: three destination servers on the same bucket; delivery {@code i} goes to server
 *       {@code i % 3}.
 * </ul>
 *
 * <p>Every iteration starts on fresh state (a new inbox, a new key prefix in the bucket, new staging
 * folders) so that every envelope of the batch is a first delivery; the envelopes are sealed once per
 * trial. Score: milliseconds per batch; deliveries per second and MB/s (plaintext) follow from the batch.
 * {@link CpuTime}'s {@code processCpuNanos} is the CPU the whole JVM spent on the batch (clients, servers,
 * S3Proxy alike), which neighbours on a shared machine do not inflate as they do the wall time.
 * Everything runs in one JVM on one machine: S3Proxy's work is in the score, and the servers share the
 * cores, so "3 servers" measures concurrency in one process, not scale-out. Files go under
 * {@code $CROWDBACKUP_BENCH_DIR} (else {@code java.io.tmpdir}).
 *
 * <p>Run: {@code java -jar bench/target/benchmarks.jar S3DeliveryBenchmark} (about 4 minutes).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class S3DeliveryBenchmark {
  /** Concurrent client threads, whatever the number of servers. */
  static final int CLIENTS = 3;
  static final long BATCH_BYTES = 48L << 20;
  private static final String BUCKET = "bench";

  @Param({"inbox", "s3-1", "s3-3"})
  public String impl;

  @Param({"1048576", "16777216"})
  public int plaintextBytes;

  private Path dir;
  private DestinationKeyPair keys;
  private final List<byte[]> envelopes = new ArrayList<>();
  private final List<OfferMessage> offers = new ArrayList<>();
  private S3ProxyServer s3;
  private final List<ProtocolServer> servers = new ArrayList<>();
  private final List<AtomicReference<Function<ProtocolRequest, ProtocolResponse>>> cores = new ArrayList<>();
  private final List<ProtocolClient> clients = new ArrayList<>();
  private ExecutorService pool;
  private int iteration;
  private final List<Closeable> perIteration = new ArrayList<>();

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dir = BenchFiles.tempDir("s3-delivery-");
    BenchFiles files = new BenchFiles();
    keys = files.destination();
    long expires = System.currentTimeMillis() / 1000 + 6 * 3600;
    int count = (int) Math.max(CLIENTS, BATCH_BYTES / plaintextBytes);
    for (int i = 0; i < count; i++) {
      BenchFiles.Sealed s = files.seal(i, plaintextBytes, expires);
      envelopes.add(s.bytes);
      offers.add(new OfferMessage(s.result.fingerprint(), s.bytes.length, expires, null, false));
    }
    if (impl.startsWith("s3")) {
      s3 = S3ProxyServer.start(dir.resolve("s3"), BUCKET);
    }
    int n = impl.equals("s3-3") ? 3 : 1;
    HttpClient http = ProtocolClient.newHttpClient(Duration.ofSeconds(10));
    for (int i = 0; i < n; i++) {
      AtomicReference<Function<ProtocolRequest, ProtocolResponse>> core = new AtomicReference<>();
      ProtocolServer server = ProtocolServer.newBuilder(req -> core.get().apply(req)).port(0)
          .idleTimeout(Duration.ofSeconds(60)).stopTimeout(Duration.ZERO).name("bench-destination-" + i).build()
          .start();
      cores.add(core);
      servers.add(server);
      clients.add(new ProtocolClient(http, server.uri(), Duration.ofMinutes(5)));
    }
    pool = Executors.newFixedThreadPool(CLIENTS);
  }

  /** Fresh destination state, so that every envelope of the batch is a first delivery. */
  @Setup(Level.Iteration)
  public void freshDestinations() throws IOException {
    iteration++;
    Inbox inbox = null;
    if (impl.equals("inbox")) {
      inbox = Inbox.newBuilder().directory(Files.createDirectories(dir.resolve("inbox-" + iteration))).keys(keys)
          .open();
      perIteration.add(inbox);
    }
    for (int i = 0; i < servers.size(); i++) {
      DeliverySink sink;
      if (inbox != null) {
        sink = DeliverySink.inbox(inbox);
      } else {
        S3DeliverySink s3sink = S3DeliverySink.open(s3.settings(BUCKET, "it" + iteration + "/").build(), keys);
        perIteration.add(s3sink);
        sink = s3sink;
      }
      DestinationProtocol protocol = DestinationProtocol.newBuilder(sink, dir.resolve("staging-" + iteration + "-"
          + i)).build();
      perIteration.add(0, protocol);
      cores.get(i).set(protocol::handle);
    }
  }

  @TearDown(Level.Iteration)
  public void dropDestinations() throws IOException {
    for (Closeable c : perIteration) {
      c.close();
    }
    perIteration.clear();
    BenchFiles.deleteTree(dir.resolve("inbox-" + iteration));
    for (int i = 0; i < servers.size(); i++) {
      BenchFiles.deleteTree(dir.resolve("staging-" + iteration + "-" + i));
    }
    // S3Proxy's filesystem store keeps each key as a file under <base>/<bucket>/<key>.
    BenchFiles.deleteTree(dir.resolve("s3").resolve(BUCKET).resolve("it" + iteration));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    pool.shutdownNow();
    for (ProtocolServer s : servers) {
      s.close();
    }
    if (s3 != null) {
      s3.close();
    }
    BenchFiles.deleteTree(dir);
  }

  /** The whole batch; each delivery checked to end with a receipt. */
  @Benchmark
  public int deliverBatch(CpuTime cpu) throws Exception {
    cpu.start();
    try {
      return sendBatch();
    } finally {
      cpu.stop();
    }
  }

  private int sendBatch() throws Exception {
    List<Future<?>> sent = new ArrayList<>(envelopes.size());
    for (int i = 0; i < envelopes.size(); i++) {
      int k = i;
      sent.add(pool.submit(() -> {
        deliver(k);
        return null;
      }));
    }
    for (Future<?> f : sent) {
      f.get();
    }
    return sent.size();
  }

  private void deliver(int i) throws IOException {
    byte[] envelope = envelopes.get(i);
    ProtocolClient client = clients.get(i % clients.size());
    ProtocolClient.Created c = client.create(offers.get(i).toTusMetadata(), envelope.length);
    ProtocolClient.Patched p = client.patch(c.upload(), 0, () -> new ByteArrayInputStream(envelope),
        envelope.length);
    if (p.offset() != envelope.length || p.receipt() == null) {
      throw new IllegalStateException("delivery " + i + " ended at " + p.offset() + " of " + envelope.length
          + " bytes" + (p.receipt() == null ? " without a receipt" : ""));
    }
  }
}
