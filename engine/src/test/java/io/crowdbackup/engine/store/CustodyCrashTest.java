package io.crowdbackup.engine.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.Forward;
import io.crowdbackup.engine.policy.ManualTimeSource;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a holder ({@link CustodyCrashWorker}: a custodian taking custody uploads, storing its own
 * envelopes, forwarding both kinds) with SIGKILL mid-transfer, again and again. After each kill the holder
 * opens (the custodian checks its quota ledger against the store), no forward is left FORWARDING, every
 * acknowledged envelope is present, and reserved bytes are exactly the waiting uploads. At the end every
 * envelope can still be put and got, and once the holder is idle past the abandonment window and
 * evicted, nothing is reserved and no partial file is left.
 *
 * <p>Cycles: {@code -Dcrowdbackup.custodycrash.cycles=N} (default 8, about 15 s).
 */
class CustodyCrashTest {
  @TempDir
  Path dir;

  @Test
  void killedPutsGetsAndOwnPutsLeaveNothingStuck() throws Exception {
    int cycles = Integer.getInteger("crowdbackup.custodycrash.cycles", 8);
    Path holder = dir.resolve("holder");
    Files.createDirectories(holder);
    Path log = dir.resolve("ack.log");
    Files.createFile(log);
    SplittableRandom random = new SplittableRandom(Long.getLong("crowdbackup.crash.seed", 7));
    ManualTimeSource time = new ManualTimeSource(StoreTestSupport.NOW_EPOCH_SECOND * 1000);
    Set<Fingerprint> acknowledged = new HashSet<>();
    long started = System.nanoTime();
    long killedWithUploads = 0;
    for (int cycle = 0; cycle < cycles; cycle++) {
      acknowledged.addAll(runAndKill(CustodyCrashWorker.class, holder, log, random, cycle));
      String at = "cycle " + cycle + ": ";
      try (Custodian c = CustodyCrashWorker.open(holder, time)) { // rebuilds and checks the quota ledger
        for (Fingerprint fp : acknowledged) {
          BlobStat s = c.stat(fp);
          assertNotNull(s, at + "acknowledged envelope " + fp + " is gone");
          assertEquals(BlobState.HELD, s.state(), at + fp + ": an interrupted forward must be held again");
        }
        long reserved = 0;
        for (UploadInfo u : c.allUploads()) {
          reserved += u.request().declaredLengthBytes();
        }
        killedWithUploads += c.allUploads().isEmpty() ? 0 : 1;
        assertEquals(reserved, c.storeUsage().custodyReservedBytes() + c.storeUsage().ownReservedBytes(),
            at + "reserved bytes vs waiting uploads");
        assertEquals(c.storeUsage().custodyReservedBytes(), c.stats().reservedBytes(), at + "ledger vs store");
      }
    }

    // Every envelope can still be put (a waiting upload of it resumed) and got back byte for byte.
    try (Custodian c = CustodyCrashWorker.open(holder, time)) {
      for (int i = 0; i < CustodyCrashWorker.ENVELOPES; i++) {
        StoreTestSupport.Env e = CustodyCrashWorker.envelope(i);
        if (c.stat(e.fingerprint) == null) {
          UploadInfo waiting = c.allUploads().stream().filter(u -> u.request().fingerprint().equals(e.fingerprint))
              .findFirst().orElse(null);
          if (waiting != null && waiting.request().kind() == BlobKind.OWN) {
            c.putOwn(e.fingerprint, e.bytes.length, CustodyStoreContractTest.in(e.bytes));
          } else {
            String peer = waiting == null ? "peer-0" : waiting.request().sourcePeer();
            c.receive(CustodyCrashWorker.offer(e, peer), CustodyStoreContractTest.in(e.bytes));
          }
        }
        BlobStat s = c.stat(e.fingerprint);
        try (Forward f = c.beginForward(e.fingerprint, s.locator())) {
          assertArrayEquals(e.bytes, StoreTestSupport.readAll(f.channel()), "envelope " + i);
        }
      }
    }
    // Leave one upload waiting, then let the holder sit idle past the window: eviction frees everything.
    try (Custodian c = CustodyCrashWorker.open(holder, time)) {
      StoreTestSupport.Env extra = CustodyCrashWorker.envelope(CustodyCrashWorker.ENVELOPES);
      var u = c.accept(CustodyCrashWorker.offer(extra, "peer-9"));
      u.write(java.nio.ByteBuffer.wrap(extra.bytes, 0, extra.bytes.length / 2));
      u.close();
      assertNotEquals(0, c.stats().reservedBytes());
    }
    time.advanceSeconds(7 * 3600);
    try (Custodian c = CustodyCrashWorker.open(holder, time)) {
      c.evictExpired();
      assertEquals(List.of(), c.allUploads());
      assertEquals(0, c.stats().reservedBytes());
      assertEquals(0, c.storeUsage().custodyReservedBytes() + c.storeUsage().ownReservedBytes());
    }
    try (var partial = Files.list(holder.resolve(io.crowdbackup.engine.custody.HolderConfig.BLOBS_DIR).resolve(FileCustodyStore.PARTIAL_DIR))) {
      assertEquals(0, partial.count(), "partial files left behind");
    }
    System.out.printf("custody crash test: %d SIGKILL cycles, %d acknowledged envelopes, %d kills left uploads"
        + " waiting, %.1f s%n", cycles, acknowledged.size(), killedWithUploads, (System.nanoTime() - started) / 1e9);
    assertTrue(acknowledged.size() >= 2, "the children stored too little to prove anything");
  }

  /**
   * Kills a phone ({@link SealOwnCrashWorker}) sealing into its own store, known and unknown lengths, mid-seal.
   * After each kill, before the holder opens, the seal's partial file or spool is there; once it has opened
   * they are gone, nothing is reserved, and every acknowledged envelope is held under the fingerprint of its
   * bytes. Cycles: {@code -Dcrowdbackup.sealcrash.cycles=N} (default 6).
   */
  @Test
  void killedSealsIntoTheOwnStoreLeaveNothingVisibleAndTheirLeftoversGoAtTheNextOpen() throws Exception {
    int cycles = Integer.getInteger("crowdbackup.sealcrash.cycles", 6);
    Path holder = dir.resolve("phone");
    Files.createDirectories(holder);
    Path log = dir.resolve("seal.log");
    Files.createFile(log);
    Path store = holder.resolve(io.crowdbackup.engine.custody.HolderConfig.BLOBS_DIR);
    SplittableRandom random = new SplittableRandom(Long.getLong("crowdbackup.crash.seed", 11));
    ManualTimeSource time = new ManualTimeSource(StoreTestSupport.NOW_EPOCH_SECOND * 1000);
    Set<Fingerprint> acknowledged = new HashSet<>();
    int killedWithLeftovers = 0;
    for (int cycle = 0; cycle < cycles; cycle++) {
      acknowledged.addAll(runAndKill(SealOwnCrashWorker.class, holder, log, random, cycle));
      String at = "cycle " + cycle + ": ";
      killedWithLeftovers += filesIn(store.resolve(FileCustodyStore.PARTIAL_DIR))
          + filesIn(store.resolve(FileCustodyStore.SPOOL_DIR)) > 0 ? 1 : 0;
      try (Custodian c = CustodyCrashWorker.open(holder, time)) {
        assertEquals(0, filesIn(store.resolve(FileCustodyStore.PARTIAL_DIR)), at + "partial seal files left");
        assertEquals(0, filesIn(store.resolve(FileCustodyStore.SPOOL_DIR)), at + "spools left");
        assertEquals(List.of(), c.allUploads(), at);
        assertEquals(0, c.storeUsage().ownReservedBytes() + c.storeUsage().uploadCount(), at + c.storeUsage());
        // A seal the kill caught between its commit and its log line is visible but not acknowledged:
        // allowed, as long as it is whole. Every acknowledged one must be there.
        Set<Fingerprint> visible = new HashSet<>();
        for (BlobStat own : c.ownEnvelopes()) {
          visible.add(own.fingerprint());
        }
        assertTrue(visible.containsAll(acknowledged), at + "acknowledged " + acknowledged + ", visible " + visible);
        assertTrue(visible.size() <= acknowledged.size() + 1, at + "more than the one seal a kill can catch");
        acknowledged.addAll(visible); // from now on it must stay, as an acknowledged one
        for (Fingerprint fp : visible) {
          BlobStat s = c.stat(fp);
          assertNotNull(s, at + "envelope " + fp + " is gone");
          assertEquals(BlobKind.OWN, s.kind());
          try (java.nio.channels.ReadableByteChannel in = c.openOwn(fp, "peer")) {
            assertEquals(fp, io.crowdbackup.engine.Envelopes.fingerprint(in), at + "bytes vs name");
          }
        }
      }
    }
    System.out.printf("seal crash test: %d SIGKILL cycles, %d acknowledged seals, %d kills left a partial seal or"
        + " spool%n", cycles, acknowledged.size(), killedWithLeftovers);
    assertTrue(killedWithLeftovers >= 1, "no kill landed mid-seal: the test proved nothing");
    assertTrue(acknowledged.size() >= 2, "the children sealed too little to prove anything");
  }

  /**
   * Starts {@code worker} on {@code holder}, lets it work for 0.3-1.5 s once it is ready, kills it with
   * SIGKILL, and returns the fingerprints its log acknowledges so far; fails on a line the child logged as
   * an error.
   */
  private Set<Fingerprint> runAndKill(Class<?> worker, Path holder, Path log, SplittableRandom random, int cycle)
      throws Exception {
    long readyBefore = count(log, "READY");
    Process child = start(worker, holder, log, random.nextLong());
    try {
      waitForReady(child, log, readyBefore, cycle);
      Thread.sleep(random.nextInt(300, 1500));
    } finally {
      child.destroyForcibly();
      assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not die");
    }
    Set<Fingerprint> acknowledged = new HashSet<>();
    for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
      if (line.startsWith("ERROR")) {
        fail("child failed in cycle " + cycle + ": " + line + output());
      }
      if (line.startsWith("HELD ")) {
        acknowledged.add(Fingerprint.fromHex(line.substring(5)));
      }
    }
    return acknowledged;
  }

  private static long filesIn(Path folder) throws IOException {
    try (var s = Files.list(folder)) {
      return s.count();
    }
  }

  private Process start(Class<?> worker, Path holder, Path log, long seed) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx128m");
    cmd.add("-XX:TieredStopAtLevel=1");
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-")) {
        cmd.add(a);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(worker.getName());
    cmd.add(holder.toString());
    cmd.add(log.toString());
    cmd.add(Long.toString(seed));
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("child.out").toFile())).start();
  }

  private static long count(Path log, String line) throws IOException {
    return Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(line::equals).count();
  }

  private void waitForReady(Process child, Path log, long readyBefore, int cycle) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      for (String line : lines) {
        if (line.startsWith("ERROR")) {
          fail("child failed in cycle " + cycle + ": " + line + output());
        }
      }
      if (lines.stream().filter("READY"::equals).count() > readyBefore) {
        return;
      }
      if (!child.isAlive()) {
        fail("child exited with " + child.exitValue() + " in cycle " + cycle + output());
      }
      Thread.sleep(10);
    }
    fail("child not ready after 60 s in cycle " + cycle + output());
  }

  private String output() throws IOException {
    Path out = dir.resolve("child.out");
    return Files.exists(out) ? "\n" + new String(Files.readAllBytes(out), StandardCharsets.UTF_8) : "";
  }
}
