package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM over one envelope's chunks, STREAM-style. Computes each nonce itself from the nonce prefix,
 * the chunk counter and the final flag; callers cannot pass one. Not thread-safe: one per thread.
 */
final class ChunkCipher {
  private final SecretKeySpec key;
  private final byte[] nonce = new byte[NONCE_BYTES];
  private final byte[] aad;
  private final Cipher cipher;

  /**
   * @param keyAndPrefix 32-byte key then 7-byte nonce prefix, from {@link KeySchedule}
   * @param aad associated data of every chunk: SHA-256 of piece 0, which binds the header
   */
  ChunkCipher(byte[] keyAndPrefix, byte[] aad) {
    this.key = new SecretKeySpec(keyAndPrefix, 0, 32, "AES");
    System.arraycopy(keyAndPrefix, 32, nonce, 0, NONCE_PREFIX_BYTES);
    this.aad = aad.clone();
    try {
      this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/GCM/NoPadding is required of every Java platform", e);
    }
  }

  private GCMParameterSpec nonceFor(long counter, boolean last) {
    nonce[7] = (byte) (counter >>> 24);
    nonce[8] = (byte) (counter >>> 16);
    nonce[9] = (byte) (counter >>> 8);
    nonce[10] = (byte) counter;
    nonce[11] = (byte) (last ? 1 : 0);
    return new GCMParameterSpec(TAG_BYTES * 8, nonce);
  }

  /** Encrypts {@code len} bytes; writes ciphertext and tag ({@code len + 16} bytes) at {@code out[outOff]}. */
  int encrypt(long counter, boolean last, byte[] in, int off, int len, byte[] out, int outOff) {
    try {
      cipher.init(Cipher.ENCRYPT_MODE, key, nonceFor(counter, last));
      cipher.updateAAD(aad);
      return cipher.doFinal(in, off, len, out, outOff);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    }
  }

  /**
   * Decrypts and authenticates; returns plaintext length, or -1 when the tag does not verify (wrong
   * counter, wrong final flag, altered bytes, another envelope's chunk).
   */
  int decrypt(long counter, boolean last, byte[] in, int off, int len, byte[] out, int outOff) {
    try {
      cipher.init(Cipher.DECRYPT_MODE, key, nonceFor(counter, last));
      cipher.updateAAD(aad);
      return cipher.doFinal(in, off, len, out, outOff);
    } catch (AEADBadTagException e) {
      return -1;
    } catch (GeneralSecurityException e) {
      // Only a tag mismatch is the input's fault; anything else (a short buffer, a bad key) is ours.
      throw new IllegalStateException("AES-GCM decryption failed", e);
    }
  }
}
