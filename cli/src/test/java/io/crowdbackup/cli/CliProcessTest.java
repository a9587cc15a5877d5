package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;

/** The end-to-end scenarios against the compiled classes, in a child JVM: part of {@code mvn test}. */
class CliProcessTest extends CliScenarios {
  @Override
  List<String> launcher() {
    return List.of(javaBinary(), "-cp", System.getProperty("java.class.path"), Main.class.getName());
  }

  /**
   * {@code kill -9} of a receiving process at random moments: the inbox holds either nothing or the whole
   * file, never a part, and the delivery that finally completes is recognised from then on.
   */
  @Test
  void aReceiveKilledAtRandomMomentsLeavesNoPartialFile() throws Exception {
    keygen();
    byte[] data = new byte[24 * 1024 * 1024];
    Random random = new Random(4);
    random.nextBytes(data);
    Files.write(dir.resolve("big.mov"), data);
    Run sealed = ok("seal", "--to", "keys/destination.card", "--out", "env", "big.mov");
    Matcher m = FINGERPRINT.matcher(sealed.out);
    assertTrue(m.find(), sealed.out);
    String envelope = m.group(2);
    Path inbox = dir.resolve("inbox");
    int killedBeforeDone = 0;
    int killedMidWrite = 0;
    for (int i = 0; i < 8; i++) {
      List<String> command = new ArrayList<>(launcher());
      command.addAll(List.of("receive", "--key", "keys/destination.key", "--inbox", "inbox", envelope));
      Process p = new ProcessBuilder(command).directory(dir.toFile())
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      // From inside JVM start-up to past the end of the delivery (about 2 s here).
      Thread.sleep(300 + random.nextInt(3000));
      p.destroyForcibly(); // SIGKILL on Linux
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      if (p.exitValue() != 0) {
        killedBeforeDone++;
      }
      for (String name : visible(inbox)) {
        if (name.startsWith(".crowdbackup-tmp-")) {
          killedMidWrite++;
        } else {
          assertEquals("big.mov", name, "only the final name may appear");
          assertArrayEquals(data, Files.readAllBytes(inbox.resolve(name)), "a published file is whole");
        }
      }
    }
    Run last = ok("receive", "--key", "keys/destination.key", "--inbox", "inbox", envelope);
    assertEquals(List.of("big.mov"), visible(inbox), last.out + last.err);
    assertArrayEquals(data, Files.readAllBytes(inbox.resolve("big.mov")));
    Run again = ok("receive", "--key", "keys/destination.key", "--inbox", "inbox", envelope);
    assertTrue(again.out.contains("duplicate"), again.out);
    System.out.println("kill -9 cycles: " + killedBeforeDone + " of 8 interrupted a delivery, " + killedMidWrite
        + " of them while the temporary file was being written");
  }

  /**
   * The demo's exit code depends on its check: a recovered file that differs from its original, and a file
   * whose only live copies fail verification in the holders' stores, each make it exit 8 and say why.
   */
  @Test
  void theDemoFailsWhenARecoveredFileDiffersOrALiveReplicaIsNotRecovered() throws Exception {
    Run differs = run("demo", "--seed", "1", "--json", "--inject-fault", "corrupt-delivery");
    assertEquals(ExitCodes.DEMO_CHECK_FAILED, differs.exitCode, differs.toString());
    assertEquals(1, num(differs.out, "differing"), differs.out);
    assertTrue(differs.out.contains("\"ok\":false"), differs.out);
    assertTrue(differs.err.contains("\"reason\":\"CHECK_FAILED\""), differs.err);
    assertTrue(differs.err.contains("differs from its original"), differs.err);

    Run lostLive = run("demo", "--seed", "1", "--inject-fault", "corrupt-replica");
    assertEquals(ExitCodes.DEMO_CHECK_FAILED, lostLive.exitCode, lostLive.toString());
    assertTrue(lostLive.out.contains("Check: FAILED"), lostLive.out);
    assertTrue(lostLive.out.contains("had a live copy on"), lostLive.out);
    assertTrue(lostLive.out.contains("copies failed verification, quarantined"), lostLive.out);
    assertOneLineError(lostLive, ExitCodes.DEMO_CHECK_FAILED, "but was not recovered");
  }

  /**
   * The store's policy through the command line: settings from the file, quota, retention, rm, a source's
   * release, a forged receipt, eviction, and the totals. Here only (not in CliJarIT): it proves the
   * commands, not the packaging, and costs twenty process starts.
   */
  @Test
  void theStoreKeepsItsQuotaShareAndRetentionAndRefusesForgedReceipts() throws Exception {
    keygen();
    ok("keygen", "--signing", "--out", "me");
    // Settings in a file, written by 'config --save'.
    Run saved = ok("store", "--dir", "h", "--quota", "400KiB", "--peer-share", "100%", "--max-retention", "1h",
        "config", "--save");
    assertTrue(saved.out.contains("(option)") && saved.out.contains("saved to"), saved.out);
    String conf = Files.readString(dir.resolve("h/store.conf"));
    assertTrue(conf.contains("quota = 400KiB") && conf.contains("max-retention = 1h"), conf);

    Random random = new Random(6);
    for (String name : List.of("a.jpg", "b.jpg")) {
      byte[] data = new byte[250_000];
      random.nextBytes(data);
      Files.write(dir.resolve(name), data);
    }
    String[] a = seal("a.jpg", "--signing-key", "me/signing.key");
    String[] b = seal("b.jpg");
    // rm: the operator's own decision; everything about the blob is forgotten, so it can be taken again.
    ok("store", "--dir", "h", "put", "--from", "alice", a[1]);
    assertTrue(ok("store", "--dir", "h", "rm", a[0]).out.contains(a[0] + "  removed"));
    ok("store", "--dir", "h", "put", "--from", "alice", a[1]);
    // Quota: 400 KiB cannot hold two 250 KB envelopes. One line, exit 7, and the numbers in --json.
    assertOneLineError(run("store", "--dir", "h", "put", "--from", "bob", b[1]), ExitCodes.REFUSED, "QUOTA_FULL");
    Run json = run("store", "--dir", "h", "put", "--json", "--from", "bob", b[1]);
    assertEquals(ExitCodes.REFUSED, json.exitCode, json.toString());
    assertTrue(json.err.contains("\"reason\":\"QUOTA_FULL\""), json.err);
    assertTrue(num(json.err, "acceptableBytes") < Files.size(dir.resolve(b[1])), json.err);

    // A release signed by the source drops its envelope (the header carries the source's release key).
    io.crowdbackup.api.SigningKeyPair me = io.crowdbackup.engine.keys.Keys.decodeSigning(
        Files.readString(dir.resolve("me/signing.key")));
    byte[] release = io.crowdbackup.engine.receipt.Receipts.encode(io.crowdbackup.engine.receipt.Receipts.signRelease(
        me, io.crowdbackup.api.Fingerprint.fromHex(a[0]), System.currentTimeMillis() / 1000));
    Files.write(dir.resolve("a.release"), release);
    assertTrue(ok("store", "--dir", "h", "release", "a.release").out.contains("dropped  (release verified"));

    // Retention: the envelope asks for 12 h, the holder keeps 1 h; with --full-retention that is a refusal.
    assertOneLineError(run("store", "--dir", "h", "put", "--from", "bob", "--full-retention", b[1]),
        ExitCodes.REFUSED, "TTL_TOO_LONG");
    Run capped = ok("store", "--dir", "h", "put", "--json", "--from", "bob", b[1]);
    assertTrue(num(capped.out, "expiresAtEpochSecond") <= System.currentTimeMillis() / 1000 + 3600, capped.out);

    // A forged receipt (one flipped signature bit) is refused and the blob stays.
    ok("store", "--dir", "h", "get", "--out", "fwd", b[0]);
    ok("receive", "--key", "keys/destination.key", "--inbox", "inbox", "--receipts", "receipts",
        "fwd/" + b[0] + ".cbe");
    byte[] receipt = Files.readAllBytes(dir.resolve("receipts/" + b[0] + ".receipt"));
    receipt[receipt.length - 1] ^= 1;
    Files.write(dir.resolve("forged.receipt"), receipt);
    assertOneLineError(run("store", "--dir", "h", "release", "forged.receipt"), ExitCodes.REFUSED, "BAD_SIGNATURE");

    // Expiry: two hours later (a hidden clock offset, so the test does not wait) the 1 h custody is evicted.
    Run evicted = ok("store", "--dir", "h", "--clock-offset", "2h", "evict", "--json");
    assertEquals(1, num(evicted.out, "custodyEvicted"), evicted.out);
    assertEquals(Files.size(dir.resolve(b[1])), num(evicted.out, "custodyEvictedBytes"), evicted.out);

    Run stats = ok("store", "--dir", "h", "stats");
    assertTrue(stats.out.contains("refusals       QUOTA_FULL 2, TTL_TOO_LONG 1"), stats.out);
    assertTrue(stats.out.contains("receipts refused  BAD_SIGNATURE 1"), stats.out);
    assertTrue(stats.out.contains("dropped        0 by receipt, 1 by release"), stats.out);
    assertTrue(stats.out.contains("evicted        1 ("), stats.out);
    assertTrue(stats.out.contains("quota          0 B of 400 KiB used"), stats.out);
  }

  // ---------------------------------------------------------------------------------------------------
  // Interrupts: SIGTERM (what Ctrl-C's SIGINT also does) must leave no temporary file behind.

  /** Starts crowdbackup with {@code args}, its output discarded. */
  Process start(String... args) throws java.io.IOException {
    List<String> command = new ArrayList<>(launcher());
    command.addAll(List.of(args));
    return new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  /** Our temporary files in {@code folder}. */
  static List<Path> temps(Path folder) throws java.io.IOException {
    List<Path> out = new ArrayList<>();
    if (Files.isDirectory(folder)) {
      try (java.nio.file.DirectoryStream<Path> s = Files.newDirectoryStream(folder, ".crowdbackup-tmp-*")) {
        s.forEach(out::add);
      }
    }
    return out;
  }

  /** Waits until a temporary file in {@code folder} holds at least {@code minBytes}; fails if {@code p} ends first. */
  static void awaitTemp(Path folder, long minBytes, Process p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      for (Path t : temps(folder)) {
        try {
          if (Files.size(t) >= minBytes) {
            return;
          }
        } catch (java.nio.file.NoSuchFileException gone) {
          // published or removed meanwhile
        }
      }
      assertTrue(p.isAlive(), "the command ended (exit " + (p.isAlive() ? "" : p.exitValue())
          + ") before a temporary file was seen");
      Thread.sleep(1);
    }
    p.destroyForcibly();
    fail("no temporary file of " + minBytes + " bytes appeared in " + folder);
  }

  /**
   * Once a temporary file of {@code minBytes} is being written in {@code folder}, SIGTERM: the command
   * exits (143 = 128 + 15, after the shutdown hooks ran) and leaves nothing in the folder.
   */
  static void assertSigtermLeavesNothing(Process p, Path folder, long minBytes) throws Exception {
    awaitTemp(folder, minBytes, p);
    p.destroy(); // SIGTERM on Linux
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "no exit after SIGTERM");
    assertNotEquals(0, p.exitValue());
    assertEquals(List.of(), visible(folder), "a temporary file (unverified bytes) survived SIGTERM");
  }

  /** A named pipe, so that a command reading it can be held mid-envelope; skips where there is none. */
  Path fifo(String name) throws Exception {
    Path f = dir.resolve(name);
    Process mk;
    try {
      mk = new ProcessBuilder("mkfifo", f.toString()).start();
    } catch (java.io.IOException e) {
      org.junit.jupiter.api.Assumptions.abort("no mkfifo here: " + e);
      return null;
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(mk.waitFor() == 0 && Files.exists(f), "mkfifo failed");
    return f;
  }

  /**
   * Feeds {@code passes} into a pipe, each as one writer (the reader sees end-of-file between them; a
   * delivery reads its envelope twice), and holds the last one open until {@code release} is counted down.
   */
  static Thread feed(Path pipe, java.util.concurrent.CountDownLatch release, byte[]... passes) {
    Thread t = new Thread(() -> {
      try {
        for (int i = 0; i < passes.length; i++) {
          try (java.nio.channels.FileChannel w = java.nio.channels.FileChannel.open(pipe,
              java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(passes[i]);
            while (b.hasRemaining()) {
              w.write(b);
            }
            if (i == passes.length - 1) {
              release.await();
            }
          }
        }
      } catch (Exception e) {
        // The reader was killed: a broken pipe is expected.
      }
    }, "fifo-writer");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** A file of zeros that costs no disk to read: long enough to catch a command while it writes. */
  void sparseFile(String name, long bytes) throws java.io.IOException {
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(dir.resolve(name).toFile(), "rw")) {
      f.setLength(bytes);
    }
  }

  byte[] sealedEnvelope(String name, int bytes) throws Exception {
    byte[] data = new byte[bytes];
    new Random(9).nextBytes(data);
    Files.write(dir.resolve(name), data);
    Matcher m = FINGERPRINT.matcher(ok("seal", "--to", "keys/destination.card", "--out", "env", name).out);
    assertTrue(m.find());
    return Files.readAllBytes(dir.resolve(m.group(2)));
  }

  /** open writes verified chunks' plaintext to its temporary file as it reads: SIGTERM must delete it. */
  @Test
  void anInterruptedOpenLeavesNoUnverifiedPlaintext() throws Exception {
    keygen();
    byte[] envelope = sealedEnvelope("photo.raw", 4 * 1024 * 1024);
    Path pipe = fifo("photo.cbe");
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Process p = start("open", "--key", "keys/destination.key", "--out", "out", "photo.cbe");
    Thread writer = feed(pipe, release, java.util.Arrays.copyOf(envelope, envelope.length / 2));
    assertSigtermLeavesNothing(p, dir.resolve("out"), 64 * 1024);
    release.countDown();
    writer.join(10_000);
  }

  /**
   * receive: the inbox's temporary file holds unverified plaintext too. (No pipe here: a delivery reads its
   * envelope twice, and a writer cannot tell when the first reader has closed.)
   */
  @Test
  void anInterruptedReceiveLeavesNoUnverifiedPlaintext() throws Exception {
    keygen();
    sparseFile("big.img", 256L * 1024 * 1024);
    Matcher m = FINGERPRINT.matcher(ok("seal", "--to", "keys/destination.card", "--out", "env", "--compress", "off",
        "big.img").out);
    assertTrue(m.find());
    Process p = start("receive", "--key", "keys/destination.key", "--inbox", "inbox", m.group(2));
    assertSigtermLeavesNothing(p, dir.resolve("inbox"), 1);
  }

  /** seal's temporary envelope is deleted on SIGTERM. */
  @Test
  void anInterruptedSealLeavesNoTemporaryFile() throws Exception {
    keygen();
    sparseFile("big.img", 512L * 1024 * 1024);
    Process p = start("seal", "--to", "keys/destination.card", "--out", "env", "--threads", "1", "--compress",
        "off", "big.img");
    assertSigtermLeavesNothing(p, dir.resolve("env"), 1);
  }

  /**
   * Stateless S3 destination servers (issue 14): three {@code serve destination --s3} processes on one
   * bucket behind one locator (a TCP balancer). Server A is killed with {@code kill -9} while its multipart
   * upload of a 12 MiB delivery into the bucket is open (its link to the store is slowed to 6 MiB/s so the
   * moment lasts); the balancer sends the holder's retry to server B, which has never seen the upload. The
   * holder's forwarder retries against the same locator and gets its receipt. Then the bucket lists exactly
   * one content object and one delivery record, whose bytes are the file: A's incomplete multipart upload is
   * left for the lifecycle rule and is not an object. A third server C, which has served nothing, answers the forwarder's
   * batched "already delivered?" from the bucket with the stored receipt, byte for byte. (Each server
   * here runs as {@code crowdbackup serve destination --s3} in its own JVM, started in parallel.)
   */
  @Test
  void aDestinationKilledMidMultipartUploadIsReplacedByAnotherOnTheSameBucket() throws Exception {
    try (LocalS3 s3 = LocalS3.start(dir.resolve("s3-data"));
        TcpProxy slowLink = new TcpProxy(s3.endpoint, 6L << 20);
        TcpProxy balancer = new TcpProxy(URI.create("http://127.0.0.1:9"), 0)) {
      java.util.function.Consumer<java.util.Map<String, String>> aws = env -> LocalS3.environment(env, dir);
      CliMessagesTest.ok("keygen", "--out", dir.resolve("keys").toString(), "--locator",
          balancer.uri().toString());
      // Three servers started at once, each with its own staging folder and nothing else of its own.
      List<java.util.concurrent.CompletableFuture<Process>> starting = new ArrayList<>();
      for (String name : List.of("a", "b", "c")) {
        String s3Url = LocalS3.url("cb/", name.equals("a") ? slowLink.uri() : s3.endpoint);
        starting.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
          try {
            return serveWith(aws, dir.resolve(name + ".port"), "destination", "--key", "keys/destination.key",
                "--s3-part-size", "5MiB", "--s3", s3Url, "--staging", "staging-" + name);
          } catch (Exception e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        }));
      }
      Process a = starting.get(0).get();
      Process b = starting.get(1).get();
      starting.get(2).get();
      balancer.target(URI.create(url(dir.resolve("a.port"))));

      byte[] data = new byte[12 << 20];
      new Random(14).nextBytes(data);
      Files.write(dir.resolve("clip.mov"), data);
      Run sealed = CliMessagesTest.ok("seal", "--to", dir.resolve("keys/destination.card").toString(), "--out",
          dir.resolve("env").toString(), dir.resolve("clip.mov").toString());
      Matcher m = FINGERPRINT.matcher(sealed.out);
      assertTrue(m.find(), sealed.out);
      String fp = m.group(1);
      for (String holder : List.of("h1", "h2")) {
        CliMessagesTest.ok("store", "--dir", dir.resolve(holder).toString(), "put", "--from", "venue", m.group(2));
      }

      java.util.concurrent.CompletableFuture<Run> forward = java.util.concurrent.CompletableFuture.supplyAsync(
          () -> CliMessagesTest.run("forward", "--dir", dir.resolve("h1").toString(), "--json"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (s3.openUploads().isEmpty()) {
        assertTrue(System.nanoTime() < deadline && !forward.isDone(), "server A never started a multipart upload: "
            + (forward.isDone() ? forward.get() : "") + Files.readString(dir.resolve("a.port.err")));
        Thread.sleep(20);
      }
      // Killed once S3Proxy holds A's first part (5 MiB): the other 7 MiB need more than a second on A's
      // 6 MiB/s link, so the kill lands mid upload whatever the machine's load (a fixed sleep did not).
      while (s3.openUploads().isEmpty() || s3.partsOf(s3.openUploads().get(0)) == 0) {
        assertTrue(System.nanoTime() < deadline && !forward.isDone(), "server A stored no part: "
            + (forward.isDone() ? forward.get() : "") + Files.readString(dir.resolve("a.port.err")));
        Thread.sleep(5);
      }
      a.destroyForcibly(); // SIGKILL: no abort, no shutdown hook
      assertTrue(a.waitFor(30, TimeUnit.SECONDS));
      balancer.target(URI.create(url(dir.resolve("b.port"))));

      Run forwarded = forward.get(120, TimeUnit.SECONDS);
      assertEquals(0, forwarded.exitCode, forwarded.toString());
      assertEquals(1, num(forwarded.out, "delivered"), forwarded.out);
      assertEquals(List.of("cb/deliveries/" + fp, "cb/files/" + fp), s3.keys(), "the bucket after the kill");
      assertArrayEquals(data, s3.object("cb/files/" + fp));
      List<software.amazon.awssdk.services.s3.model.MultipartUpload> open = s3.openUploads();
      assertEquals(1, open.size(), "A's upload, left for the lifecycle rule: " + open);
      assertEquals("cb/files/" + fp, open.get(0).key());
      String record = new String(s3.object("cb/deliveries/" + fp), java.nio.charset.StandardCharsets.UTF_8);
      java.util.regex.Matcher r = java.util.regex.Pattern.compile("^receipt (\\S+)$", java.util.regex.Pattern.MULTILINE)
          .matcher(record);
      assertTrue(r.find(), record);
      byte[] stored = java.util.Base64.getDecoder().decode(r.group(1));

      b.destroyForcibly();
      assertTrue(b.waitFor(30, TimeUnit.SECONDS));
      balancer.target(URI.create(url(dir.resolve("c.port"))));
      io.crowdbackup.server.ProtocolClient client = new io.crowdbackup.server.ProtocolClient(
          io.crowdbackup.server.ProtocolClient.newHttpClient(java.time.Duration.ofSeconds(10)), balancer.uri(),
          java.time.Duration.ofSeconds(30));
      io.crowdbackup.api.Fingerprint f = io.crowdbackup.api.Fingerprint.fromHex(fp);
      assertArrayEquals(stored, client.queryDeliveries(List.of(f)).get(f), "C's answer from the bucket");
      Run second = CliMessagesTest.run("forward", "--dir", dir.resolve("h2").toString(), "--json");
      assertEquals(0, second.exitCode, second.toString());
      assertEquals(1, num(second.out, "alreadyDelivered"), second.out);
      assertEquals(0, num(second.out, "bytesSent"), second.out);
      assertEquals(List.of("cb/deliveries/" + fp, "cb/files/" + fp), s3.keys());
    }
  }
}
