package io.crowdbackup.bench;

import java.security.DigestException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.modes.GCMModeCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * The reference loops: AES-256-GCM per chunk plus SHA-256, with nothing else — no header, no framing, no
 * channel, no copy. The chunking is the envelope's (same chunk size, a fresh 12-byte nonce per chunk from a
 * counter and a final flag, 32 bytes of associated data), so the only difference from an envelope is the
 * code around the crypto. {@code limit} hashes the ciphertext (the fingerprint's work); {@code limit-2sha}
 * also hashes the plaintext, as the envelope format requires for its inner metadata.
 */
final class ChunkLoop {
  static final int TAG_BYTES = 16;

  /** One AES-GCM call per chunk. */
  interface Aead {
    /**
     * Starts a new message: changes the nonce prefix, so that sealing the same plaintext again never
     * repeats a (key, nonce) pair (the JDK refuses that, and it is the one thing GCM must never do).
     */
    void newMessage();

    int encrypt(long counter, boolean last, byte[] in, int off, int len, byte[] out);

    int decrypt(long counter, boolean last, byte[] in, int off, int len, byte[] out);
  }

  /** A running SHA-256. */
  interface Hash {
    void update(byte[] b, int off, int len);

    byte[] digest();
  }

  private final Aead aead;
  private final Hash ciphertextHash;
  private final Hash plaintextHashOrNull;
  private final int chunkBytes;
  private final byte[] out;

  ChunkLoop(Aead aead, Hash ciphertextHash, Hash plaintextHashOrNull, int chunkBytes) {
    this.aead = aead;
    this.ciphertextHash = ciphertextHash;
    this.plaintextHashOrNull = plaintextHashOrNull;
    this.chunkBytes = chunkBytes;
    this.out = new byte[chunkBytes + TAG_BYTES];
  }

  static int chunkCount(long plaintextBytes, int chunkBytes) {
    return (int) ((plaintextBytes + chunkBytes - 1) / chunkBytes);
  }

  /** Encrypts and hashes the whole plaintext; returns the ciphertext digest. */
  byte[] seal(Plaintext p) {
    aead.newMessage();
    long counter = 0;
    for (long position = 0; position < p.lengthBytes; position += chunkBytes, counter++) {
      int n = (int) Math.min(chunkBytes, p.lengthBytes - position);
      int offset = p.offsetOf(position);
      if (plaintextHashOrNull != null) {
        plaintextHashOrNull.update(p.block, offset, n);
      }
      int c = aead.encrypt(counter, position + n == p.lengthBytes, p.block, offset, n, out);
      ciphertextHash.update(out, 0, c);
    }
    if (plaintextHashOrNull != null) {
      plaintextHashOrNull.digest();
    }
    return ciphertextHash.digest();
  }

  /** The concatenated chunk ciphertexts of {@code p}, the input of {@link #open}. Setup only. */
  byte[] ciphertextOf(Plaintext p) {
    aead.newMessage();
    int chunks = chunkCount(p.lengthBytes, chunkBytes);
    byte[] ciphertext = new byte[Math.toIntExact(p.lengthBytes + (long) chunks * TAG_BYTES)];
    int at = 0;
    long counter = 0;
    for (long position = 0; position < p.lengthBytes; position += chunkBytes, counter++) {
      int n = (int) Math.min(chunkBytes, p.lengthBytes - position);
      int c = aead.encrypt(counter, position + n == p.lengthBytes, p.block, p.offsetOf(position), n, out);
      System.arraycopy(out, 0, ciphertext, at, c);
      at += c;
    }
    return ciphertext;
  }

  /** Hashes and decrypts every chunk of what {@link #ciphertextOf} returned last; returns the ciphertext digest. */
  byte[] open(byte[] ciphertext) {
    long counter = 0;
    int ctChunk = chunkBytes + TAG_BYTES;
    for (int at = 0; at < ciphertext.length; at += ctChunk, counter++) {
      int c = Math.min(ctChunk, ciphertext.length - at);
      ciphertextHash.update(ciphertext, at, c);
      int n = aead.decrypt(counter, at + c == ciphertext.length, ciphertext, at, c, out);
      if (n < 0) {
        throw new IllegalStateException("chunk " + counter + " does not authenticate");
      }
      if (plaintextHashOrNull != null) {
        plaintextHashOrNull.update(out, 0, n);
      }
    }
    if (plaintextHashOrNull != null) {
      plaintextHashOrNull.digest();
    }
    return ciphertextHash.digest();
  }

  /** The 12-byte STREAM nonce: 7-byte prefix, u32 counter, final flag, written into {@code nonce}. */
  static void nonce(byte[] nonce, long counter, boolean last) {
    nonce[7] = (byte) (counter >>> 24);
    nonce[8] = (byte) (counter >>> 16);
    nonce[9] = (byte) (counter >>> 8);
    nonce[10] = (byte) counter;
    nonce[11] = (byte) (last ? 1 : 0);
  }

  /** Counts messages in the first four bytes of the nonce prefix. */
  static void nextPrefix(byte[] nonce) {
    for (int i = 3; i >= 0 && ++nonce[i] == 0; i--) {
      // carry
    }
  }

  /** The JDK's AES/GCM/NoPadding (SunJCE, with its AES-NI/CLMUL/AVX-512 intrinsics). */
  static final class JdkAead implements Aead {
    private final Cipher cipher;
    private final SecretKeySpec key;
    private final byte[] aad;
    private final byte[] nonce;

    JdkAead(byte[] key32, byte[] noncePrefix7, byte[] aad) {
      try {
        this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
      this.key = new SecretKeySpec(key32, "AES");
      this.aad = aad.clone();
      this.nonce = java.util.Arrays.copyOf(noncePrefix7, 12);
    }

    @Override
    public void newMessage() {
      nextPrefix(nonce);
    }

    @Override
    public int encrypt(long counter, boolean last, byte[] in, int off, int len, byte[] out) {
      nonce(nonce, counter, last);
      try {
        cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, nonce));
        cipher.updateAAD(aad);
        return cipher.doFinal(in, off, len, out, 0);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public int decrypt(long counter, boolean last, byte[] in, int off, int len, byte[] out) {
      nonce(nonce, counter, last);
      try {
        cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, nonce));
        cipher.updateAAD(aad);
        return cipher.doFinal(in, off, len, out, 0);
      } catch (javax.crypto.AEADBadTagException e) {
        return -1;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** Bouncy Castle's lightweight GCM over its AES engine (pure Java, table-based GHASH). */
  static final class BcAead implements Aead {
    private final GCMModeCipher gcm = GCMBlockCipher.newInstance(AESEngine.newInstance());
    private final KeyParameter key;
    private final byte[] aad;
    private final byte[] nonce;

    BcAead(byte[] key32, byte[] noncePrefix7, byte[] aad) {
      this.key = new KeyParameter(key32);
      this.aad = aad.clone();
      this.nonce = java.util.Arrays.copyOf(noncePrefix7, 12);
    }

    @Override
    public void newMessage() {
      nextPrefix(nonce);
    }

    @Override
    public int encrypt(long counter, boolean last, byte[] in, int off, int len, byte[] out) {
      nonce(nonce, counter, last);
      gcm.init(true, new AEADParameters(key, TAG_BYTES * 8, nonce.clone(), aad));
      int n = gcm.processBytes(in, off, len, out, 0);
      try {
        return n + gcm.doFinal(out, n);
      } catch (org.bouncycastle.crypto.InvalidCipherTextException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public int decrypt(long counter, boolean last, byte[] in, int off, int len, byte[] out) {
      nonce(nonce, counter, last);
      gcm.init(false, new AEADParameters(key, TAG_BYTES * 8, nonce.clone(), aad));
      int n = gcm.processBytes(in, off, len, out, 0);
      try {
        return n + gcm.doFinal(out, n);
      } catch (org.bouncycastle.crypto.InvalidCipherTextException e) {
        return -1;
      }
    }
  }

  /** The JDK's SHA-256 (SHA-NI / AVX2 intrinsic where the CPU has it). */
  static final class JdkHash implements Hash {
    private final MessageDigest md;
    private final byte[] digest = new byte[32];

    JdkHash() {
      this.md = newSha256();
    }

    @Override
    public void update(byte[] b, int off, int len) {
      md.update(b, off, len);
    }

    @Override
    public byte[] digest() {
      try {
        md.digest(digest, 0, 32);
      } catch (DigestException e) {
        throw new IllegalStateException(e);
      }
      return digest;
    }
  }

  /** Bouncy Castle's pure-Java SHA-256. */
  static final class BcHash implements Hash {
    private final SHA256Digest md = new SHA256Digest();
    private final byte[] digest = new byte[32];

    @Override
    public void update(byte[] b, int off, int len) {
      md.update(b, off, len);
    }

    @Override
    public byte[] digest() {
      md.doFinal(digest, 0);
      return digest;
    }
  }

  static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
