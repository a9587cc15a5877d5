package io.crowdbackup.engine.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.jspecify.annotations.Nullable;

/**
 * Reads a PATCH body piece by piece as the binding has it ({@link ProtocolRequest#bodyPieces()}), at most
 * {@code allowedBytes}: a piece that goes past marks the body as too long, before any of it is used.
 * Hashes what it hands out when the request carried a checksum.
 */
final class BodyReader {
  private final ProtocolRequest.BodyPieces in;
  private final long allowedBytes;
  private final @Nullable MessageDigest sha256; // null when the request carried no checksum
  private long total;
  private boolean tooLong;
  /** Set when reading (not writing) failed: the peer went away or idled out. */
  private @Nullable IOException readFailure;

  BodyReader(ProtocolRequest req, long allowedBytes, boolean hash) {
    this.in = req.bodyPieces();
    this.allowedBytes = allowedBytes;
    try {
      this.sha256 = hash ? MessageDigest.getInstance("SHA-256") : null;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  /** The next piece of the body, or {@code null} at its end, when it is too long, or when reading failed. */
  @Nullable ByteBuffer next() {
    if (tooLong || readFailure != null) {
      return null;
    }
    int want = (int) Math.min(Integer.MAX_VALUE, allowedBytes - total + 1);
    ByteBuffer piece;
    try {
      piece = in.next(want);
    } catch (IOException e) {
      readFailure = e;
      return null;
    }
    if (piece == null) {
      return null;
    }
    int n = piece.remaining();
    if (total + n > allowedBytes) {
      tooLong = true;
      return null;
    }
    total += n;
    if (sha256 != null) {
      sha256.update(piece.duplicate());
    }
    return piece;
  }

  long total() {
    return total;
  }

  boolean tooLong() {
    return tooLong;
  }

  @Nullable IOException readFailure() {
    return readFailure;
  }

  /** Whether the body hashed to {@code expected}; true when no checksum was asked for. */
  boolean checksumMatches(byte @Nullable [] expected) {
    MessageDigest d = sha256;
    return expected == null || (d != null && MessageDigest.isEqual(d.digest(), expected));
  }
}
