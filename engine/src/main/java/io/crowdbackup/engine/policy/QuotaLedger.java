package io.crowdbackup.engine.policy;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.PeerUsage;
import io.crowdbackup.api.policy.QuotaStats;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The strict storage quota of a holder: how many bytes it holds and has promised for others, by blob
 * and by source peer.
 *
 * <h2>What it guarantees</h2>
 * <ul>
 *   <li>{@code held + reserved <= limit} at every instant, under any concurrency: an upload
 *       {@link #reserve reserves} its declared length before its first byte is accepted, and the check
 *       and the reservation are one atomic step.
 *   <li>No source peer's {@code held + reserved} exceeds its share.
 *   <li>Accounting is by fingerprint, so freeing is idempotent: releasing a blob twice (a receipt racing
 *       with expiry) frees its bytes once.
 *   <li>Nothing promised is ever evicted to make room: a full ledger refuses.
 *   <li>After a restart, {@link #rebuild} restores the exact state from the blobs the store finds on
 *       disk (committed and partial), so a restart is no way around the quota.
 * </ul>
 *
 * <h2>Why a lock</h2>
 * Every operation changes several numbers that must agree (a blob's state, its peer's usage, the
 * totals) and is called once per upload, not per byte, so one short critical section is both the
 * simplest way to make each operation atomic and cheap enough. {@link #stats()} reads under the same
 * lock, so a snapshot never shows a state that did not exist.
 *
 * @param <P> how the store identifies a source peer; needs {@code equals}/{@code hashCode}
 */
public final class QuotaLedger<P> {
  /** Where a fingerprint stands in the ledger. */
  public enum State {
    ABSENT,
    /** An upload in progress: counts its declared length. */
    RESERVED,
    /** Committed: counts its length until delivered, released or expired. */
    HELD
  }

  private final long limitBytes;
  private final long peerShareBytes;
  private final long maxEnvelopeBytes;
  private final long longestRetentionSeconds;
  private final RefusalCounter refusals;

  private final Object lock = new Object();
  private final Map<Fingerprint, Slot<P>> slots = new HashMap<>();
  private final Map<P, PeerCounts> peers = new HashMap<>();
  private long heldBytes;
  private long reservedBytes;
  private long heldCount;
  private long reservedCount;

  /** Test hook: sees every operation and its outcome inside the critical section, in linearization order. */
  volatile Journal<P> journal;

  private QuotaLedger(Builder<P> b) {
    this.limitBytes = b.limitBytes;
    this.peerShareBytes = b.peerShareBytes;
    this.maxEnvelopeBytes = b.maxEnvelopeBytes;
    this.longestRetentionSeconds = b.longestRetentionSeconds;
    this.refusals = b.refusals;
  }

  public static <P> Builder<P> newBuilder() {
    return new Builder<>();
  }

  /**
   * Reserves {@code declaredLengthBytes} for an upload of {@code fingerprint} from {@code peer}. Call it
   * before accepting the upload's first byte; then {@link #commit} when the blob is durable, or
   * {@link #release} when the upload fails, is aborted or abandoned.
   *
   * @throws RefusalException with MALFORMED (length not positive), ALREADY_HELD, UPLOAD_IN_PROGRESS,
   *     TOO_LARGE (more than this peer could ever place here), PEER_SHARE_EXCEEDED or QUOTA_FULL; the
   *     refusal carries the bytes free and the largest envelope acceptable from this peer now
   */
  public Reservation<P> reserve(Fingerprint fingerprint, long declaredLengthBytes, P peer) throws RefusalException {
    Objects.requireNonNull(fingerprint, "fingerprint");
    Objects.requireNonNull(peer, "peer");
    Refusal refusal;
    synchronized (lock) {
      refusal = check(fingerprint, declaredLengthBytes, peer);
      if (refusal == null) {
        slots.put(fingerprint, new Slot<>(peer, declaredLengthBytes));
        peers.computeIfAbsent(peer, p -> new PeerCounts()).reservedBytes += declaredLengthBytes;
        reservedBytes += declaredLengthBytes;
        reservedCount++;
      }
      Journal<P> j = journal;
      if (j != null) {
        j.record(Op.RESERVE, fingerprint, peer, declaredLengthBytes, refusal == null ? null : refusal.reason(),
            heldBytes, reservedBytes);
      }
    }
    if (refusal != null) {
      throw refusals.record(refusal).toException();
    }
    return new Reservation<>(this, fingerprint, peer, declaredLengthBytes);
  }

  private Refusal check(Fingerprint fingerprint, long declared, P peer) {
    if (declared <= 0) {
      return Refusal.of(Refusal.Reason.MALFORMED,
          fingerprint + ": declared length must be positive but was " + declared);
    }
    Slot<P> existing = slots.get(fingerprint);
    if (existing != null) {
      return existing.held
          ? Refusal.of(Refusal.Reason.ALREADY_HELD, fingerprint + " is already held")
          : Refusal.of(Refusal.Reason.UPLOAD_IN_PROGRESS, fingerprint + " is already being uploaded");
    }
    long free = Math.max(0L, limitBytes - heldBytes - reservedBytes);
    PeerCounts counts = peers.get(peer);
    long peerUsed = counts == null ? 0L : counts.heldBytes + counts.reservedBytes;
    long peerFree = Math.max(0L, peerShareBytes - peerUsed);
    long acceptable = Math.min(maxEnvelopeBytes, Math.min(free, peerFree));
    long everAcceptable = Math.min(maxEnvelopeBytes, Math.min(limitBytes, peerShareBytes));
    if (declared > everAcceptable) {
      return Refusal.ofSpace(Refusal.Reason.TOO_LARGE, fingerprint + ": " + declared
          + " bytes exceeds the largest envelope this holder accepts from one peer, " + everAcceptable
          + " bytes", free, acceptable);
    }
    if (declared > peerFree) {
      return Refusal.ofSpace(Refusal.Reason.PEER_SHARE_EXCEEDED, fingerprint + ": " + declared
          + " bytes from peer " + peer + " exceeds its remaining share of " + peerFree + " bytes (uses "
          + peerUsed + " of " + peerShareBytes + ")", free, acceptable);
    }
    if (declared > free) {
      return Refusal.ofSpace(Refusal.Reason.QUOTA_FULL, fingerprint + ": " + declared
          + " bytes exceeds the " + free + " bytes free of " + limitBytes, free, acceptable);
    }
    return null;
  }

  /**
   * Turns the reservation of {@code fingerprint} into held bytes, once the blob is durable.
   *
   * @throws IllegalStateException if {@code fingerprint} has no reservation (never reserved, already
   *     committed, or released) — a bug in the caller, not a peer's doing
   */
  public void commit(Fingerprint fingerprint) {
    synchronized (lock) {
      Slot<P> slot = slots.get(fingerprint);
      State before = slot == null ? State.ABSENT : slot.held ? State.HELD : State.RESERVED;
      Journal<P> j = journal;
      if (before != State.RESERVED) {
        if (j != null) {
          j.record(Op.COMMIT, fingerprint, slot == null ? null : slot.peer, 0, before, heldBytes, reservedBytes);
        }
        throw new IllegalStateException("commit of " + fingerprint + ": expected a reservation but it is "
            + before);
      }
      slot.held = true;
      PeerCounts counts = peers.get(slot.peer);
      counts.reservedBytes -= slot.lengthBytes;
      counts.heldBytes += slot.lengthBytes;
      reservedBytes -= slot.lengthBytes;
      reservedCount--;
      heldBytes += slot.lengthBytes;
      heldCount++;
      if (j != null) {
        j.record(Op.COMMIT, fingerprint, slot.peer, slot.lengthBytes, null, heldBytes, reservedBytes);
      }
    }
  }

  /**
   * Frees whatever {@code fingerprint} counts, held or reserved: on abort, failure, delivery, release or
   * expiry. Idempotent.
   *
   * @return the bytes freed; 0 if the ledger did not count it
   */
  public long release(Fingerprint fingerprint) {
    synchronized (lock) {
      Slot<P> slot = slots.remove(fingerprint);
      long freed = 0;
      if (slot != null) {
        freed = slot.lengthBytes;
        PeerCounts counts = peers.get(slot.peer);
        if (slot.held) {
          counts.heldBytes -= freed;
          heldBytes -= freed;
          heldCount--;
        } else {
          counts.reservedBytes -= freed;
          reservedBytes -= freed;
          reservedCount--;
        }
        if (counts.heldBytes == 0 && counts.reservedBytes == 0) {
          peers.remove(slot.peer);
        }
      }
      Journal<P> j = journal;
      if (j != null) {
        j.record(Op.RELEASE, fingerprint, slot == null ? null : slot.peer, freed, null, heldBytes, reservedBytes);
      }
      return freed;
    }
  }

  /**
   * Replaces the whole state with what the store found on disk: every committed blob and every partial
   * upload it keeps. Call once on open, before serving. The result may exceed the limit (the volunteer
   * lowered it while data was held): nothing is evicted, and every reservation is refused until enough
   * is freed.
   *
   * @throws IllegalArgumentException if a fingerprint appears twice (the store reported one blob twice);
   *     the ledger is then left unchanged
   */
  public void rebuild(Iterable<? extends LedgerEntry<P>> entries) {
    Map<Fingerprint, Slot<P>> newSlots = new HashMap<>();
    Map<P, PeerCounts> newPeers = new HashMap<>();
    long held = 0;
    long reserved = 0;
    long nHeld = 0;
    long nReserved = 0;
    for (LedgerEntry<P> e : entries) {
      Slot<P> slot = new Slot<>(e.peer(), e.lengthBytes());
      slot.held = e.committed();
      if (newSlots.put(e.fingerprint(), slot) != null) {
        throw new IllegalArgumentException("rebuild: " + e.fingerprint() + " reported twice");
      }
      PeerCounts counts = newPeers.computeIfAbsent(e.peer(), p -> new PeerCounts());
      if (slot.held) {
        counts.heldBytes = Math.addExact(counts.heldBytes, e.lengthBytes());
        held = Math.addExact(held, e.lengthBytes());
        nHeld++;
      } else {
        counts.reservedBytes = Math.addExact(counts.reservedBytes, e.lengthBytes());
        reserved = Math.addExact(reserved, e.lengthBytes());
        nReserved++;
      }
    }
    synchronized (lock) {
      slots.clear();
      slots.putAll(newSlots);
      peers.clear();
      peers.putAll(newPeers);
      heldBytes = held;
      reservedBytes = reserved;
      heldCount = nHeld;
      reservedCount = nReserved;
    }
  }

  /** Where {@code fingerprint} stands. */
  public State stateOf(Fingerprint fingerprint) {
    synchronized (lock) {
      Slot<P> slot = slots.get(fingerprint);
      return slot == null ? State.ABSENT : slot.held ? State.HELD : State.RESERVED;
    }
  }

  /** What {@code peer} uses now. */
  public PeerUsage usage(P peer) {
    synchronized (lock) {
      PeerCounts c = peers.get(peer);
      return PeerUsage.of(c == null ? 0 : c.heldBytes, c == null ? 0 : c.reservedBytes, peerShareBytes);
    }
  }

  /** A copy of every peer's usage (held plus reserved bytes), for stats pages. */
  public Map<P, PeerUsage> usageByPeer() {
    synchronized (lock) {
      Map<P, PeerUsage> out = new HashMap<>();
      for (Map.Entry<P, PeerCounts> e : peers.entrySet()) {
        out.put(e.getKey(), PeerUsage.of(e.getValue().heldBytes, e.getValue().reservedBytes, peerShareBytes));
      }
      return out;
    }
  }

  /** A consistent snapshot of the totals and the refusal counts. */
  public QuotaStats stats() {
    long[] refused = refusals.snapshot();
    synchronized (lock) {
      return new QuotaStats(limitBytes, heldBytes, reservedBytes, heldCount, reservedCount, peers.size(), refused);
    }
  }

  /** The counter this ledger records its refusals in (shared with the store for its own). */
  public RefusalCounter refusals() {
    return refusals;
  }

  public long limitBytes() {
    return limitBytes;
  }

  public long peerShareBytes() {
    return peerShareBytes;
  }

  public long maxEnvelopeBytes() {
    return maxEnvelopeBytes;
  }

  /** The retention this holder advertises in refusals; informational. */
  public long longestRetentionSeconds() {
    return longestRetentionSeconds;
  }

  @Override
  public String toString() {
    return "QuotaLedger" + stats();
  }

  private static final class Slot<P> {
    final P peer;
    final long lengthBytes;
    boolean held;

    Slot(P peer, long lengthBytes) {
      this.peer = peer;
      this.lengthBytes = lengthBytes;
    }
  }

  private static final class PeerCounts {
    long heldBytes;
    long reservedBytes;
  }

  /** An upload's claim on the ledger; a handle for {@link QuotaLedger#commit} and {@link QuotaLedger#release}. */
  public static final class Reservation<P> {
    private final QuotaLedger<P> ledger;
    private final Fingerprint fingerprint;
    private final P peer;
    private final long declaredLengthBytes;

    Reservation(QuotaLedger<P> ledger, Fingerprint fingerprint, P peer, long declaredLengthBytes) {
      this.ledger = ledger;
      this.fingerprint = fingerprint;
      this.peer = peer;
      this.declaredLengthBytes = declaredLengthBytes;
    }

    public Fingerprint fingerprint() {
      return fingerprint;
    }

    public P peer() {
      return peer;
    }

    public long declaredLengthBytes() {
      return declaredLengthBytes;
    }

    /** {@link QuotaLedger#commit} of this fingerprint. */
    public void commit() {
      ledger.commit(fingerprint);
    }

    /** {@link QuotaLedger#release} of this fingerprint. */
    public long release() {
      return ledger.release(fingerprint);
    }
  }

  enum Op {
    RESERVE,
    COMMIT,
    RELEASE
  }

  /** Test hook; called inside the critical section. */
  interface Journal<P> {
    /**
     * @param outcome for RESERVE the refusal reason or null; for COMMIT the wrong state or null
     */
    void record(Op op, Fingerprint fingerprint, P peer, long bytes, Object outcome, long heldBytes,
        long reservedBytes);
  }

  /** Fail-fast builder; {@link #build()} checks the options together and leaves the builder unchanged. */
  public static final class Builder<P> {
    private static final long UNSET = -1;
    private long limitBytes = UNSET;
    private long peerShareBytes = UNSET;
    private int peerSharePercent = -1;
    private long maxEnvelopeBytes = UNSET;
    private long longestRetentionSeconds = RetentionPolicy.DEFAULT_MAX_RETENTION_SECONDS;
    private RefusalCounter refusals;

    private Builder() {}

    /** Bytes the volunteer gives to others, in-flight uploads included. Required. */
    public Builder<P> limitBytes(long limitBytes) {
      requireUnset(this.limitBytes == UNSET, "limitBytes", this.limitBytes);
      this.limitBytes = requirePositive(limitBytes, "limitBytes");
      return this;
    }

    /** The most one source peer may use, in bytes. Default: the whole limit. */
    public Builder<P> peerShareBytes(long peerShareBytes) {
      requireUnset(this.peerShareBytes == UNSET && peerSharePercent < 0, "peerShare", this.peerShareBytes);
      this.peerShareBytes = requirePositive(peerShareBytes, "peerShareBytes");
      return this;
    }

    /** The most one source peer may use, as a percentage (1..100) of the limit. */
    public Builder<P> peerSharePercent(int percent) {
      requireUnset(this.peerShareBytes == UNSET && peerSharePercent < 0, "peerShare", peerSharePercent);
      if (percent < 1 || percent > 100) {
        throw new IllegalArgumentException("peerSharePercent must be in [1, 100] but was " + percent);
      }
      this.peerSharePercent = percent;
      return this;
    }

    /** The largest single envelope accepted. Default: no bound beyond the limit and the share. */
    public Builder<P> maxEnvelopeBytes(long maxEnvelopeBytes) {
      requireUnset(this.maxEnvelopeBytes == UNSET, "maxEnvelopeBytes", this.maxEnvelopeBytes);
      this.maxEnvelopeBytes = requirePositive(maxEnvelopeBytes, "maxEnvelopeBytes");
      return this;
    }

    /** The retention advertised in refusals. Default {@link RetentionPolicy#DEFAULT_MAX_RETENTION_SECONDS}. */
    public Builder<P> longestRetentionSeconds(long seconds) {
      this.longestRetentionSeconds = requirePositive(seconds, "longestRetentionSeconds");
      return this;
    }

    /** Where refusals are counted. Default: a counter of its own. */
    public Builder<P> refusalCounter(RefusalCounter counter) {
      this.refusals = Objects.requireNonNull(counter, "counter");
      return this;
    }

    public QuotaLedger<P> build() {
      if (limitBytes == UNSET) {
        throw new IllegalStateException("limitBytes is required");
      }
      Builder<P> b = new Builder<>();
      b.limitBytes = limitBytes;
      b.peerShareBytes = peerSharePercent > 0
          ? Math.max(1L, limitBytes / 100 * peerSharePercent + limitBytes % 100 * peerSharePercent / 100)
          : peerShareBytes == UNSET ? limitBytes : peerShareBytes;
      b.maxEnvelopeBytes = maxEnvelopeBytes == UNSET ? Long.MAX_VALUE : maxEnvelopeBytes;
      b.longestRetentionSeconds = longestRetentionSeconds;
      b.refusals = refusals == null ? new RefusalCounter() : refusals;
      return new QuotaLedger<>(b);
    }

    private static void requireUnset(boolean unset, String name, long current) {
      if (!unset) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }

    private static long requirePositive(long value, String name) {
      if (value <= 0) {
        throw new IllegalArgumentException(name + " must be positive but was " + value);
      }
      return value;
    }
  }
}
