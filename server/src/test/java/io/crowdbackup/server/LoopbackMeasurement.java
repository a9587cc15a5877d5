package io.crowdbackup.server;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.custody.Offer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A rough, one-off number, not the benchmark the issue asks for (that belongs in {@code bench} with JMH):
 * one envelope uploaded over loopback by {@link SourceClient} to a holder service, against the same
 * envelope put straight into a custodian, in one JVM. Run with the server module's test class path:
 * {@code java -cp ... io.crowdbackup.server.LoopbackMeasurement DIR [MiB]}.
 */
public final class LoopbackMeasurement {
  private LoopbackMeasurement() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createDirectories(Path.of(args[0]));
    int mib = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    try (Net net = new Net(dir)) {
      net.checkpointEveryBytes = 8L << 20; // the store's default
      Net.Destination home = net.destination("home");
      Path env = Net.seal(Files.createDirectories(dir.resolve("out")), "e", home.keys, mib << 20, 1);
      long length = Files.size(env);
      Fingerprint fp;
      long expires;
      try (FileChannel ch = FileChannel.open(env)) {
        expires = Envelopes.readHeader(ch).expiresAtEpochSecond();
        ch.position(0);
        fp = Envelopes.fingerprint(ch);
      }
      for (int round = 0; round < 3; round++) {
        Net.Holder direct = net.holder("direct-" + round, 4L << 30);
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(env)) {
          direct.custodian.receive(Offer.newBuilder().fingerprint(fp).declaredLengthBytes(length)
              .envelopeExpiresAtEpochSecond(expires).sourcePeer("direct").build(), ch);
        }
        long directNanos = System.nanoTime() - t0;
        Net.Holder wire = net.holder("wire-" + round, 4L << 30);
        t0 = System.nanoTime();
        SourceClient.newBuilder().holder(wire.uri()).replicas(1).build().send(List.of(env));
        long wireNanos = System.nanoTime() - t0;
        System.out.printf("%d MiB: direct put %.0f MiB/s, over loopback %.0f MiB/s (%.2fx)%n", mib,
            mib * 1e9 / directNanos, mib * 1e9 / wireNanos, (double) directNanos / wireNanos);
      }
    }
  }
}
