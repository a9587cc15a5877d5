package io.crowdbackup.api;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The identity of an envelope: a 32-byte SHA-256 digest over the per-piece SHA-256 digests of the
 * complete envelope bytes (see {@code docs/envelope-format.md}, "Fingerprint"). Immutable.
 */
public final class Fingerprint implements Comparable<Fingerprint> {
  /** Length of a fingerprint in bytes. */
  public static final int LENGTH_BYTES = 32;

  private final byte[] digest;

  private Fingerprint(byte[] digest) {
    this.digest = digest;
  }

  /** Wraps a copy of a 32-byte digest. */
  public static Fingerprint of(byte[] digest) {
    return new Fingerprint(Bytes32.copyOfLength(digest, LENGTH_BYTES, "fingerprint"));
  }

  /** Parses 64 lower- or upper-case hex digits. */
  public static Fingerprint fromHex(String hex) {
    byte[] bytes = Bytes32.fromHex(hex, "fingerprint");
    return of(bytes);
  }

  /** A copy of the 32 digest bytes. */
  public byte[] toBytes() {
    return Arrays.copyOf(digest, LENGTH_BYTES);
  }

  /** 64 lower-case hex digits. */
  public String toHex() {
    return Bytes32.hex(digest);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Fingerprint && Arrays.equals(digest, ((Fingerprint) o).digest);
  }

  @Override
  public int hashCode() {
    // The digest is uniformly distributed: its first bytes are as good a hash as any.
    return ((digest[0] & 0xff) << 24) | ((digest[1] & 0xff) << 16) | ((digest[2] & 0xff) << 8) | (digest[3] & 0xff);
  }

  @Override
  public int compareTo(Fingerprint other) {
    for (int i = 0; i < LENGTH_BYTES; i++) {
      int c = (digest[i] & 0xff) - (other.digest[i] & 0xff);
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }

  @Override
  public String toString() {
    return toHex();
  }
}
