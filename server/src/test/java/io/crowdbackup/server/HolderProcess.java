package io.crowdbackup.server;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * A holder service in its own JVM, for the crash and load tests: {@code HolderProcess <dir> [max threads]
 * <port file>} opens the holder on {@code dir} (a fixed upload-id secret, so upload URLs survive the
 * restart), writes its port to the port file once it listens, and serves until it is killed; each line on
 * stdin makes it print its heap use ({@link #heapReport}).
 */
public final class HolderProcess {
  private HolderProcess() {}

  public static void main(String[] args) throws Exception {
    Path dir = Paths.get(args[0]);
    Path portFile = Paths.get(args[args.length - 1]);
    int threads = args.length > 2 ? Integer.parseInt(args[1]) : 16;
    FaultHolder holder = new FaultHolder(dir, Duration.ofSeconds(5), threads);
    Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
    Files.write(tmp, Integer.toString(holder.server.port()).getBytes(StandardCharsets.US_ASCII));
    Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE);
    java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
        StandardCharsets.US_ASCII));
    while (in.readLine() != null) {
      System.out.println(heapReport());
      System.out.flush();
    }
    holder.server.join();
  }

  /**
   * {@code HEAP peak <bytes> live <bytes> max <bytes>}: the sum of the heap pools' peak use since start (an
   * upper bound on the peak heap), the heap in use right after a full GC (what is really held), the -Xmx.
   */
  static String heapReport() {
    long peak = 0;
    for (java.lang.management.MemoryPoolMXBean pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == java.lang.management.MemoryType.HEAP && pool.getPeakUsage() != null) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    System.gc();
    long live = java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    return "HEAP peak " + peak + " live " + live + " max " + Runtime.getRuntime().maxMemory();
  }
}
