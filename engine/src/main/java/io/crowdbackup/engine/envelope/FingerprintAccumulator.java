package io.crowdbackup.engine.envelope;

import io.crowdbackup.api.Fingerprint;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The fingerprint's outer hash: SHA-256 over the concatenated 32-byte SHA-256 digests of the pieces, in
 * order (piece 0 is the header, piece i is record i - 1). Carrying on needs only the piece digests, never
 * the pieces, so a resumed transfer replays digests instead of re-reading bytes.
 */
public final class FingerprintAccumulator {
  private final MessageDigest outer = Sha256.newDigest();
  private long pieces;

  /** Adds the next piece's digest. */
  public void addPieceDigest(byte[] digest, int offset) {
    outer.update(digest, offset, 32);
    pieces++;
  }

  public void addPieceDigest(byte[] digest) {
    addPieceDigest(digest, 0);
  }

  public long pieceCount() {
    return pieces;
  }

  /** The fingerprint; the accumulator is spent afterwards. */
  public Fingerprint finish() {
    return Fingerprint.of(outer.digest());
  }

  /** SHA-256 helpers. */
  static final class Sha256 {
    private Sha256() {}

    static MessageDigest newDigest() {
      try {
        return MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is required of every Java platform", e);
      }
    }
  }
}
