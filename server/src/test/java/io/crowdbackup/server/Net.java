package io.crowdbackup.server;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.HolderConfig;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.protocol.DeliverySink;
import io.crowdbackup.engine.protocol.DestinationProtocol;
import io.crowdbackup.engine.protocol.HolderProtocol;
import io.crowdbackup.engine.protocol.ProtocolRequest;
import io.crowdbackup.engine.protocol.ProtocolResponse;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/** Test fixture: real holders and destinations on loopback ports, and real envelopes. */
final class Net implements Closeable {
  static final Duration IDLE = Duration.ofSeconds(5);
  private final List<Closeable> open = new ArrayList<>();
  final Path dir;
  /** Small, so that tests see durable offsets advance within small envelopes; the store's default is 8 MiB. */
  long checkpointEveryBytes = 64 * 1024;

  Net(Path dir) {
    this.dir = dir;
  }

  static final class Holder {
    final Custodian custodian;
    final HolderProtocol protocol;
    final ProtocolServer server;

    Holder(Custodian custodian, HolderProtocol protocol, ProtocolServer server) {
      this.custodian = custodian;
      this.protocol = protocol;
      this.server = server;
    }

    URI uri() {
      return server.uri();
    }
  }

  static final class Destination {
    final DestinationKeyPair keys;
    final Inbox inbox;
    final ProtocolServer server;

    Destination(DestinationKeyPair keys, Inbox inbox, ProtocolServer server) {
      this.keys = keys;
      this.inbox = inbox;
      this.server = server;
    }

    URI uri() {
      return server.uri();
    }
  }

  Holder holder(String name, long quotaBytes) throws IOException {
    return holder(name, quotaBytes, 100, io.crowdbackup.engine.protocol.PeerIdentity.BY_ADDRESS);
  }

  Holder holder(String name, long quotaBytes, int peerSharePercent,
      io.crowdbackup.engine.protocol.PeerIdentity identity) throws IOException {
    Path d = dir.resolve(name);
    Files.createDirectories(d);
    RateLimit unshaped = RateLimit.of(RateLimit.MAX_BYTES_PER_SECOND, 1L << 30);
    Custodian c = Custodian.open(HolderConfig.newBuilder(d).limitBytes(quotaBytes).peerSharePercent(peerSharePercent)
        .ingress(unshaped, unshaped).egress(unshaped, unshaped).checkpointEveryBytes(checkpointEveryBytes).build());
    open.add(c);
    HolderProtocol p = HolderProtocol.newBuilder(c).peerIdentity(identity).build();
    open.add(p);
    ProtocolServer s = started(p::handle, name);
    return new Holder(c, p, s);
  }

  /** A destination whose locator is its own loopback URL (known only once its port is bound). */
  Destination destination(String name) throws IOException {
    return destination(name, b -> b);
  }

  /** As {@link #destination(String)}, with the protocol's builder adjusted by {@code options}. */
  Destination destination(String name, java.util.function.UnaryOperator<DestinationProtocol.Builder> options)
      throws IOException {
    AtomicReference<Function<ProtocolRequest, ProtocolResponse>> core = new AtomicReference<>();
    ProtocolServer s = started(req -> core.get().apply(req), name);
    DestinationKeyPair keys = Keys.generateDestination(s.uri().toString());
    Path d = dir.resolve(name);
    Files.createDirectories(d.resolve("inbox"));
    Inbox inbox = Inbox.newBuilder().directory(d.resolve("inbox")).keys(keys).open();
    open.add(inbox);
    DestinationProtocol p = options.apply(DestinationProtocol.newBuilder(DeliverySink.inbox(inbox),
        d.resolve("staging"))).build();
    core.set(p::handle);
    return new Destination(keys, inbox, s);
  }

  /** A server answering with {@code core}: for fake peers. */
  ProtocolServer started(Function<ProtocolRequest, ProtocolResponse> core, String name) throws IOException {
    ProtocolServer s = ProtocolServer.newBuilder(core).port(0).idleTimeout(IDLE).stopTimeout(Duration.ZERO)
        .maxThreads(16).name(name).build().start();
    open.add(0, s);
    return s;
  }

  /** Seals {@code plaintextBytes} random bytes to {@code to}, chunked small so that uploads have many pieces. */
  static Path seal(Path dir, String name, DestinationKeyPair to, int plaintextBytes, long seed) throws IOException {
    return seal(dir, name, to, plaintextBytes, seed, System.currentTimeMillis() / 1000 + 3600);
  }

  static Path seal(Path dir, String name, DestinationKeyPair to, int plaintextBytes, long seed, long expires)
      throws IOException {
    byte[] plain = new byte[plaintextBytes];
    new Random(seed).nextBytes(plain);
    SigningKeyPair source = Keys.generateSigning();
    SealRequest req = SealRequest.newBuilder().destination(to.card()).releaseKey(source.publicKey())
        .expiresAtEpochSecond(expires).name(name + ".bin").mediaType("application/octet-stream")
        .createdAtEpochMillis(1_700_000_000_000L).compression(Compression.OFF).chunkSizeBytes(16 * 1024).build();
    Path out = dir.resolve(name + ".cbe");
    try (EnvelopeSealer sealer = Envelopes.sealer();
        FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      SealResult r = sealer.seal(req, java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(plain)),
          plain.length, ch);
      if (r.envelopeLengthBytes() != ch.size()) {
        throw new IOException("sealed length " + r.envelopeLengthBytes() + " but wrote " + ch.size());
      }
    }
    return out;
  }

  static byte[] read(Path p) throws IOException {
    return Files.readAllBytes(p);
  }

  static ByteBuffer wrap(byte[] b) {
    return ByteBuffer.wrap(b);
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (Closeable c : open) {
      try {
        c.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
