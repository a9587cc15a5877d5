package io.crowdbackup.engine.store;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.engine.envelope.EnvelopeScanner;
import io.crowdbackup.engine.store.StoreFormat.FormatProblem;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a child JVM ({@link CrashWorker}) with SIGKILL at random moments while it works on a store, then
 * opens the store and checks it against everything the child had been told was done: every acknowledged
 * blob present, in its acknowledged state, and reading back to its fingerprint; no upload visible before
 * its commit; every checkpointed upload resumable from at least its acknowledged offset; and the store's
 * byte accounting equal to the blob files on disk.
 *
 * <p>Cycles: {@code -Dcrowdbackup.crash.cycles=N} (default {@link #defaultCycles()}). For 1,000:
 * {@code mvn -o -Dquick -pl api,engine test -Dtest=CrashTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dcrowdbackup.crash.cycles=1000}.
 */
public abstract class CrashTestBase {
  @TempDir
  Path dir;

  protected abstract String index();

  protected abstract int defaultCycles();

  private enum Expect { UNKNOWN, HELD, FORWARDING, DELIVERED, ABSENT }

  private final Map<Fingerprint, Expect> expect = new HashMap<>();
  private final Map<Fingerprint, Long> minDurable = new HashMap<>();
  /** Blobs whose expectation changed since the last check: their bytes are always read back. */
  private final java.util.Set<Fingerprint> touched = new java.util.HashSet<>();
  private final SplittableRandom sample = new SplittableRandom(1);
  private long logOffset;
  private long acknowledged;
  private long resumed;

  @Test
  void everyAcknowledgedBlobSurvivesSigkill() throws Exception {
    int cycles = Integer.getInteger("crowdbackup.crash.cycles", defaultCycles());
    Path storeDir = dir.resolve("store");
    Path log = dir.resolve("ack.log");
    Files.createFile(log);
    SplittableRandom random = new SplittableRandom(Long.getLong("crowdbackup.crash.seed", 42));
    long started = System.nanoTime();
    for (int cycle = 0; cycle < cycles; cycle++) {
      Process child = startChild(storeDir, log, random.nextLong());
      try {
        waitForReady(child, log, cycle);
        if (cycle == 0) {
          // While the child owns the store, this process is kept out by the OS lock, with a clear reason.
          StoreException e = assertThrows(StoreException.class,
              () -> FileCustodyStore.open(CrashWorker.config(storeDir, index()).build()));
          assertEquals(StoreException.Reason.LOCKED_BY_OTHER_PROCESS, e.reason(), e.getMessage());
        }
        Thread.sleep(random.nextInt(100, 1200));
      } finally {
        child.destroyForcibly(); // SIGKILL on Linux
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not die");
      }
      readLog(log, cycle);
      FileCustodyStore store = FileCustodyStore.open(CrashWorker.config(storeDir, index()).build());
      try {
        assertFalse(store.openedClean(), "a killed store must not look cleanly closed");
        check(store, storeDir, cycle);
      } finally {
        store.close();
      }
      if (random.nextBoolean()) {
        Files.delete(storeDir.resolve(FileCustodyStore.CLEAN_FILE)); // the child then starts dirty too
      }
    }
    System.out.printf("crash test (%s index): %d SIGKILL cycles, %d acknowledged operations, %d resumed uploads,"
        + " %.1f s%n", index(), cycles, acknowledged, resumed, (System.nanoTime() - started) / 1e9);
    assertTrue(acknowledged > cycles, "the child acknowledged too little work to prove anything: " + acknowledged);
  }

  private Process startChild(Path storeDir, Path log, long seed) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-XX:TieredStopAtLevel=1"); // starts faster; the child is short-lived
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("-Dchronicle")) {
        cmd.add(a);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(CrashWorker.class.getName());
    cmd.add(storeDir.toString());
    cmd.add(log.toString());
    cmd.add(Long.toString(seed));
    cmd.add(index());
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("child.out").toFile())).start();
  }

  private void waitForReady(Process child, Path log, int cycle) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      String tail = tail(log);
      if (tail.contains("READY\n")) {
        return;
      }
      if (tail.contains("ERROR")) {
        fail("child failed in cycle " + cycle + ": " + tail + childOutput());
      }
      if (!child.isAlive()) {
        fail("child exited with " + child.exitValue() + " in cycle " + cycle + childOutput());
      }
      Thread.sleep(10);
    }
    fail("child not ready after 60 s in cycle " + cycle + childOutput());
  }

  /** The log from {@link #logOffset} on: reading only what is new keeps long runs linear. */
  private String tail(Path log) throws IOException {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(log, StandardOpenOption.READ)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) Math.max(0, ch.size() - logOffset));
      while (b.hasRemaining() && ch.read(b, logOffset + b.position()) > 0) {
        // fill
      }
      return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
    }
  }

  private String childOutput() throws IOException {
    Path out = dir.resolve("child.out");
    return Files.exists(out) ? "\n" + new String(Files.readAllBytes(out), StandardCharsets.UTF_8) : "";
  }

  private void readLog(Path log, int cycle) throws IOException {
    String text = tail(log);
    int end = text.lastIndexOf('\n') + 1; // a line is one write(2); a kill cannot tear it, but be safe
    logOffset += text.substring(0, end).getBytes(StandardCharsets.UTF_8).length;
    for (String line : text.substring(0, end).split("\n")) {
      if (line.isEmpty() || line.equals("READY")) {
        continue;
      }
      String[] p = line.split(" ");
      if (p[0].equals("ERROR")) {
        fail("child failed in cycle " + cycle + ": " + line + childOutput());
      }
      Fingerprint fp = Fingerprint.fromHex(p[p[0].equals("PUT") || p[0].equals("UPLOAD") ? 2 : 1]);
      touched.add(fp);
      switch (p[0]) {
        case "PUT":
        case "COMMIT":
        case "DELETE":
        case "STATE":
          expect.put(fp, Expect.UNKNOWN);
          minDurable.remove(fp);
          break;
        case "UPLOAD":
          break;
        case "PUT_OK":
        case "COMMIT_OK":
          expect.put(fp, Expect.HELD);
          acknowledged++;
          break;
        case "DELETE_OK":
          expect.put(fp, Expect.ABSENT);
          acknowledged++;
          break;
        case "STATE_OK":
          expect.put(fp, Expect.valueOf(p[2]));
          acknowledged++;
          break;
        case "DURABLE":
          if (Long.parseLong(p[2]) > 0) {
            // Durable at 0 promises nothing: recovery removes an upload that never checkpointed a piece.
            minDurable.put(fp, Long.parseLong(p[2]));
          }
          acknowledged++;
          break;
        case "RESUMED":
          resumed++;
          long offset = Long.parseLong(p[2]);
          long min = minDurable.getOrDefault(fp, 0L);
          assertTrue(offset >= min, "cycle " + cycle + ": " + fp + " resumed at " + offset
              + " but " + min + " had been acknowledged durable");
          break;
        case "READ_OK":
          acknowledged++;
          break;
        default:
          fail("unknown log line " + line);
      }
    }
  }

  private void check(FileCustodyStore store, Path storeDir, int cycle) throws IOException {
    String at = "cycle " + cycle + ": ";
    Map<Fingerprint, BlobStat> listed = new HashMap<>();
    for (BlobStat s : store.list()) {
      listed.put(s.fingerprint(), s);
      assertTrue(expect.containsKey(s.fingerprint()), at + "a blob nobody put is visible: " + s);
    }
    for (Map.Entry<Fingerprint, Expect> e : expect.entrySet()) {
      Fingerprint fp = e.getKey();
      BlobStat s = listed.get(fp);
      switch (e.getValue()) {
        case HELD:
        case FORWARDING:
          assertNotNull(s, at + "acknowledged blob " + fp + " is missing");
          assertEquals(e.getValue().name(), s.state().name(), at + fp);
          // Every blob touched in this cycle, and a sample of the rest, is read back in full.
          if (touched.contains(fp) || sample.nextInt(expect.size()) < 100) {
            assertEquals(fp, EnvelopeScanner.scan(store.open(fp)), at + "blob " + fp + " reads back wrong");
          }
          break;
        case DELIVERED:
          assertNotNull(s, at + "delivered blob " + fp + " was forgotten");
          assertEquals(BlobState.DELIVERED, s.state(), at + fp);
          break;
        case ABSENT:
          assertNull(s, at + "deleted blob " + fp + " came back");
          break;
        default:
          break;
      }
    }
    touched.clear();
    Map<Fingerprint, UploadInfo> uploads = new HashMap<>();
    for (UploadInfo u : store.uploads()) {
      uploads.put(u.request().fingerprint(), u);
    }
    for (Map.Entry<Fingerprint, Long> d : minDurable.entrySet()) {
      Fingerprint fp = d.getKey();
      assertNull(listed.get(fp), at + "upload " + fp + " is visible before its commit");
      UploadInfo u = uploads.get(fp);
      assertNotNull(u, at + "checkpointed upload " + fp + " is gone");
      assertTrue(u.durableOffsetBytes() >= d.getValue(), at + "upload " + fp + " resumes at "
          + u.durableOffsetBytes() + ", below the acknowledged " + d.getValue());
    }
    // Byte accounting against what is on disk.
    long custody = 0;
    long own = 0;
    long count = 0;
    try (Stream<Path> files = Files.walk(storeDir.resolve(FileCustodyStore.GROUPS_DIR))) {
      for (Path p : files.filter(f -> f.toString().endsWith(".blob")).collect(Collectors.toList())) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
          BlobFile bf = BlobFile.read(ch);
          if (bf.header.kind == io.crowdbackup.api.store.BlobKind.CUSTODY) {
            custody += bf.header.declaredLengthBytes;
          } else {
            own += bf.header.declaredLengthBytes;
          }
          count++;
        } catch (FormatProblem e) {
          fail(at + "a committed blob file is damaged: " + p + ": " + e.getMessage());
        }
      }
    }
    StoreUsage usage = store.usage();
    assertEquals(custody, usage.custodyHeldBytes(), at + "custody bytes held vs on disk");
    assertEquals(own, usage.ownHeldBytes(), at + "own bytes held vs on disk");
    assertEquals(count, usage.blobCount(), at + "blob count vs files on disk");
    long reserved = 0;
    for (UploadInfo u : uploads.values()) {
      reserved += u.request().declaredLengthBytes();
    }
    assertEquals(reserved, usage.custodyReservedBytes() + usage.ownReservedBytes(), at + "reserved bytes");
    try (Stream<Path> files = Files.list(storeDir.resolve(FileCustodyStore.PARTIAL_DIR))) {
      // .part and .pieces per upload, and a .tail for those that checkpointed inside a piece.
      Map<Boolean, Long> byTail = files.collect(java.util.stream.Collectors.partitioningBy(
          f -> f.getFileName().toString().endsWith(FileCustodyStore.TAIL_SUFFIX), java.util.stream.Collectors.counting()));
      assertEquals(2L * uploads.size(), byTail.get(false), at + "partial files vs uploads");
      assertTrue(byTail.get(true) <= uploads.size(), at + "tail files vs uploads: " + byTail);
    }
    if (!uploads.isEmpty()) {
      // The resume path itself: cut back, replay digests, re-read at most the last piece.
      Fingerprint fp = uploads.keySet().iterator().next();
      store.resume(fp).close();
    }
  }
}
