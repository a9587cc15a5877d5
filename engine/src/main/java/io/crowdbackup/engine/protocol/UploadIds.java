package io.crowdbackup.engine.protocol;

import io.crowdbackup.api.Fingerprint;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Upload ids: {@code <fingerprint hex>.<32 hex digits of HMAC-SHA-256(secret, fingerprint)>}. The id is
 * a capability: only the peer the upload URL was given to can PATCH, HEAD or DELETE it, although the
 * fingerprint itself is public. It is derived, not stored, so it survives a restart as long as the secret
 * does, and one fingerprint has one upload URL (a source that lost its state finds it again by offering
 * once more).
 */
public final class UploadIds {
  public static final int SECRET_BYTES = 32;
  private static final int TAG_BYTES = 16;

  private final SecretKeySpec key;

  public UploadIds(byte[] secret) {
    if (secret.length != SECRET_BYTES) {
      throw new IllegalArgumentException("upload id secret must be " + SECRET_BYTES + " bytes but was "
          + secret.length);
    }
    this.key = new SecretKeySpec(secret.clone(), "HmacSHA256");
  }

  public String idOf(Fingerprint fp) {
    return fp.toHex() + "." + hex(tag(fp));
  }

  /**
   * The fingerprint an id names, if its tag is genuine.
   *
   * @throws ProtocolException MALFORMED for a malformed id; {@code null} result for a well-formed id with a
   *     wrong tag (answered as not found, like any unknown upload)
   */
  public @Nullable Fingerprint fingerprintOf(String id) throws ProtocolException {
    if (id.length() != 64 + 1 + 2 * TAG_BYTES || id.charAt(64) != '.') {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, "upload id",
          "must be 64 hex digits, '.', " + 2 * TAG_BYTES + " hex digits");
    }
    // Exactly what idOf writes (lower-case ASCII hex): one upload, one URL, no second spelling.
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (i != 64 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, "upload id",
            "must be lower-case hex digits but has '" + Tus.printable(String.valueOf(c)) + "' at " + i);
      }
    }
    Fingerprint fp = OfferMessage.fingerprint(id.substring(0, 64), "upload id");
    byte[] given = new byte[TAG_BYTES];
    for (int i = 0; i < TAG_BYTES; i++) {
      int hi = Character.digit(id.charAt(65 + 2 * i), 16);
      int lo = Character.digit(id.charAt(66 + 2 * i), 16);
      if (hi < 0 || lo < 0) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, "upload id", "tag must be hex digits");
      }
      given[i] = (byte) (hi << 4 | lo);
    }
    return MessageDigest.isEqual(given, tag(fp)) ? fp : null;
  }

  private byte[] tag(Fingerprint fp) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return Arrays.copyOf(mac.doFinal(fp.toBytes()), TAG_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA-256 is required of every Java platform", e);
    }
  }

  private static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder(b.length * 2);
    for (byte x : b) {
      sb.append(Character.forDigit((x >> 4) & 15, 16)).append(Character.forDigit(x & 15, 16));
    }
    return sb.toString();
  }
}
