package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.protocol.OfferMessage;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Load: 1,000 concurrent slow uploads (10 KiB/s each, one PATCH each, every one in progress for the whole
 * window) against a holder service in a child JVM at {@code -Xmx256m}, while another peer (another
 * loopback address) keeps offering: every offer is answered, within a bound, the holder stays within its
 * heap, and every slow upload made durable progress. Each upload streams the bytes of one real envelope
 * under its own fingerprint, so the store checks real framing; none is finished.
 *
 * <p>About a minute and a half with setup, so it is not in the default build:
 * {@code mvn -o -Dquick -pl server -am test -Dtest=SlowUploadsTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dcrowdbackup.load=true} ({@code -Dcrowdbackup.load.uploads=N}, {@code -Dcrowdbackup.load.seconds=S}).
 * The holder needs a request thread per streaming PATCH (the core reads bodies blocking), so it runs with
 * 1,100 threads; results are in {@code bench/RESULTS.md}.
 */
@Tag("load")
@EnabledIfSystemProperty(named = "crowdbackup.load", matches = "true")
class SlowUploadsTest {
  private static final int BYTES_PER_TICK = 1024; // ten ticks a second: 10 KiB/s
  @TempDir Path dir;

  @Test
  void aThousandSlowUploadsAreHeldWithinTheHeapWhileOffersFromOtherPeersAreAnswered() throws Exception {
    int uploads = Integer.getInteger("crowdbackup.load.uploads", 1000);
    int seconds = Integer.getInteger("crowdbackup.load.seconds", 30);
    DestinationKeyPair home = Keys.generateDestination("http://127.0.0.1:9/");
    byte[] envelope = Files.readAllBytes(Net.seal(Files.createDirectories(dir.resolve("out")), "slow", home,
        (seconds + 10) * 10 * 1024, 1));
    try (ChildJvm holder = ChildJvm.start(HolderProcess.class, "256m", dir, dir.resolve("holder").toString(),
        Integer.toString(uploads + 100))) {
      FaultClient client = new FaultClient(holder.uri);
      Random random = new Random(5);
      List<String> paths = new ArrayList<>();
      List<RawHttp> streams = new ArrayList<>();
      ScheduledExecutorService ticks = Executors.newScheduledThreadPool(8);
      AtomicLong sent = new AtomicLong();
      AtomicInteger broken = new AtomicInteger();
      try {
        for (int i = 0; i < uploads; i++) {
          byte[] fp = new byte[32];
          random.nextBytes(fp);
          String path;
          try (RawHttp c = new RawHttp(holder.uri)) {
            RawHttp.Answer a = c.send(FaultHolder.creation(Fingerprint.of(fp), envelope.length)).read();
            assertEquals(201, a.status, a.toString());
            path = a.header("Location");
          }
          paths.add(path);
          RawHttp s = new RawHttp(holder.uri).send(FaultHolder.patch(path, 0, envelope.length));
          streams.add(s);
          AtomicInteger at = new AtomicInteger();
          ticks.scheduleAtFixedRate(() -> {
            int from = at.getAndAdd(BYTES_PER_TICK);
            if (from >= 0 && from + BYTES_PER_TICK <= envelope.length) {
              try {
                s.send(envelope, from, BYTES_PER_TICK);
                sent.addAndGet(BYTES_PER_TICK);
              } catch (IOException e) {
                at.set(Integer.MIN_VALUE);
                broken.incrementAndGet();
              }
            }
          }, random.nextInt(100), 100, TimeUnit.MILLISECONDS);
        }
        // All are streaming. Another peer offers, again and again.
        InetAddress otherPeer = InetAddress.getByName("127.0.0.2");
        long worstMs = 0;
        int offers = 0;
        long sentBefore = sent.get();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
          byte[] fp = new byte[32];
          random.nextBytes(fp);
          OfferMessage m = new OfferMessage(Fingerprint.of(fp), 1000, System.currentTimeMillis() / 1000 + 3600,
              null, false);
          long start = System.nanoTime();
          try (RawHttp c = new RawHttp(holder.uri, otherPeer)) {
            byte[] body = m.encode();
            RawHttp.Answer a = c.send(RawHttp.head("POST", "/v1/offers", "Content-Type", "application/json",
                "Content-Length", Integer.toString(body.length))).send(body).read();
            assertEquals(201, a.status, a.toString());
          }
          worstMs = Math.max(worstMs, (System.nanoTime() - start) / 1_000_000);
          offers++;
          Thread.sleep(200);
        }
        long window = sent.get() - sentBefore;
        String heap = holder.ask("HEAP");
        long expected = (long) uploads * seconds * 10 * BYTES_PER_TICK;
        System.out.printf("slow uploads: %d streams for %d s, %d bytes sent in the window (%.0f%% of 10 KiB/s each),"
            + " %d broken; %d offers from another peer, slowest %d ms; holder %s%n", uploads, seconds, window,
            100.0 * window / expected, broken.get(), offers, worstMs, heap);
        assertEquals(0, broken.get(), "slow uploads were cut off");
        assertTrue(worstMs < 5_000, "an offer from another peer took " + worstMs + " ms");
        long peak = Long.parseLong(heap.split(" ")[2]);
        assertTrue(peak <= 256L << 20, heap);
      } finally {
        ticks.shutdownNow();
        ticks.awaitTermination(10, TimeUnit.SECONDS);
      }
      // The peers walk away; each PATCH ends keeping what arrived. Every slow upload made durable
      // progress: they were all in flight at once.
      for (RawHttp s : streams) {
        s.abort();
      }
      Thread.sleep(2000);
      long[] offsets = new long[paths.size()];
      for (int i = 0; i < paths.size(); i++) {
        offsets[i] = client.head(paths.get(i));
      }
      Arrays.sort(offsets);
      System.out.printf("durable offsets: min %d, median %d, max %d%n", offsets[0], offsets[offsets.length / 2],
          offsets[offsets.length - 1]);
      assertTrue(offsets[0] > 0, "an upload made no durable progress");
    }
  }
}
