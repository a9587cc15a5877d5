package io.crowdbackup.engine.envelope;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import net.jpountz.lz4.LZ4Factory;

/**
 * A second implementation of envelope format v2 and receipts, written from {@code docs/envelope-format.md}
 * with the JDK's own primitives only (X25519 and Ed25519 from the JDK, HKDF by hand over HmacSHA256),
 * sharing no code with the engine, which uses Bouncy Castle for X25519, HKDF and Ed25519. The vector
 * generator takes its intermediate values from here, and {@link VectorsTest} checks that both
 * implementations agree on every vector. Test-only: errors are plain exceptions, not typed reasons.
 */
final class SpecReference {
  static final byte[] MAGIC = "CRWDBK".getBytes(StandardCharsets.US_ASCII);
  static final byte[] INFO_HEADER_MAC = "crowdbackup v2 header mac".getBytes(StandardCharsets.US_ASCII);
  static final byte[] INFO_PAYLOAD = "crowdbackup v2 payload".getBytes(StandardCharsets.US_ASCII);
  static final byte[] RECEIPT_DOMAIN = "crowdbackup receipt v1".getBytes(StandardCharsets.US_ASCII);
  static final byte[] X25519_BASE_POINT = new byte[32];

  static {
    X25519_BASE_POINT[0] = 9;
  }

  private SpecReference() {}

  // ---- primitives -------------------------------------------------------------------------------------

  static byte[] sha256(byte[]... parts) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (byte[] p : parts) {
        d.update(p);
      }
      return d.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] hmacSha256(byte[] key, byte[]... parts) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      for (byte[] p : parts) {
        mac.update(p);
      }
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** RFC 5869 HKDF-Extract with SHA-256. */
  static byte[] hkdfExtract(byte[] salt, byte[] ikm) {
    return hmacSha256(salt, ikm);
  }

  /** RFC 5869 HKDF-Expand with SHA-256. */
  static byte[] hkdfExpand(byte[] prk, byte[] info, int length) {
    byte[] out = new byte[length];
    byte[] t = new byte[0];
    for (int i = 1, done = 0; done < length; i++) {
      t = hmacSha256(prk, t, info, new byte[] {(byte) i});
      int n = Math.min(t.length, length - done);
      System.arraycopy(t, 0, out, done, n);
      done += n;
    }
    return out;
  }

  private static byte[] reversed(byte[] b) {
    byte[] r = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      r[i] = b[b.length - 1 - i];
    }
    return r;
  }

  /** RFC 7748 X25519(scalar, u) with the JDK's XDH; the JDK refuses an all-zero result. */
  static byte[] x25519(byte[] scalar, byte[] u) throws GeneralSecurityException {
    KeyFactory kf = KeyFactory.getInstance("XDH");
    PrivateKey priv = kf.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar));
    byte[] masked = u.clone();
    masked[31] &= 0x7f;
    PublicKey pub = kf.generatePublic(
        new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, reversed(masked))));
    KeyAgreement ka = KeyAgreement.getInstance("XDH");
    ka.init(priv);
    ka.doPhase(pub, true);
    return ka.generateSecret();
  }

  static byte[] x25519Public(byte[] scalar) throws GeneralSecurityException {
    return x25519(scalar, X25519_BASE_POINT);
  }

  /** The RFC 8032 public key of an Ed25519 seed, from the JDK's key generator fed exactly that seed. */
  static byte[] ed25519Public(byte[] seed) throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
    g.initialize(NamedParameterSpec.ED25519, new SecureRandom() {
      private static final long serialVersionUID = 1L;

      @Override
      public void nextBytes(byte[] bytes) {
        if (bytes.length != 32) {
          throw new IllegalStateException("expected a 32-byte seed draw, got " + bytes.length);
        }
        System.arraycopy(seed, 0, bytes, 0, 32);
      }
    });
    EdECPoint p = ((EdECPublicKey) g.generateKeyPair().getPublic()).getPoint();
    byte[] y = p.getY().toByteArray();
    byte[] le = new byte[32];
    for (int i = 0; i < Math.min(32, y.length); i++) {
      le[i] = y[y.length - 1 - i];
    }
    if (p.isXOdd()) {
      le[31] |= (byte) 0x80;
    }
    return le;
  }

  static byte[] ed25519Sign(byte[] seed, byte[] message) throws GeneralSecurityException {
    PrivateKey k = KeyFactory.getInstance("Ed25519")
        .generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, seed));
    Signature s = Signature.getInstance("Ed25519");
    s.initSign(k);
    s.update(message);
    return s.sign();
  }

  static boolean ed25519Verify(byte[] publicKey, byte[] message, byte[] signature) {
    try {
      byte[] le = publicKey.clone();
      boolean xOdd = (le[31] & 0x80) != 0;
      le[31] &= 0x7f;
      PublicKey k = KeyFactory.getInstance("Ed25519").generatePublic(new EdECPublicKeySpec(
          NamedParameterSpec.ED25519, new EdECPoint(xOdd, new BigInteger(1, reversed(le)))));
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(k);
      s.update(message);
      return s.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** nonce = prefix (7) || u32 counter || u8 final. */
  static byte[] nonce(byte[] prefix, long counter, boolean last) {
    return ByteBuffer.allocate(12).put(prefix).putInt((int) counter).put((byte) (last ? 1 : 0)).array();
  }

  static byte[] aesGcm(int mode, byte[] key, byte[] nonce, byte[] aad, byte[] in) throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
    c.updateAAD(aad);
    return c.doFinal(in);
  }

  // ---- the key schedule --------------------------------------------------------------------------------

  /** Every value derived for one envelope layer. */
  static final class Derived {
    byte[] ephemeralPublic;
    byte[] sharedSecret;
    byte[] prk;
    byte[] headerMacKey;
    byte[] headerMac;
    byte[] piece0;
    byte[] piece0Sha256;
    byte[] payloadKey;
    byte[] noncePrefix;
  }

  /** prk, MAC key, then (once piece 0 is known) payload key and nonce prefix. */
  static Derived keySchedule(byte[] sharedSecret, byte[] ephemeralPublic, byte[] destinationPublic, byte[] salt) {
    Derived d = new Derived();
    d.ephemeralPublic = ephemeralPublic;
    d.sharedSecret = sharedSecret;
    d.prk = hkdfExtract(salt, EnvelopeLayout.concat(sharedSecret, ephemeralPublic, destinationPublic));
    d.headerMacKey = hkdfExpand(d.prk, INFO_HEADER_MAC, 32);
    return d;
  }

  static void payloadKeys(Derived d, byte[] piece0) {
    d.piece0 = piece0;
    d.headerMac = Arrays.copyOfRange(piece0, piece0.length - 32, piece0.length);
    d.piece0Sha256 = sha256(piece0);
    byte[] okm = hkdfExpand(d.prk, EnvelopeLayout.concat(INFO_PAYLOAD, d.piece0Sha256), 39);
    d.payloadKey = Arrays.copyOf(okm, 32);
    d.noncePrefix = Arrays.copyOfRange(okm, 32, 39);
  }

  // ---- sealing ----------------------------------------------------------------------------------------

  /** What to seal: header fields, secrets and the exact plaintext of every chunk (encoding byte first). */
  static final class Plan {
    int chunkSizeLog2 = 12;
    long expiresAtEpochSecond;
    byte[] ephemeralSecret;
    byte[] salt;
    byte[] destinationAgreementKey;
    byte[] receiptKey;
    byte[] releaseKey;
    String locator;
    List<byte[]> dataChunkPlaintexts = new ArrayList<>();
    /** The 512-byte final chunk plaintext, or {@code null} to leave the final chunk out. */
    byte[] metadataPlaintext;
  }

  /** Seals exactly as the spec says; the envelope is {@code derived.piece0} followed by the records. */
  static byte[] seal(Plan p, Derived[] derivedOut) throws GeneralSecurityException {
    byte[] locator = p.locator.getBytes(StandardCharsets.UTF_8);
    int bodyLength = 148 + locator.length; // 1+1+8+8+4*32+2 fixed bytes, then the locator
    int piece0Length = 10 + bodyLength + 32;
    long envelopeLength = piece0Length;
    for (byte[] c : p.dataChunkPlaintexts) {
      envelopeLength += 4 + c.length + 16;
    }
    if (p.metadataPlaintext != null) {
      envelopeLength += 4 + p.metadataPlaintext.length + 16;
    }
    byte[] ephemeralPublic = x25519Public(p.ephemeralSecret);
    Derived d = keySchedule(x25519(p.ephemeralSecret, p.destinationAgreementKey), ephemeralPublic,
        p.destinationAgreementKey, p.salt);
    ByteBuffer h = ByteBuffer.allocate(piece0Length - 32);
    h.put(MAGIC).putShort((short) 2).putShort((short) bodyLength).put((byte) 1).put((byte) p.chunkSizeLog2)
        .putLong(envelopeLength).putLong(p.expiresAtEpochSecond).put(ephemeralPublic).put(p.salt)
        .put(p.receiptKey).put(p.releaseKey).putShort((short) locator.length).put(locator);
    byte[] withoutMac = h.array();
    payloadKeys(d, EnvelopeLayout.concat(withoutMac, hmacSha256(d.headerMacKey, withoutMac)));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(d.piece0);
    long counter = 0;
    for (byte[] c : p.dataChunkPlaintexts) {
      out.writeBytes(record(aesGcm(Cipher.ENCRYPT_MODE, d.payloadKey, nonce(d.noncePrefix, counter++, false),
          d.piece0Sha256, c)));
    }
    if (p.metadataPlaintext != null) {
      out.writeBytes(record(aesGcm(Cipher.ENCRYPT_MODE, d.payloadKey, nonce(d.noncePrefix, counter, true),
          d.piece0Sha256, p.metadataPlaintext)));
    }
    if (derivedOut != null) {
      derivedOut[0] = d;
    }
    return out.toByteArray();
  }

  private static byte[] record(byte[] ciphertext) {
    return ByteBuffer.allocate(4 + ciphertext.length).putInt(ciphertext.length).put(ciphertext).array();
  }

  /** The 512-byte final chunk plaintext. */
  static byte[] metadata(int contentKind, long plaintextLength, long createdAtEpochMillis, String name,
      String mediaType) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    byte[] t = mediaType.getBytes(StandardCharsets.US_ASCII);
    return ByteBuffer.allocate(512).put((byte) 2).put((byte) contentKind).putLong(plaintextLength)
        .putLong(createdAtEpochMillis).put((byte) n.length).put(n).put((byte) t.length).put(t)
        .array();
  }

  // ---- opening ----------------------------------------------------------------------------------------

  /** What a successful reference open found. */
  static final class Opened {
    byte[] plaintext;
    int contentKind;
    String name;
    String mediaType;
    long createdAtEpochMillis;
    byte[] fingerprint;
    List<byte[]> pieceDigests = new ArrayList<>();
    /** Encoding byte of every record, the final record (2) last. */
    List<Integer> encodings = new ArrayList<>();
    /** Decrypted data chunk plaintexts, encoding byte first. */
    List<byte[]> chunkPlaintexts = new ArrayList<>();
    Derived derived;
  }

  /** Opens per the spec; throws on anything the spec rejects. */
  static Opened open(byte[] e, byte[] agreementSecret)
      throws GeneralSecurityException, java.nio.charset.CharacterCodingException {
    ByteBuffer b = ByteBuffer.wrap(e);
    byte[] magic = new byte[6];
    b.get(magic);
    require(Arrays.equals(magic, MAGIC), "magic");
    require(b.getShort() == 2, "version");
    int bodyLength = b.getShort() & 0xffff;
    require(bodyLength >= 149 && bodyLength <= 148 + 1024, "header length");
    require(b.get() == 1, "suite");
    int log2 = b.get();
    require(log2 >= 12 && log2 <= 22, "chunk size");
    int chunk = 1 << log2;
    long envelopeLength = b.getLong();
    require(envelopeLength == e.length, "envelope length " + envelopeLength + " vs " + e.length);
    long expires = b.getLong();
    require(expires >= 0 && expires <= 253_402_300_799L, "expiry");
    byte[] ephemeral = new byte[32];
    byte[] salt = new byte[32];
    byte[] receiptKey = new byte[32];
    byte[] releaseKey = new byte[32];
    b.get(ephemeral).get(salt).get(receiptKey).get(releaseKey);
    int locatorLength = b.getShort() & 0xffff;
    require(locatorLength == bodyLength - 148, "locator length");
    String locator = StandardCharsets.UTF_8.newDecoder()
        .decode(ByteBuffer.wrap(e, b.position(), locatorLength)).toString();
    require(locator.chars().noneMatch(Character::isISOControl), "locator control character");
    int piece0Length = 10 + bodyLength + 32;
    byte[] piece0 = Arrays.copyOf(e, piece0Length);
    byte[] destinationPublic = x25519Public(agreementSecret);
    Derived d = keySchedule(x25519(agreementSecret, ephemeral), ephemeral, destinationPublic, salt);
    require(MessageDigest.isEqual(hmacSha256(d.headerMacKey, Arrays.copyOf(piece0, piece0Length - 32)),
        Arrays.copyOfRange(piece0, piece0Length - 32, piece0Length)), "header MAC");
    payloadKeys(d, piece0);

    Opened o = new Opened();
    o.derived = d;
    o.pieceDigests.add(d.piece0Sha256);
    ByteArrayOutputStream plain = new ByteArrayOutputStream();
    long finalStart = envelopeLength - 532;
    int pos = piece0Length;
    long counter = 0;
    boolean shortSeen = false;
    while (pos < finalStart) {
      int ct = ByteBuffer.wrap(e, pos, 4).getInt();
      require(ct >= 18 && ct <= 1 + chunk + 16 && pos + 4L + ct <= finalStart, "record length");
      o.pieceDigests.add(sha256(Arrays.copyOfRange(e, pos, pos + 4 + ct)));
      byte[] p = aesGcm(Cipher.DECRYPT_MODE, d.payloadKey, nonce(d.noncePrefix, counter, false), d.piece0Sha256,
          Arrays.copyOfRange(e, pos + 4, pos + 4 + ct));
      require(!shortSeen, "a short chunk was not the last");
      o.chunkPlaintexts.add(p);
      byte[] body;
      if (p[0] == 0) {
        body = Arrays.copyOfRange(p, 1, p.length);
      } else if (p[0] == 1) {
        byte[] inflated = new byte[chunk];
        int n = LZ4Factory.safeInstance().safeDecompressor().decompress(p, 1, p.length - 1, inflated, 0, chunk);
        requireBlockRules(p, n);
        body = Arrays.copyOf(inflated, n);
      } else {
        throw new IllegalArgumentException("data chunk encoding " + p[0]);
      }
      require(body.length > 0, "empty chunk");
      shortSeen = body.length < chunk;
      o.encodings.add((int) p[0]);
      plain.writeBytes(body);
      pos += 4 + ct;
      counter++;
    }
    require(pos == finalStart && ByteBuffer.wrap(e, pos, 4).getInt() == 528, "final record length");
    o.pieceDigests.add(sha256(Arrays.copyOfRange(e, pos, pos + 532)));
    byte[] m = aesGcm(Cipher.DECRYPT_MODE, d.payloadKey, nonce(d.noncePrefix, counter, true), d.piece0Sha256,
        Arrays.copyOfRange(e, pos + 4, pos + 532));
    ByteBuffer mb = ByteBuffer.wrap(m);
    require(mb.get() == 2, "metadata encoding");
    o.encodings.add(2);
    o.contentKind = mb.get();
    require(o.contentKind == 0 || o.contentKind == 1, "content kind");
    long length = mb.getLong();
    o.createdAtEpochMillis = mb.getLong();
    byte[] name = new byte[mb.get() & 0xff];
    mb.get(name);
    o.name = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(name)).toString();
    byte[] type = new byte[mb.get() & 0xff];
    require(type.length <= 127, "media type length");
    mb.get(type);
    for (byte t : type) {
      require(t >= 0x21 && t <= 0x7e, "media type character");
    }
    o.mediaType = new String(type, StandardCharsets.US_ASCII);
    while (mb.hasRemaining()) {
      require(mb.get() == 0, "padding");
    }
    o.plaintext = plain.toByteArray();
    require(o.plaintext.length == length, "plaintext length");
    o.fingerprint = sha256(o.pieceDigests.toArray(new byte[0][]));
    return o;
  }

  /**
   * The spec's LZ4 block rules (§8) that a lenient decoder skips, checked by walking the sequences of the
   * block in {@code p[1..]} that decoded to {@code decoded} bytes: no offset 0, the last match ends at
   * least 5 and starts at least 12 bytes before the end.
   */
  private static void requireBlockRules(byte[] p, int decoded) {
    int i = 1;
    long out = 0;
    long lastStart = -1;
    long lastEnd = -1;
    while (true) {
      int token = p[i++] & 0xff;
      long lit = token >>> 4;
      if (lit == 15) {
        int b;
        do {
          b = p[i++] & 0xff;
          lit += b;
        } while (b == 255);
      }
      i += (int) lit;
      out += lit;
      if (i >= p.length) {
        break;
      }
      int offset = (p[i] & 0xff) | (p[i + 1] & 0xff) << 8;
      i += 2;
      require(offset != 0, "LZ4 match offset 0");
      long len = token & 15;
      if (len == 15) {
        int b;
        do {
          b = p[i++] & 0xff;
          len += b;
        } while (b == 255);
      }
      lastStart = out;
      out += len + 4;
      lastEnd = out;
    }
    require(out == decoded, "LZ4 sequences");
    if (lastEnd >= 0) {
      require(decoded - lastEnd >= 5, "LZ4: the last 5 bytes are literals");
      require(decoded - lastStart >= 12, "LZ4: the last match starts at least 12 bytes before the end");
    }
  }

  /** The fingerprint from framing alone: what a holder computes. */
  static byte[] fingerprint(byte[] e) {
    int piece0Length = 10 + (((e[8] & 0xff) << 8) | (e[9] & 0xff)) + 32;
    List<byte[]> digests = new ArrayList<>();
    digests.add(sha256(Arrays.copyOf(e, piece0Length)));
    int pos = piece0Length;
    while (pos < e.length) {
      int ct = ByteBuffer.wrap(e, pos, 4).getInt();
      digests.add(sha256(Arrays.copyOfRange(e, pos, pos + 4 + ct)));
      pos += 4 + ct;
    }
    return sha256(digests.toArray(new byte[0][]));
  }

  private static void require(boolean ok, String what) {
    if (!ok) {
      throw new IllegalArgumentException("rejected: " + what);
    }
  }
}
