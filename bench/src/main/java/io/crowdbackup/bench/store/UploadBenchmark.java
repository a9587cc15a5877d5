package io.crowdbackup.bench.store;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.bench.CpuTime;
import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.HolderConfig;
import io.crowdbackup.engine.custody.Offer;
import io.crowdbackup.engine.protocol.HolderProtocol;
import io.crowdbackup.engine.protocol.OfferMessage;
import io.crowdbackup.engine.protocol.ProtocolRequest;
import io.crowdbackup.engine.protocol.ProtocolResponse;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import io.crowdbackup.server.ProtocolClient;
import io.crowdbackup.server.ProtocolServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.time.Duration;
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
 * Upload throughput over loopback (issue 13's goal: at least 0.8 × the store's direct put, in the same run).
 * One call takes one whole envelope from memory to a durably committed custody blob:
 *
 * <ul>
 *   <li>{@code impl=http-upload}: the holder service as a venue peer meets it: tus creation ({@code POST
 *       /v1/uploads}, the offer) then one {@code PATCH} of the whole envelope (up to
 *       {@link ProtocolClient#CREATE_WITH_UPLOAD_MAX_BYTES}: the envelope in the creation, one exchange), JDK {@code HttpClient} (HTTP/1.1)
 *       to Jetty on 127.0.0.1 to {@link HolderProtocol} to {@link Custodian} to the store; the last PATCH
 *       returns after the fingerprint check and the durable commit.
 *   <li>{@code impl=custodian-receive}: {@link Custodian#receive} of the same bytes, no HTTP: the holder's own
 *       path (offer, quota, store) without the wire, to split the cost.
 *   <li>{@code impl=store-put}: {@link FileCustodyStore#put}, the store's direct put, the peer of the goal.
 * </ul>
 *
 * <p>Every call gets a fresh store directory (set up and torn down outside the timing: the same fingerprint
 * cannot be held twice); the server and its client live for the trial. Score: milliseconds per envelope;
 * MB/s is envelope bytes / time. {@link CpuTime} adds the CPU the whole JVM spent per call (client, server
 * and store threads alike: loopback puts both ends in this process), which the neighbours on a shared
 * machine do not inflate as they do the wall time. Files go under {@code $CROWDBACKUP_BENCH_DIR} (else {@code java.io.tmpdir}).
 *
 * <p>Run: {@code java -jar bench/target/benchmarks.jar UploadBenchmark} (about 3 minutes).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class UploadBenchmark {
  @Param({"http-upload", "custodian-receive", "store-put"})
  public String impl;

  @Param({"1048576", "67108864"})
  public int plaintextBytes;

  private byte[] envelope;
  private BenchFiles.Sealed sealed;
  private long expires;
  private ProtocolServer server;
  private final AtomicReference<Function<ProtocolRequest, ProtocolResponse>> core = new AtomicReference<>();
  private ProtocolClient client;

  private Path dir;
  private FileCustodyStore store;
  private Custodian custodian;
  private HolderProtocol protocol;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    expires = System.currentTimeMillis() / 1000 + 6 * 3600;
    sealed = new BenchFiles().seal(plaintextBytes, plaintextBytes, expires);
    envelope = sealed.bytes;
    if (impl.equals("http-upload")) {
      server = ProtocolServer.newBuilder(req -> core.get().apply(req)).port(0).idleTimeout(Duration.ofSeconds(60))
          .stopTimeout(Duration.ZERO).name("bench-holder").build().start();
      client = new ProtocolClient(ProtocolClient.newHttpClient(Duration.ofSeconds(5)), server.uri(),
          Duration.ofMinutes(5));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  @Setup(Level.Invocation)
  public void freshStore() throws IOException {
    dir = BenchFiles.tempDir("upload-");
    if (impl.equals("store-put")) {
      store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("blobs")).build());
      return;
    }
    RateLimit unshaped = RateLimit.of(RateLimit.MAX_BYTES_PER_SECOND, 1L << 30);
    custodian = Custodian.open(HolderConfig.newBuilder(dir).limitBytes(1L << 34).peerSharePercent(100)
        .ingress(unshaped, unshaped).egress(unshaped, unshaped).build());
    if (impl.equals("http-upload")) {
      protocol = HolderProtocol.newBuilder(custodian).build();
      core.set(protocol::handle);
    }
  }

  @TearDown(Level.Invocation)
  public void dropStore() throws IOException {
    if (protocol != null) {
      protocol.close();
      protocol = null;
    }
    if (custodian != null) {
      custodian.close();
      custodian = null;
    }
    if (store != null) {
      store.close();
      store = null;
    }
    BenchFiles.deleteTree(dir);
  }

  @Benchmark
  public Object upload(CpuTime cpu) throws IOException {
    cpu.start();
    try {
      return uploadOnce();
    } finally {
      cpu.stop();
    }
  }

  private Object uploadOnce() throws IOException {
    switch (impl) {
      case "http-upload": {
        OfferMessage offer = new OfferMessage(sealed.result.fingerprint(), envelope.length, expires, null, false);
        if (envelope.length <= ProtocolClient.CREATE_WITH_UPLOAD_MAX_BYTES) {
          // As SourceClient sends it: the whole envelope in the creation (tus creation-with-upload).
          ProtocolClient.Created c = client.create(offer.toTusMetadata(), envelope.length,
              () -> new ByteArrayInputStream(envelope), envelope.length);
          if (c.offset() != envelope.length) {
            throw new IllegalStateException("the holder answered offset " + c.offset() + " of " + envelope.length);
          }
          return c;
        }
        ProtocolClient.Created c = client.create(offer.toTusMetadata(), envelope.length);
        ProtocolClient.Patched p = client.patch(c.upload(), 0, () -> new ByteArrayInputStream(envelope),
            envelope.length);
        if (p.offset() != envelope.length) {
          throw new IllegalStateException("the holder answered offset " + p.offset() + " of " + envelope.length);
        }
        return p;
      }
      case "custodian-receive":
        try {
          return custodian.receive(Offer.newBuilder().fingerprint(sealed.result.fingerprint())
              .declaredLengthBytes(envelope.length).envelopeExpiresAtEpochSecond(expires).sourcePeer("bench-peer")
              .build(), Channels.newChannel(new ByteArrayInputStream(envelope)));
        } catch (io.crowdbackup.api.policy.RefusalException e) {
          throw new IllegalStateException(e);
        }
      case "store-put":
        return store.put(UploadRequest.newBuilder().fingerprint(sealed.result.fingerprint())
            .declaredLengthBytes(envelope.length).custodyFrom("bench-peer").build(),
            Channels.newChannel(new ByteArrayInputStream(envelope)));
      default:
        throw new IllegalArgumentException("unknown impl " + impl);
    }
  }
}
