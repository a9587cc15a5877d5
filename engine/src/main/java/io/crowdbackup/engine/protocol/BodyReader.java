package io.crowdbackup.engine.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.jspecify.annotations.Nullable;

/**
 * Reads a PATCH body through one fixed buffer, at most {@code allowedBytes}: one byte more marks the body
 * as too long, before that byte is used. Hashes what it hands out when the request carried a checksum.
 */
final class BodyReader {
  private final InputStream in;
  private final long allowedBytes;
  private final @Nullable MessageDigest sha256; // null when the request carried no checksum
  private final byte[] buffer = new byte[Exchanges.STREAM_BUFFER_BYTES];
  private long total;
  private boolean tooLong;
  /** Set when reading (not writing) failed: the peer went away or idled out. */
  private @Nullable IOException readFailure;

  BodyReader(InputStream in, long allowedBytes, boolean hash) {
    this.in = in;
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
    int want = (int) Math.min(buffer.length, allowedBytes - total + 1);
    int n;
    try {
      n = in.read(buffer, 0, want);
    } catch (IOException e) {
      readFailure = e;
      return null;
    }
    if (n < 0) {
      return null;
    }
    if (total + n > allowedBytes) {
      tooLong = true;
      return null;
    }
    total += n;
    if (sha256 != null) {
      sha256.update(buffer, 0, n);
    }
    return ByteBuffer.wrap(buffer, 0, n);
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
