package io.crowdbackup.engine.custody;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.store.StoreException;
import org.jspecify.annotations.Nullable;

/**
 * The one place where a store failure during an offer becomes a refusal to the peer. A failure the peer
 * caused (bad bytes, a duplicate) is a refusal; a failure of this device (disk full, I/O error, a closed
 * store) is not the peer's business to be told as a reason about its envelope, so it stays an
 * {@link java.io.IOException} — except that a holder whose disk is full is not accepting.
 *
 * <p>Bytes that are not the envelope offered are rejected by the store with the envelope's own
 * {@link EnvelopeException}: a fingerprint mismatch stays that exception (its own problem type on the wire,
 * {@code fingerprint-mismatch}, as at a destination); any other rejection of the bytes is the refusal
 * MALFORMED, the envelope's reason in its message.
 */
final class StoreRefusals {
  private StoreRefusals() {}

  /** The refusal reason for {@code e}, or {@code null} when {@code e} is this device's fault. */
  static Refusal.@Nullable Reason reasonFor(StoreException e) {
    switch (e.reason()) {
      case DUPLICATE:
        return Refusal.Reason.ALREADY_HELD;
      case DELIVERED:
        return Refusal.Reason.ALREADY_DELIVERED;
      case PAST_EXPIRY:
        return Refusal.Reason.EXPIRED;
      case DISK_FULL:
        return Refusal.Reason.NOT_ACCEPTING;
      default:
        return null;
    }
  }

  /**
   * The refusal for a failure while an accepted upload's bytes arrive, or {@code null} when the upload is
   * still resumable (disk full, I/O error, closed handle): only an expiry found in the bytes, after which
   * the store has removed the upload, becomes a refusal (other rejections of the bytes are
   * {@link EnvelopeException}s, see {@link #refusalFor(EnvelopeException)}).
   */
  static @Nullable Refusal refusalForUploadFailure(StoreException e) {
    return e.reason() == StoreException.Reason.PAST_EXPIRY ? refusalFor(e) : null;
  }

  /**
   * The refusal for bytes the store rejected as not the envelope offered (it removed the upload), or
   * {@code null} for a fingerprint mismatch, which stays the envelope's exception.
   */
  static @Nullable Refusal refusalFor(EnvelopeException e) {
    return e.reason() == EnvelopeException.Reason.FINGERPRINT_MISMATCH
        ? null : Refusal.of(Refusal.Reason.MALFORMED, e.getMessage());
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
