package io.crowdbackup.engine.custody;

import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.store.StoreException;
import org.jspecify.annotations.Nullable;

/**
 * The one place where a store failure during an offer becomes a refusal to the peer. A failure the peer
 * caused (bad bytes, a duplicate) is a refusal; a failure of this device (disk full, I/O error, a closed
 * store) is not the peer's business to be told as a reason about its envelope, so it stays an
 * {@link java.io.IOException} — except that a holder whose disk is full is not accepting.
 */
final class StoreRefusals {
  private StoreRefusals() {}

  /** The refusal reason for {@code e}, or {@code null} when {@code e} is this device's fault. */
  static Refusal.@Nullable Reason reasonFor(StoreException e) {
    switch (e.reason()) {
      case DUPLICATE:
        return Refusal.Reason.ALREADY_HELD;
      case ALREADY_DELIVERED:
        return Refusal.Reason.ALREADY_DELIVERED;
      case FINGERPRINT_MISMATCH:
        return Refusal.Reason.FINGERPRINT_MISMATCH;
      case MALFORMED:
      case LENGTH_MISMATCH:
        return Refusal.Reason.MALFORMED;
      case EXPIRED:
        return Refusal.Reason.EXPIRED;
      case DISK_FULL:
        return Refusal.Reason.NOT_ACCEPTING;
      default:
        return null;
    }
  }

  /**
   * The refusal for a failure while an accepted upload's bytes arrive, or {@code null} when the upload is
   * still resumable (disk full, I/O error, closed handle): only rejections of the bytes themselves, after
   * which the store has removed the upload, become refusals.
   */
  static @Nullable Refusal refusalForUploadFailure(StoreException e) {
    switch (e.reason()) {
      case MALFORMED:
      case LENGTH_MISMATCH:
      case FINGERPRINT_MISMATCH:
      case EXPIRED:
        return refusalFor(e);
      default:
        return null;
    }
  }

  /** The refusal for {@code e}, or {@code null}; see {@link #reasonFor}. */
  static @Nullable Refusal refusalFor(StoreException e) {
    Refusal.Reason r = reasonFor(e);
    return r == null ? null : Refusal.of(r, peerMessage(e));
  }

  /**
   * What the peer is told about {@code e}: the store's explanation and its numbers, without the store's
   * "REASON [path]: " prefix (the refusal carries its own reason) and never a path of this device; the
   * path stays in {@code e}, which the refusal keeps as its local cause.
   */
  static String peerMessage(StoreException e) {
    if (e.reason() == StoreException.Reason.DISK_FULL) {
      return "this holder's storage is full";
    }
    String message = e.getMessage();
    String path = e.path();
    String prefix = e.reason() + (path == null ? "" : " [" + path + "]") + ": ";
    String body = message.startsWith(prefix) ? message.substring(prefix.length()) : message;
    return path == null || path.isEmpty() ? body : body.replace(path, "(a file of the holder)");
  }
}
