package io.crowdbackup.api;

import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A signed statement about one envelope. A {@link Kind#RECEIPT} is signed by the destination's receipt key
 * ("I have it"); a {@link Kind#RELEASE} by the source's release key ("I delivered it myself"). Either lets
 * a holder drop its copy — once it has checked the signature against the key in that envelope's own
 * header. A {@code Receipt} instance is only a parsed value: it proves nothing until verified.
 */
public final class Receipt {
  /** Who signed, and so which header key verifies it. */
  public enum Kind {
    RECEIPT(1),
    RELEASE(2);

    private final int code;

    Kind(int code) {
      this.code = code;
    }

    public int code() {
      return code;
    }

    /** The kind for a code, or {@code null} when the code is undefined. */
    public static @Nullable Kind ofCode(int code) {
      for (Kind k : values()) {
        if (k.code == code) {
          return k;
        }
      }
      return null;
    }
  }

  private final Kind kind;
  private final Fingerprint fingerprint;
  private final long signedAtEpochSecond;
  private final byte[] signerKey;
  private final byte[] signature;

  public Receipt(Kind kind, Fingerprint fingerprint, long signedAtEpochSecond, byte[] signerKey, byte[] signature) {
    this.kind = Objects.requireNonNull(kind, "kind");
    this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    this.signedAtEpochSecond = signedAtEpochSecond;
    this.signerKey = Bytes32.copyOfLength(signerKey, 32, "signerKey");
    this.signature = Bytes32.copyOfLength(signature, 64, "signature");
  }

  public Kind kind() {
    return kind;
  }

  public Fingerprint fingerprint() {
    return fingerprint;
  }

  public long signedAtEpochSecond() {
    return signedAtEpochSecond;
  }

  /** A copy of the Ed25519 public key that claims to have signed. */
  public byte[] signerKey() {
    return signerKey.clone();
  }

  /** A copy of the 64-byte Ed25519 signature. */
  public byte[] signature() {
    return signature.clone();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof Receipt)) {
      return false;
    }
    Receipt r = (Receipt) o;
    return kind == r.kind
        && signedAtEpochSecond == r.signedAtEpochSecond
        && fingerprint.equals(r.fingerprint)
        && Arrays.equals(signerKey, r.signerKey)
        && Arrays.equals(signature, r.signature);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, fingerprint, signedAtEpochSecond);
  }

  @Override
  public String toString() {
    return "Receipt{kind=" + kind + ", fingerprint=" + fingerprint + ", signedAtEpochSecond="
        + signedAtEpochSecond + ", signerKey=" + Bytes32.hex(signerKey) + "}";
  }
}
