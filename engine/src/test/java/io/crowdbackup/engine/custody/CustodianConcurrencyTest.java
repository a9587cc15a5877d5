package io.crowdbackup.engine.custody;

import static io.crowdbackup.engine.custody.CustodyFixture.START_EPOCH_MILLIS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.policy.QuotaStats;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.engine.custody.CustodyFixture.Env;
import io.crowdbackup.engine.policy.ManualTimeSource;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many threads offer, write, abort, abandon, resume, commit and deliver against a small quota while an
 * observer checks, as often as it can, that neither the ledger nor the store's own accounting ever
 * exceeds the limit. When quiet, the ledger must equal the store's bytes at rest — and again after a
 * clean close and reopen, and after a simulated crash (a copy of the directory taken while open).
 */
class CustodianConcurrencyTest {
  private static final int THREADS = 4;
  private static final int OPS_PER_THREAD = 150;
  private static final long LIMIT_BYTES = 48 * 1024;

  @TempDir
  Path dir;

  @Test
  void quotaNeverExceededAndLedgerEqualsStoreWhenQuietAndAfterRestartAndCrash() throws Exception {
    ManualTimeSource time = new ManualTimeSource(START_EPOCH_MILLIS);
    List<Env> pool = new ArrayList<>();
    Random sizes = new Random(7);
    for (int i = 0; i < 120; i++) {
      pool.add(CustodyFixture.envelope(1000 + i, 200 + sizes.nextInt(12_000),
          CustodyFixture.START_EPOCH_SECOND + 300 + sizes.nextInt(6_900), CustodyFixture.HOME_A));
    }
    Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(time, LIMIT_BYTES).peerSharePercent(60));
    // Two resumable uploads that stay reserved through the run, so that recovery has reservations to find
    // whatever the workers leave.
    List<Env> extras = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Env x = CustodyFixture.envelope(5000 + i, 3_000);
      extras.add(x);
      try (CustodyUpload u = c.accept(x.offer("px"))) {
        u.write(ByteBuffer.wrap(x.bytes, 0, 1_000 + i));
      }
    }
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong observations = new AtomicLong();
    ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    Thread observer = new Thread(() -> {
      while (running.get()) {
        QuotaStats q = c.stats().quota();
        StoreUsage u = c.storeUsage();
        if (q.heldBytes() + q.reservedBytes() > LIMIT_BYTES) {
          violations.add("ledger " + q);
        }
        if (u.custodyHeldBytes() + u.custodyReservedBytes() > LIMIT_BYTES) {
          violations.add("store " + u);
        }
        for (java.util.Map.Entry<String, io.crowdbackup.api.policy.PeerUsage> p
            : c.stats().usageByPeer().entrySet()) {
          io.crowdbackup.api.policy.PeerUsage pu = p.getValue();
          if (pu.heldBytes() + pu.reservedBytes() > pu.shareBytes()) {
            violations.add("peer " + p.getKey() + " over its share: " + pu);
          }
        }
        if (q.heldBytes() < 0 || q.reservedBytes() < 0) {
          violations.add("negative " + q);
        }
        observations.incrementAndGet();
      }
    });
    observer.start();
    CountDownLatch done = new CountDownLatch(THREADS);
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    AtomicLong commits = new AtomicLong();
    AtomicLong refusals = new AtomicLong();
    for (int t = 0; t < THREADS; t++) {
      long seed = t;
      new Thread(() -> {
        Random r = new Random(seed);
        try {
          for (int i = 0; i < OPS_PER_THREAD; i++) {
            Env e = pool.get(r.nextInt(pool.size()));
            String peer = "p" + r.nextInt(4);
            int action = r.nextInt(100);
            try {
              if (action < 40) {
                c.receive(e.offer(peer), e.channel());
                commits.incrementAndGet();
              } else if (action < 55) {
                try (CustodyUpload u = c.accept(e.offer(peer))) {
                  u.write(ByteBuffer.wrap(e.bytes, 0, r.nextInt(e.bytes.length)));
                  u.abort();
                }
              } else if (action < 70) {
                try (CustodyUpload u = c.accept(e.offer(peer))) {
                  u.write(ByteBuffer.wrap(e.bytes, 0, r.nextInt(e.bytes.length)));
                  u.checkpoint();
                } // closed: resumable, still reserved
              } else if (action < 85) {
                List<UploadInfo> left = c.uploads();
                left.removeIf(info -> extras.stream().anyMatch(x -> x.fingerprint.equals(info.request().fingerprint())));
                if (!left.isEmpty()) {
                  UploadInfo info = left.get(r.nextInt(left.size()));
                  Env le = find(pool, info);
                  try (CustodyUpload u = c.resume(info.request().fingerprint())) {
                    ByteBuffer rest = ByteBuffer.wrap(le.bytes);
                    rest.position((int) u.offset());
                    u.write(rest);
                    if (r.nextBoolean()) {
                      u.commit();
                      commits.incrementAndGet();
                    } else {
                      u.abort();
                    }
                  }
                }
              } else if (action < 88) {
                byte[] garbage = e.bytes.clone();
                garbage[r.nextInt(garbage.length)] ^= 0x40;
                c.receive(e.offer(peer), java.nio.channels.Channels.newChannel(
                    new java.io.ByteArrayInputStream(garbage)));
              } else if (action < 97) {
                // The destination confirms one blob this holder has: frees its quota.
                List<io.crowdbackup.api.store.BlobStat> held = c.pendingFor("home-a.example");
                if (!held.isEmpty()) {
                  io.crowdbackup.api.store.BlobStat h = held.get(r.nextInt(held.size()));
                  for (Env pe : pool) {
                    if (pe.fingerprint.equals(h.fingerprint())) {
                      c.acceptReceipt(pe.receipt());
                    }
                  }
                }
              } else {
                time.advanceSeconds(60);
                c.evictExpired();
              }
            } catch (RefusalException ex) {
              refusals.incrementAndGet();
            } catch (io.crowdbackup.api.EnvelopeException ex) {
              // Corrupted bytes: the envelope's own rejection (a fingerprint mismatch), nothing stored.
              refusals.incrementAndGet();
            } catch (StoreException ex) {
              // Racing a resume with another resume of the same upload, or with its commit: expected.
              if (ex.reason() != StoreException.Reason.DUPLICATE && ex.reason() != StoreException.Reason.NOT_FOUND) {
                throw ex;
              }
            } catch (ReceiptException ex) {
              throw new AssertionError("a valid receipt was refused", ex);
            }
          }
        } catch (Throwable ex) {
          failures.add(ex);
        } finally {
          done.countDown();
        }
      }).start();
    }
    done.await();
    running.set(false);
    observer.join();
    if (!failures.isEmpty()) {
      throw new AssertionError("worker failed", failures.peek());
    }
    assertTrue(violations.isEmpty(), "quota exceeded: " + violations.peek());
    assertTrue(observations.get() > 100, "observer ran " + observations.get() + " times");
    System.out.println("custody stress: " + commits.get() + " commits, " + refusals.get() + " refusals, "
        + observations.get() + " observations; " + c.stats());
    assertTrue(commits.get() > 10, "commits " + commits.get());
    assertTrue(c.stats().refusals(Refusal.Reason.QUOTA_FULL) + c.stats().refusals(Refusal.Reason.PEER_SHARE_EXCEEDED)
        > 0, "the quota was never reached: the test proves nothing");
    assertEquals(0, c.ledgerAnomalies());

    QuotaStats quiet = c.stats().quota();
    assertTrue(quiet.reservedCount() > 0, "no resumable upload left to recover: " + quiet);
    assertTrue(quiet.heldCount() > 0, "nothing held to recover: " + quiet);
    assertLedgerEqualsStore(c);
    Path crashed = CrashCopy.snapshot(dir);
    c.close();

    try (Custodian reopened = CustodyFixture.open(dir, CustodyFixture.policy(time, LIMIT_BYTES).peerSharePercent(60))) {
      assertSameLedger(quiet, reopened.stats().quota());
      assertLedgerEqualsStore(reopened);
    }
    try (Custodian afterCrash = CustodyFixture.open(crashed,
        CustodyFixture.policy(time, LIMIT_BYTES).peerSharePercent(60))) {
      assertSameLedger(quiet, afterCrash.stats().quota());
      assertLedgerEqualsStore(afterCrash);
      // The recovered reservations are real: resuming and finishing each keeps the ledger exact.
      for (UploadInfo info : afterCrash.uploads()) {
        List<Env> all = new ArrayList<>(pool);
        all.addAll(extras);
        Env le = find(all, info);
        try (CustodyUpload u = afterCrash.resume(info.request().fingerprint())) {
          ByteBuffer rest = ByteBuffer.wrap(le.bytes);
          rest.position((int) u.offset());
          u.write(rest);
          u.commit();
        }
      }
      assertEquals(0, afterCrash.stats().reservedBytes());
      assertEquals(quiet.heldBytes() + quiet.reservedBytes(), afterCrash.stats().heldBytes(),
          "every recovered reservation became exactly its held bytes");
      assertLedgerEqualsStore(afterCrash);
    }
  }

  private static Env find(List<Env> pool, UploadInfo info) {
    for (Env e : pool) {
      if (e.fingerprint.equals(info.request().fingerprint())) {
        return e;
      }
    }
    throw new AssertionError("unknown upload " + info);
  }

  private static void assertLedgerEqualsStore(Custodian c) {
    QuotaStats q = c.stats().quota();
    StoreUsage u = c.storeUsage();
    assertEquals(u.custodyHeldBytes(), q.heldBytes(), "held: " + q + " vs " + u);
    assertEquals(u.custodyReservedBytes(), q.reservedBytes(), "reserved: " + q + " vs " + u);
  }

  private static void assertSameLedger(QuotaStats expected, QuotaStats actual) {
    assertEquals(expected.heldBytes(), actual.heldBytes(), "held after reopen");
    assertEquals(expected.reservedBytes(), actual.reservedBytes(), "reserved after reopen");
    assertEquals(expected.heldCount(), actual.heldCount(), "held count after reopen");
    assertEquals(expected.reservedCount(), actual.reservedCount(), "reserved count after reopen");
    assertEquals(expected.peerCount(), actual.peerCount(), "peers after reopen");
  }
}
