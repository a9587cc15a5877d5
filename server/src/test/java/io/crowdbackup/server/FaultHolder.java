package io.crowdbackup.server;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.HolderConfig;
import io.crowdbackup.engine.protocol.HolderProtocol;
import io.crowdbackup.engine.protocol.OfferMessage;
import io.crowdbackup.engine.protocol.Tus;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One holder service on a loopback port for the fault tests, with the knobs they turn (idle timeout,
 * threads, a fixed upload-id secret so that upload URLs survive a restart on the same directory), and
 * the tus requests they send by hand.
 */
final class FaultHolder implements Closeable {
  static final byte[] SECRET = new byte[32];

  static {
    java.util.Arrays.fill(SECRET, (byte) 7);
  }

  final Custodian custodian;
  final HolderProtocol protocol;
  final ProtocolServer server;
  /** What the core reported as this device's own failures (a peer sees a 503). */
  final List<String> errors = new CopyOnWriteArrayList<>();

  FaultHolder(Path dir, Duration idle, int maxThreads) throws IOException {
    Files.createDirectories(dir);
    RateLimit unshaped = RateLimit.of(RateLimit.MAX_BYTES_PER_SECOND, 1L << 30);
    custodian = Custodian.open(HolderConfig.newBuilder(dir).limitBytes(1L << 34).peerSharePercent(100)
        .ingress(unshaped, unshaped).egress(unshaped, unshaped).checkpointEveryBytes(64 * 1024).build());
    protocol = HolderProtocol.newBuilder(custodian).uploadIdSecret(SECRET)
        .onError((what, e) -> errors.add(what + ": " + e)).build();
    server = ProtocolServer.newBuilder(protocol::handle).port(0).idleTimeout(idle).stopTimeout(Duration.ZERO)
        .maxThreads(maxThreads).name("fault-holder").build().start();
  }

  URI uri() {
    return server.uri();
  }

  static Fingerprint fingerprint(byte[] envelope) throws IOException {
    return Envelopes.fingerprint(Channels.newChannel(new ByteArrayInputStream(envelope)));
  }

  /** The tus creation head of an offer of {@code envelope} (expiry one hour out). */
  static String creation(Fingerprint fp, long length) {
    OfferMessage m = new OfferMessage(fp, length, System.currentTimeMillis() / 1000 + 3600, "fault test", false);
    return RawHttp.head("POST", "/v1/uploads", Tus.TUS_RESUMABLE, Tus.VERSION, Tus.UPLOAD_LENGTH,
        Long.toString(length), Tus.UPLOAD_METADATA, Tus.formatMetadata(m.toTusMetadata()), "Content-Length", "0");
  }

  /** A PATCH head for {@code contentLength} bytes at {@code offset}. */
  static String patch(String uploadPath, long offset, long contentLength, String... more) {
    String[] h = new String[8 + more.length];
    h[0] = Tus.TUS_RESUMABLE;
    h[1] = Tus.VERSION;
    h[2] = Tus.UPLOAD_OFFSET;
    h[3] = Long.toString(offset);
    h[4] = "Content-Type";
    h[5] = Tus.OFFSET_OCTET_STREAM;
    h[6] = "Content-Length";
    h[7] = Long.toString(contentLength);
    System.arraycopy(more, 0, h, 8, more.length);
    return RawHttp.head("PATCH", uploadPath, h);
  }

  static String headRequest(String uploadPath) {
    return RawHttp.head("HEAD", uploadPath, Tus.TUS_RESUMABLE, Tus.VERSION);
  }

  /** Requests to this holder, each over a fresh connection. */
  FaultClient client() {
    return new FaultClient(uri());
  }

  @Override
  public void close() throws IOException {
    try {
      server.close();
    } finally {
      try {
        protocol.close();
      } finally {
        custodian.close();
      }
    }
  }
}
