package io.crowdbackup.cli;

import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.engine.custody.CustodyStats;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * What ended custody and what was refused, added up over every {@code store} command run on a holder
 * folder. The custodian's own counters ({@link CustodyStats}) start at zero each time it is opened, and
 * each command opens it afresh, so {@code store stats} reads these totals from {@value #FILE_NAME}: lines
 * of {@code name count}, rewritten whole (temporary file, rename) when a command ends. Best effort: a
 * command killed before it ends does not add its counts, and a damaged file starts the totals again.
 */
final class HolderCounters {
  static final String FILE_NAME = "counters";
  private static final int MAX_FILE_BYTES = 64 * 1024;

  private final Map<String, Long> counts = new TreeMap<>();
  private boolean damaged;

  static HolderCounters read(Path dir) {
    HolderCounters c = new HolderCounters();
    Path file = dir.resolve(FILE_NAME);
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        c.damaged = true;
        return c;
      }
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (line.isBlank()) {
          continue;
        }
        String[] parts = line.strip().split(" ");
        if (parts.length != 2 || !parts[0].matches("[A-Za-z_.]{1,64}")) {
          throw new NumberFormatException(line);
        }
        long v = Long.parseLong(parts[1]);
        if (v < 0) {
          throw new NumberFormatException(line);
        }
        c.counts.put(parts[0], v);
      }
    } catch (NoSuchFileException e) {
      return c;
    } catch (IOException | NumberFormatException e) {
      c.counts.clear();
      c.damaged = true;
    }
    return c;
  }

  /** Whether the file was damaged and the totals started again. */
  boolean damaged() {
    return damaged;
  }

  long get(String name) {
    return counts.getOrDefault(name, 0L);
  }

  /** Refusal counts by reason, only the non-zero ones. */
  Map<String, Long> refusals() {
    return withPrefix("refused.");
  }

  /** Receipt and release refusals by reason, only the non-zero ones. */
  Map<String, Long> receiptRefusals() {
    return withPrefix("receiptRefused.");
  }

  private Map<String, Long> withPrefix(String prefix) {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> {
      if (k.startsWith(prefix) && v > 0) {
        out.put(k.substring(prefix.length()), v);
      }
    });
    return out;
  }

  /** Adds what one opening of the custodian counted. */
  void add(CustodyStats s) {
    for (Map.Entry<Refusal.Reason, Long> e : s.refusalsByReason().entrySet()) {
      add("refused." + e.getKey().name(), e.getValue());
    }
    for (Map.Entry<ReceiptException.Reason, Long> e : s.receiptRefusals().entrySet()) {
      add("receiptRefused." + e.getKey().name(), e.getValue());
    }
    add("droppedByReceipt", s.deliveredByReceiptCount());
    add("droppedByRelease", s.releasedCount());
    add("evicted", s.evictedCount());
    add("evictedBytes", s.evictedBytes());
    add("quarantined", s.quarantinedCount());
    add("damagedLogRecords", s.damagedLogRecordCount());
  }

  private void add(String name, long v) {
    if (v != 0) {
      counts.merge(name, v, Long::sum);
    }
  }

  void write(Path dir) throws IOException {
    StringBuilder b = new StringBuilder();
    counts.forEach((k, v) -> b.append(k).append(' ').append(v).append('\n'));
    Path temp = dir.resolve(FILE_NAME + ".tmp");
    Files.write(temp, b.toString().getBytes(StandardCharsets.UTF_8));
    Files.move(temp, dir.resolve(FILE_NAME), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
