package io.crowdbackup.engine.store;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.*;
import static java.nio.file.StandardOpenOption.*;

/**
 * The measurement behind docs/decisions/0002-store-layout.md: file-per-blob (temp file, write, fsync,
 * rename, fsync both directories) against appending to one segment with an fsync per blob, and the raw
 * sequential limit. Run: {@code java engine/src/test/java/io/crowdbackup/engine/store/LayoutMeasurement.java DIR}
 * (a single-file program; DIR must not exist yet and is left behind).
 */
public class LayoutMeasurement {
  public static void main(String[] a) throws Exception {
    Path root = Paths.get(a[0]);
    int[] sizes = {64 * 1024, 1 << 20, 16 << 20};
    int[] counts = {400, 100, 8};
    for (int s = 0; s < sizes.length; s++) {
      byte[] data = new byte[sizes[s]];
      new java.util.Random(1).nextBytes(data);
      for (int rep = 0; rep < 2; rep++) {
        Path d1 = Files.createDirectories(root.resolve("fpb" + s + rep));
        Path tmp = Files.createDirectories(d1.resolve("partial"));
        long t0 = System.nanoTime();
        for (int i = 0; i < counts[s]; i++) {
          Path p = tmp.resolve("b" + i);
          try (FileChannel ch = FileChannel.open(p, CREATE_NEW, WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data); while (b.hasRemaining()) ch.write(b);
            ch.force(false);
          }
          Files.move(p, d1.resolve("b" + i), StandardCopyOption.ATOMIC_MOVE);
          try (FileChannel dc = FileChannel.open(d1, READ)) { dc.force(true); }
          try (FileChannel dc = FileChannel.open(tmp, READ)) { dc.force(true); }
        }
        long t1 = System.nanoTime();
        Path seg = root.resolve("seg" + s + rep);
        try (FileChannel ch = FileChannel.open(seg, CREATE_NEW, WRITE)) {
          for (int i = 0; i < counts[s]; i++) {
            ByteBuffer b = ByteBuffer.wrap(data); while (b.hasRemaining()) ch.write(b);
            ch.force(false);
          }
        }
        long t2 = System.nanoTime();
        // raw limit: one file, write all, one fsync
        Path lim = root.resolve("lim" + s + rep);
        try (FileChannel ch = FileChannel.open(lim, CREATE_NEW, WRITE)) {
          for (int i = 0; i < counts[s]; i++) { ByteBuffer b = ByteBuffer.wrap(data); while (b.hasRemaining()) ch.write(b); }
          ch.force(false);
        }
        long t3 = System.nanoTime();
        double mb = (double) sizes[s] * counts[s] / (1 << 20);
        System.out.printf("size=%dKiB n=%d rep=%d  file-per-blob(2 dir fsync) %.0f/s %.1f MiB/s | segment append+fsync %.0f/s %.1f MiB/s | one fsync at end %.1f MiB/s%n",
            sizes[s] / 1024, counts[s], rep,
            counts[s] / ((t1 - t0) / 1e9), mb / ((t1 - t0) / 1e9),
            counts[s] / ((t2 - t1) / 1e9), mb / ((t2 - t1) / 1e9), mb / ((t3 - t2) / 1e9));
      }
    }
  }
}
