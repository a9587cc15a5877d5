package io.crowdbackup.engine.policy;

import io.crowdbackup.api.Fingerprint;
import java.util.Objects;

/**
 * One blob as the store reports it when the ledger is rebuilt: what it is, how many bytes it counts,
 * who gave it, and whether it is committed (held) or still an upload in progress (reserved). Immutable.
 */
public final class LedgerEntry<P> {
  private final Fingerprint fingerprint;
  private final long lengthBytes;
  private final P peer;
  private final boolean committed;

  private LedgerEntry(Fingerprint fingerprint, long lengthBytes, P peer, boolean committed) {
    this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    this.peer = Objects.requireNonNull(peer, "peer");
    if (lengthBytes <= 0) {
      throw new IllegalArgumentException("lengthBytes of " + fingerprint + " must be positive but was " + lengthBytes);
    }
    this.lengthBytes = lengthBytes;
    this.committed = committed;
  }

  /** A committed custody blob. */
  public static <P> LedgerEntry<P> held(Fingerprint fingerprint, long lengthBytes, P peer) {
    return new LedgerEntry<>(fingerprint, lengthBytes, peer, true);
  }

  /**
   * An upload in progress (a resumable partial upload that survived the restart): it counts its
   * declared length, not the bytes received so far.
   */
  public static <P> LedgerEntry<P> reserved(Fingerprint fingerprint, long declaredLengthBytes, P peer) {
    return new LedgerEntry<>(fingerprint, declaredLengthBytes, peer, false);
  }

  public Fingerprint fingerprint() {
    return fingerprint;
  }

  public long lengthBytes() {
    return lengthBytes;
  }

  public P peer() {
    return peer;
  }

  public boolean committed() {
    return committed;
  }

  @Override
  public String toString() {
    return (committed ? "held " : "reserved ") + fingerprint + " " + lengthBytes + " bytes from " + peer;
  }
}
