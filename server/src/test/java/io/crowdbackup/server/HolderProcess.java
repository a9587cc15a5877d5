package io.crowdbackup.server;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * A holder service in its own JVM, for the crash test: {@code HolderProcess <dir> <port file>} opens the
 * holder on {@code dir} (a fixed upload-id secret, so upload URLs survive the restart), writes its port to
 * the port file once it listens, and serves until it is killed.
 */
public final class HolderProcess {
  private HolderProcess() {}

  public static void main(String[] args) throws Exception {
    Path dir = Paths.get(args[0]);
    Path portFile = Paths.get(args[1]);
    FaultHolder holder = new FaultHolder(dir, Duration.ofSeconds(5), 16);
    Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
    Files.write(tmp, Integer.toString(holder.server.port()).getBytes(StandardCharsets.US_ASCII));
    Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE);
    holder.server.join();
  }
}
