package io.crowdbackup.engine.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.policy.ManualTimeSource;
import io.crowdbackup.engine.store.StoreTestSupport;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The destination fsyncs a staged upload at the end of every PATCH before it answers, and no answer (a
 * PATCH's or a HEAD's, also one during a PATCH) promises bytes that no fsync covered.
 */
class DestinationProtocolDurabilityTest {
  @TempDir Path dir;

  /** Never asked to deliver here: the uploads stay unfinished. */
  private static final DeliverySink NOTHING_DELIVERED = new DeliverySink() {
    @Override
    public byte @Nullable [] receipt(Fingerprint fingerprint) {
      return null;
    }

    @Override
    public byte[] deliver(ReadableByteChannel envelope, Fingerprint expected) {
      throw new AssertionError("not delivered in this test");
    }
  };

  @Test
  void everyPatchIsFsyncedBeforeItsAnswerAndAHeadMeanwhileGivesOnlyWhatIsOnDisk() throws Exception {
    StoreTestSupport.Env e = StoreTestSupport.envelope(11, 100_000);
    AtomicLong synced = new AtomicLong(-1); // the staged size the last fsync covered
    AtomicReference<CountDownLatch> hold = new AtomicReference<>();
    CountDownLatch held = new CountDownLatch(1);
    DestinationProtocol d = DestinationProtocol.newBuilder(NOTHING_DELIVERED, dir.resolve("staging"))
        .fsync((ch, part) -> {
          CountDownLatch h = hold.get();
          if (h != null) {
            held.countDown();
            try {
              h.await();
            } catch (InterruptedException ie) {
              throw new java.io.InterruptedIOException();
            }
          }
          ch.force(true);
          synced.set(ch.size());
        }).build();
    ProtocolResponse created = d.handle(TestRequests.creation(e.bytes.length,
        Map.of(OfferMessage.FINGERPRINT, e.fingerprint.toHex())));
    assertEquals(201, created.status(), created.toString());
    String url = created.headers().get("Location");
    long offset = 0;
    for (int n : new int[] {30_001, 5, 20_000}) {
      ProtocolResponse r = d.handle(TestRequests.patch(url, e.bytes, offset, n));
      assertEquals(204, r.status(), r.toString());
      assertEquals(offset + n, TestRequests.offset(r));
      assertEquals(offset + n, synced.get(), "the answered bytes were fsynced before the answer");
      offset += n;
    }
    // A PATCH whose fsync has not returned yet: no answer, and a HEAD meanwhile promises only the fsynced.
    CountDownLatch release = new CountDownLatch(1);
    hold.set(release);
    long before = offset;
    CompletableFuture<ProtocolResponse> patch = CompletableFuture.supplyAsync(
        () -> d.handle(TestRequests.patch(url, e.bytes, before, 10_000)));
    assertTrue(held.await(10, TimeUnit.SECONDS), "the PATCH reached its fsync");
    ProtocolResponse head = d.handle(TestRequests.head(url)); // waits for the lock, then answers
    assertEquals(before, TestRequests.offset(head), "HEAD during the PATCH's fsync");
    assertFalse(patch.isDone(), "the PATCH answered before its fsync returned");
    hold.set(null);
    release.countDown();
    ProtocolResponse r = patch.get(10, TimeUnit.SECONDS);
    assertEquals(204, r.status(), r.toString());
    assertEquals(before + 10_000, TestRequests.offset(r));
    assertEquals(before + 10_000, TestRequests.offset(d.handle(TestRequests.head(url))));
  }

  /**
   * A staged upload that is delivered (its file deleted) between the folder listing and the look at its age
   * is not a failure of another peer's creation. A dangling link stands for the file that vanished.
   */
  @Test
  void aStagedFileThatVanishesWhileACreationCountsTheRoomDoesNotFailThatCreation() throws Exception {
    Path staging = java.nio.file.Files.createDirectories(dir.resolve("staging"));
    StoreTestSupport.Env gone = StoreTestSupport.envelope(12, 1_000);
    java.nio.file.Files.createSymbolicLink(staging.resolve(gone.fingerprint.toHex() + "-1000.part"),
        staging.resolve("deleted-meanwhile"));
    DestinationProtocol d = DestinationProtocol.newBuilder(NOTHING_DELIVERED, staging).build();
    StoreTestSupport.Env e = StoreTestSupport.envelope(11, 10_000);
    ProtocolResponse created = d.handle(TestRequests.creation(e.bytes.length,
        Map.of(OfferMessage.FINGERPRINT, e.fingerprint.toHex())));
    assertEquals(201, created.status(), created.toString());
  }

  @Test
  void aStagedUploadIsAbandonedByTheInjectedClockNotTheWallClock() throws Exception {
    ManualTimeSource time = new ManualTimeSource();
    Path staging = dir.resolve("staging");
    DestinationProtocol d = DestinationProtocol.newBuilder(NOTHING_DELIVERED, staging)
        .abandonAfter(Duration.ofHours(1)).time(time).build();
    StoreTestSupport.Env idle = StoreTestSupport.envelope(11, 10_000);
    ProtocolResponse created = d.handle(TestRequests.creation(idle.bytes.length,
        Map.of(OfferMessage.FINGERPRINT, idle.fingerprint.toHex())));
    assertEquals(201, created.status(), created.toString());
    String url = created.headers().get("Location");
    assertEquals(204, d.handle(TestRequests.patch(url, idle.bytes, 0, 1_000)).status());

    // Within the hour on the injected clock: another creation's sweep leaves it.
    time.advanceSeconds(59 * 60);
    StoreTestSupport.Env other = StoreTestSupport.envelope(12, 10_000);
    assertEquals(201, d.handle(TestRequests.creation(other.bytes.length,
        Map.of(OfferMessage.FINGERPRINT, other.fingerprint.toHex()))).status());
    assertEquals(1_000, TestRequests.offset(d.handle(TestRequests.head(url))));

    // Past the hour on the injected clock (a few milliseconds on the wall): the next creation removes it.
    time.advanceSeconds(2 * 60);
    StoreTestSupport.Env third = StoreTestSupport.envelope(13, 10_000);
    assertEquals(201, d.handle(TestRequests.creation(third.bytes.length,
        Map.of(OfferMessage.FINGERPRINT, third.fingerprint.toHex()))).status());
    assertEquals(404, d.handle(TestRequests.head(url)).status(), "the idle upload was abandoned");
    try (java.util.stream.Stream<Path> left = Files.list(staging)) {
      assertEquals(2, left.count(), "the two fresh uploads stay staged");
    }
  }
}
