package io.crowdbackup.engine.policy;

import static io.crowdbackup.engine.policy.QuotaLedgerTest.fp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.PeerUsage;
import io.crowdbackup.api.policy.QuotaStats;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Many threads reserving, committing and releasing random sizes against a small quota, with a shared
 * pool of fingerprints so that their operations collide (duplicates, one thread committing or releasing
 * another's upload).
 *
 * <p>Three checks. (1) An observer asserts {@code held + reserved <= limit} and every peer within its
 * share in every snapshot it takes while the workers run. (2) A linearizability check: the ledger's
 * test journal records every operation inside its critical section, i.e. in the order the ledger claims
 * they took effect; replaying that order on a small sequential model must give every outcome and every
 * intermediate total, and each thread's own view of its results must be its operations in that order.
 * (3) When quiet, the ledger equals the model and the bytes "at rest", and a ledger rebuilt from them
 * equals it too.
 */
class QuotaLedgerConcurrencyTest {
  private static final long LIMIT = 10_000;
  private static final long SHARE = 4_000;
  private static final long MAX_ENVELOPE = 3_000;
  private static final int FINGERPRINTS = 48;
  private static final String[] PEERS = {"p0", "p1", "p2", "p3", "p4"};

  /** One operation as the ledger's journal saw it. */
  private static final class Logged {
    final Thread thread;
    final QuotaLedger.Op op;
    final Fingerprint fp;
    final String peer;
    final long bytes;
    final Object outcome;
    final long held;
    final long reserved;

    Logged(Thread thread, QuotaLedger.Op op, Fingerprint fp, String peer, long bytes, Object outcome, long held,
        long reserved) {
      this.thread = thread;
      this.op = op;
      this.fp = fp;
      this.peer = peer;
      this.bytes = bytes;
      this.outcome = outcome;
      this.held = held;
      this.reserved = reserved;
    }
  }

  /** One operation as the calling thread saw it. */
  private static final class Seen {
    final QuotaLedger.Op op;
    final Fingerprint fp;
    final Object outcome;

    Seen(QuotaLedger.Op op, Fingerprint fp, Object outcome) {
      this.op = op;
      this.fp = fp;
      this.outcome = outcome;
    }
  }

  /** The sequential specification. */
  private static final class Model {
    final Map<Fingerprint, Object[]> slots = new HashMap<>(); // fp -> {peer, bytes, held}
    long held;
    long reserved;

    long peerUse(String peer) {
      long use = 0;
      for (Object[] s : slots.values()) {
        if (s[0].equals(peer)) {
          use += (Long) s[1];
        }
      }
      return use;
    }

    Refusal.Reason reserve(Fingerprint fp, long bytes, String peer) {
      if (bytes <= 0) {
        return Refusal.Reason.MALFORMED;
      }
      Object[] existing = slots.get(fp);
      if (existing != null) {
        return (Boolean) existing[2] ? Refusal.Reason.ALREADY_HELD : Refusal.Reason.UPLOAD_IN_PROGRESS;
      }
      if (bytes > Math.min(MAX_ENVELOPE, Math.min(LIMIT, SHARE))) {
        return Refusal.Reason.TOO_LARGE;
      }
      if (peerUse(peer) + bytes > SHARE) {
        return Refusal.Reason.PEER_SHARE_EXCEEDED;
      }
      if (held + reserved + bytes > LIMIT) {
        return Refusal.Reason.QUOTA_FULL;
      }
      slots.put(fp, new Object[] {peer, bytes, false});
      reserved += bytes;
      return null;
    }

    QuotaLedger.State commit(Fingerprint fp) {
      Object[] s = slots.get(fp);
      if (s == null) {
        return QuotaLedger.State.ABSENT;
      }
      if ((Boolean) s[2]) {
        return QuotaLedger.State.HELD;
      }
      s[2] = true;
      reserved -= (Long) s[1];
      held += (Long) s[1];
      return null;
    }

    long release(Fingerprint fp) {
      Object[] s = slots.remove(fp);
      if (s == null) {
        return 0;
      }
      if ((Boolean) s[2]) {
        held -= (Long) s[1];
      } else {
        reserved -= (Long) s[1];
      }
      return (Long) s[1];
    }
  }

  /** Seeds per run; raise for a longer campaign: {@code -Dsurefire.jvm.args="-Xmx1g -Dcrowdbackup.ledgerStressSeeds=200"}. */
  private static final int SEEDS = Integer.getInteger("crowdbackup.ledgerStressSeeds", 3);

  @Test
  void ledgerIsLinearizableAndNeverExceedsItsLimit() throws Exception {
    for (long seed = 1; seed <= SEEDS; seed++) {
      run(seed, 4, 6_000);
    }
  }

  private void run(long seed, int threads, int opsPerThread) throws Exception {
    QuotaLedger<String> ledger = QuotaLedger.<String>newBuilder()
        .limitBytes(LIMIT).peerShareBytes(SHARE).maxEnvelopeBytes(MAX_ENVELOPE).build();
    List<Logged> journal = new ArrayList<>(); // appended to under the ledger's lock only
    ledger.journal = (op, fp, peer, bytes, outcome, held, reserved) ->
        journal.add(new Logged(Thread.currentThread(), op, fp, peer, bytes, outcome, held, reserved));

    Map<Thread, List<Seen>> seen = new HashMap<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong snapshots = new AtomicLong();
    CountDownLatch go = new CountDownLatch(1);

    Thread observer = new Thread(() -> {
      try {
        go.await();
        while (!done.get()) {
          QuotaStats s = ledger.stats();
          if (s.heldBytes() + s.reservedBytes() > LIMIT || s.heldBytes() < 0 || s.reservedBytes() < 0) {
            throw new AssertionError("snapshot over the limit: " + s);
          }
          for (Map.Entry<String, PeerUsage> e : ledger.usageByPeer().entrySet()) {
            PeerUsage u = e.getValue();
            if (u.heldBytes() + u.reservedBytes() > SHARE) {
              throw new AssertionError("peer " + e.getKey() + " over its share: " + u);
            }
          }
          snapshots.incrementAndGet();
        }
      } catch (Throwable t) {
        failure.compareAndSet(null, t);
      }
    });
    observer.start();

    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      SplittableRandom random = new SplittableRandom(seed * 1000 + t);
      List<Seen> mine = new ArrayList<>();
      Thread w = new Thread(() -> {
        try {
          go.await();
          for (int i = 0; i < opsPerThread; i++) {
            Fingerprint fp = fp(random.nextInt(FINGERPRINTS));
            int kind = random.nextInt(10);
            if (kind < 5) {
              long bytes = random.nextInt(40) == 0 ? random.nextLong(-1, 5_000) : random.nextLong(1, 2_500);
              String peer = PEERS[random.nextInt(PEERS.length)];
              Object outcome = null;
              try {
                ledger.reserve(fp, bytes, peer);
              } catch (RefusalException e) {
                outcome = e.reason();
              }
              mine.add(new Seen(QuotaLedger.Op.RESERVE, fp, outcome));
            } else if (kind < 8) {
              Object outcome = null;
              try {
                ledger.commit(fp);
              } catch (IllegalStateException e) {
                outcome = "refused"; // the journal has the state it saw; compared by kind below
              }
              mine.add(new Seen(QuotaLedger.Op.COMMIT, fp, outcome));
            } else {
              mine.add(new Seen(QuotaLedger.Op.RELEASE, fp, ledger.release(fp)));
            }
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      });
      seen.put(w, mine);
      workers.add(w);
      w.start();
    }
    go.countDown();
    for (Thread w : workers) {
      w.join();
    }
    done.set(true);
    observer.join();
    if (failure.get() != null) {
      throw new AssertionError("seed " + seed, failure.get());
    }
    assertTrue(snapshots.get() > 0, "the observer took snapshots");

    // (2) Replay the linearization order on the model.
    Model model = new Model();
    Map<Thread, List<Logged>> byThread = new HashMap<>();
    long refusals = 0;
    for (int i = 0; i < journal.size(); i++) {
      Logged l = journal.get(i);
      Object expected;
      switch (l.op) {
        case RESERVE:
          expected = model.reserve(l.fp, l.bytes, l.peer);
          if (expected != null) {
            refusals++;
          }
          break;
        case COMMIT:
          expected = model.commit(l.fp);
          break;
        case RELEASE:
          expected = null;
          assertEquals(model.release(l.fp), l.bytes, "seed " + seed + " op " + i + ": bytes freed");
          break;
        default:
          throw new AssertionError(l.op);
      }
      assertEquals(expected, l.outcome, "seed " + seed + " op " + i + " " + l.op + " " + l.fp);
      assertEquals(model.held, l.held, "seed " + seed + " op " + i + ": held after");
      assertEquals(model.reserved, l.reserved, "seed " + seed + " op " + i + ": reserved after");
      assertTrue(model.held + model.reserved <= LIMIT);
      byThread.computeIfAbsent(l.thread, k -> new ArrayList<>()).add(l);
    }
    assertTrue(refusals > 100, "the quota was contended: " + refusals + " refusals");

    // Each thread saw exactly its operations, in journal order, with the journal's outcomes.
    for (Map.Entry<Thread, List<Seen>> e : seen.entrySet()) {
      List<Seen> mine = e.getValue();
      List<Logged> logged = byThread.getOrDefault(e.getKey(), new ArrayList<>());
      assertEquals(mine.size(), logged.size(), "seed " + seed + ": operations of one thread");
      for (int i = 0; i < mine.size(); i++) {
        Seen s = mine.get(i);
        Logged l = logged.get(i);
        assertEquals(s.op, l.op);
        assertEquals(s.fp, l.fp);
        switch (s.op) {
          case RESERVE:
            assertEquals(s.outcome, l.outcome);
            break;
          case COMMIT:
            assertEquals(s.outcome == null, l.outcome == null, "commit succeeded in one view only");
            break;
          case RELEASE:
            assertEquals(s.outcome, l.bytes);
            break;
          default:
            throw new AssertionError(s.op);
        }
      }
    }

    // (3) Quiet: the ledger equals the model, and a rebuild from the blobs "at rest" equals both.
    ledger.journal = null;
    QuotaStats quiet = ledger.stats();
    assertEquals(model.held, quiet.heldBytes());
    assertEquals(model.reserved, quiet.reservedBytes());
    List<LedgerEntry<String>> atRest = new ArrayList<>();
    for (Map.Entry<Fingerprint, Object[]> e : model.slots.entrySet()) {
      Object[] s = e.getValue();
      atRest.add((Boolean) s[2]
          ? LedgerEntry.held(e.getKey(), (Long) s[1], (String) s[0])
          : LedgerEntry.reserved(e.getKey(), (Long) s[1], (String) s[0]));
      assertEquals((Boolean) s[2] ? QuotaLedger.State.HELD : QuotaLedger.State.RESERVED, ledger.stateOf(e.getKey()));
    }
    QuotaLedger<String> rebuilt = QuotaLedger.<String>newBuilder()
        .limitBytes(LIMIT).peerShareBytes(SHARE).maxEnvelopeBytes(MAX_ENVELOPE).build();
    rebuilt.rebuild(atRest);
    assertEquals(quiet.heldBytes(), rebuilt.stats().heldBytes());
    assertEquals(quiet.reservedBytes(), rebuilt.stats().reservedBytes());
    assertEquals(ledger.usageByPeer().toString(), rebuilt.usageByPeer().toString());
    for (String peer : PEERS) {
      assertEquals(model.peerUse(peer), ledger.usage(peer).heldBytes() + ledger.usage(peer).reservedBytes());
    }
    for (int i = 0; i < FINGERPRINTS; i++) {
      ledger.release(fp(i));
    }
    QuotaStats empty = ledger.stats();
    assertEquals(0, empty.heldBytes());
    assertEquals(0, empty.reservedBytes());
    assertEquals(0, empty.peerCount());
  }
}
