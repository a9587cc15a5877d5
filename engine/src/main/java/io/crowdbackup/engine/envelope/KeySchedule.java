package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeException.Reason;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * The per-envelope key schedule of suite 1. Every secret value of an envelope is derived here, in one
 * place, from one fresh X25519 agreement and a fresh 32-byte salt:
 *
 * <pre>
 *   shared  = X25519(ephemeral secret, destination public)      -- or the reverse on open
 *   ikm     = shared || ephemeral public || destination public
 *   prk     = HKDF-Extract(salt, ikm)
 *   macKey  = HKDF-Expand(prk, "crowdbackup v2 header mac", 32)
 *   payload = HKDF-Expand(prk, "crowdbackup v2 payload" || SHA-256(piece 0), 39)
 *           = AES-256 key (32) || nonce prefix (7)
 * </pre>
 *
 * <p>Why nonces cannot repeat: the payload key is unique to one envelope (fresh ephemeral key and salt),
 * and under it each chunk's nonce is prefix || 32-bit counter || final flag, with the counter strictly
 * increasing and bounded below 2^32 by the format.
 */
final class KeySchedule {
  private final byte[] prk;

  private KeySchedule(byte[] prk) {
    this.prk = prk;
  }

  /** Sender side. */
  static KeySchedule forSealing(byte[] ephemeralSecret, byte[] ephemeralPublic, byte[] destinationPublic,
      byte[] salt) throws EnvelopeException {
    return derive(ephemeralSecret, destinationPublic, ephemeralPublic, destinationPublic, salt);
  }

  /** Destination side. */
  static KeySchedule forOpening(byte[] destinationSecret, byte[] destinationPublic, byte[] ephemeralPublic,
      byte[] salt) throws EnvelopeException {
    return derive(destinationSecret, ephemeralPublic, ephemeralPublic, destinationPublic, salt);
  }

  private static KeySchedule derive(byte[] secret, byte[] peerPublic, byte[] ephemeralPublic,
      byte[] destinationPublic, byte[] salt) throws EnvelopeException {
    byte[] ikm = new byte[96];
    // calculateAgreement rejects an all-zero result (a low-order peer point) by returning false.
    if (!X25519.calculateAgreement(secret, 0, peerPublic, 0, ikm, 0)) {
      throw new EnvelopeException(Reason.FIELD_OUT_OF_BOUNDS,
          "ephemeral key is a low-order X25519 point (all-zero shared secret)");
    }
    System.arraycopy(ephemeralPublic, 0, ikm, 32, 32);
    System.arraycopy(destinationPublic, 0, ikm, 64, 32);
    HKDFBytesGenerator extract = new HKDFBytesGenerator(new SHA256Digest());
    byte[] prk = extract.extractPRK(salt, ikm);
    Arrays.fill(ikm, (byte) 0);
    return new KeySchedule(prk);
  }

  byte[] headerMacKey() {
    return expand(INFO_HEADER_MAC, 32);
  }

  /** 32-byte AES key followed by the 7-byte nonce prefix. */
  byte[] payloadKeyAndNoncePrefix(byte[] piece0Digest) {
    byte[] info = new byte[INFO_PAYLOAD.length + piece0Digest.length];
    System.arraycopy(INFO_PAYLOAD, 0, info, 0, INFO_PAYLOAD.length);
    System.arraycopy(piece0Digest, 0, info, INFO_PAYLOAD.length, piece0Digest.length);
    return expand(info, 32 + NONCE_PREFIX_BYTES);
  }

  private byte[] expand(byte[] info, int length) {
    HKDFBytesGenerator gen = new HKDFBytesGenerator(new SHA256Digest());
    gen.init(HKDFParameters.skipExtractParameters(prk, info));
    byte[] out = new byte[length];
    gen.generateBytes(out, 0, length);
    return out;
  }

  /** HMAC-SHA-256 of piece 0 without its MAC. */
  static byte[] headerMac(byte[] macKey, byte[] piece0, int lengthWithoutMac) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(macKey, "HmacSHA256"));
      mac.update(piece0, 0, lengthWithoutMac);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is required of every Java platform", e);
    }
  }

  /** Constant-time comparison of the MAC at the end of piece 0. */
  static boolean macMatches(byte[] expected, byte[] piece0) {
    byte[] actual = Arrays.copyOfRange(piece0, piece0.length - HEADER_MAC_BYTES, piece0.length);
    return MessageDigest.isEqual(expected, actual);
  }

  void destroy() {
    Arrays.fill(prk, (byte) 0);
  }
}
