package io.crowdbackup.server;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.protocol.DeliverySink;
import io.crowdbackup.engine.protocol.DestinationProtocol;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * A destination server in its own JVM (the bounded-memory test runs it at {@code -Xmx64m}):
 * {@code DestinationProcess <dir> <key file> <port file>} serves an inbox in {@code dir/inbox}, writes its
 * port once it listens, and prints the peak heap use of each heap pool when a line arrives on stdin, then
 * stops.
 */
public final class DestinationProcess {
  private DestinationProcess() {}

  public static void main(String[] args) throws Exception {
    Path dir = Paths.get(args[0]);
    DestinationKeyPair keys = Keys.decodeDestination(Files.readString(Paths.get(args[1]), StandardCharsets.UTF_8));
    Path portFile = Paths.get(args[2]);
    Files.createDirectories(dir.resolve("inbox"));
    try (Inbox inbox = Inbox.newBuilder().directory(dir.resolve("inbox")).keys(keys).open();
        DestinationProtocol protocol = DestinationProtocol.newBuilder(DeliverySink.inbox(inbox), dir.resolve("staging"))
            .onError((what, e) -> e.printStackTrace()).build();
        ProtocolServer server = ProtocolServer.newBuilder(protocol::handle).port(0).idleTimeout(Duration.ofSeconds(60))
            .maxThreads(8).name("big-destination").build().start()) {
      Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
      Files.write(tmp, Integer.toString(server.port()).getBytes(StandardCharsets.US_ASCII));
      Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE);
      System.in.read();
      long peak = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
          peak += pool.getPeakUsage().getUsed();
        }
      }
      System.out.println("PEAK HEAP " + peak + " of max " + Runtime.getRuntime().maxMemory());
    }
  }
}
