package io.crowdbackup.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * An Ed25519 key pair. A source uses one to sign releases ("I delivered it myself, drop your copy"); its
 * public key travels in every envelope header as the release key. The seed is read only through
 * {@link SecretAccess} and never appears in {@link #toString()}.
 */
public final class SigningKeyPair {
  private final byte[] publicKey;
  private final byte[] seed;

  public SigningKeyPair(byte[] publicKey, byte[] seed) {
    this.publicKey = Bytes32.copyOfLength(publicKey, 32, "publicKey");
    this.seed = Bytes32.copyOfLength(seed, 32, "seed");
  }

  /** A copy of the Ed25519 public key. */
  public byte[] publicKey() {
    return publicKey.clone();
  }

  /** A copy of the 32-byte Ed25519 private seed. */
  public byte[] seed(SecretAccess access) {
    Objects.requireNonNull(access, "access");
    return seed.clone();
  }

  /** Overwrites the seed; the pair is unusable afterwards. */
  public void destroy() {
    Arrays.fill(seed, (byte) 0);
  }

  @Override
  public String toString() {
    return "SigningKeyPair{publicKey=" + Bytes32.hex(publicKey) + ", seed redacted}";
  }
}
