package io.crowdbackup.engine.receipt;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.Receipt.Kind;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.ReceiptException.Reason;
import io.crowdbackup.api.SecretAccess;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.envelope.Hex;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * Receipts and releases: signing, the fixed 143-byte binary form, parsing and verification.
 *
 * <pre>
 *   "CBRC" (4) | version u16 = 1 | kind u8 (1 receipt, 2 release) | fingerprint (32)
 *   | signed-at i64 epoch seconds | signer Ed25519 public key (32) | Ed25519 signature (64)
 * </pre>
 *
 * The signature covers the domain string {@code "crowdbackup receipt v1"} followed by the first 79 bytes
 * (everything before the signature), so it cannot be replayed as any other signed object of ours.
 */
public final class Receipts {
  /** Encoded length of every v1 receipt and release. */
  public static final int ENCODED_BYTES = 143;
  static final int VERSION = 1;
  private static final byte[] MAGIC = {'C', 'B', 'R', 'C'};
  private static final int SIGNED_BYTES = ENCODED_BYTES - 64;
  private static final byte[] DOMAIN = "crowdbackup receipt v1".getBytes(StandardCharsets.US_ASCII);

  private Receipts() {}

  /** The destination's receipt for a delivered envelope. */
  public static Receipt signReceipt(DestinationKeyPair destination, Fingerprint fingerprint, long signedAtEpochSecond) {
    return sign(Kind.RECEIPT, destination.card().receiptKey(),
        destination.receiptSigningSeed(SecretAccess.explicitly()), fingerprint, signedAtEpochSecond);
  }

  /** The source's release of an envelope it delivered itself. */
  public static Receipt signRelease(SigningKeyPair source, Fingerprint fingerprint, long signedAtEpochSecond) {
    return sign(Kind.RELEASE, source.publicKey(), source.seed(SecretAccess.explicitly()), fingerprint,
        signedAtEpochSecond);
  }

  private static Receipt sign(Kind kind, byte[] publicKey, byte[] seed, Fingerprint fp, long at) {
    byte[] encoded = new byte[ENCODED_BYTES];
    writeSignedPart(encoded, kind, fp, at, publicKey);
    byte[] message = message(encoded);
    byte[] signature = new byte[64];
    Ed25519.sign(seed, 0, publicKey, 0, message, 0, message.length, signature, 0);
    Arrays.fill(seed, (byte) 0);
    return new Receipt(kind, fp, at, publicKey, signature);
  }

  private static void writeSignedPart(byte[] out, Kind kind, Fingerprint fp, long at, byte[] signer) {
    ByteBuffer.wrap(out).put(MAGIC).putShort((short) VERSION).put((byte) kind.code()).put(fp.toBytes())
        .putLong(at).put(signer);
  }

  private static byte[] message(byte[] encoded) {
    byte[] m = Arrays.copyOf(DOMAIN, DOMAIN.length + SIGNED_BYTES);
    System.arraycopy(encoded, 0, m, DOMAIN.length, SIGNED_BYTES);
    return m;
  }

  public static byte[] encode(Receipt r) {
    byte[] out = new byte[ENCODED_BYTES];
    writeSignedPart(out, r.kind(), r.fingerprint(), r.signedAtEpochSecond(), r.signerKey());
    System.arraycopy(r.signature(), 0, out, SIGNED_BYTES, 64);
    return out;
  }

  /** Parses the binary form. Says nothing about the signature: call {@link #verify} before acting. */
  public static Receipt decode(byte[] bytes) throws ReceiptException {
    if (bytes == null || bytes.length < 7) {
      throw new ReceiptException(Reason.RECEIPT_MALFORMED,
          "receipt is " + (bytes == null ? 0 : bytes.length) + " bytes, expected " + ENCODED_BYTES);
    }
    if (!Arrays.equals(Arrays.copyOf(bytes, 4), MAGIC)) {
      throw new ReceiptException(Reason.RECEIPT_MALFORMED, "bad magic " + Hex.of(Arrays.copyOf(bytes, 4))
          + ", expected \"CBRC\"");
    }
    int version = ((bytes[4] & 0xff) << 8) | (bytes[5] & 0xff);
    if (version > VERSION) {
      throw new ReceiptException(Reason.RECEIPT_VERSION_TOO_NEW, "receipt version " + version + ", this reader supports "
          + VERSION);
    }
    if (version < VERSION) {
      throw new ReceiptException(Reason.RECEIPT_VERSION_TOO_OLD, "receipt version " + version + ", this reader supports "
          + VERSION);
    }
    if (bytes.length != ENCODED_BYTES) {
      throw new ReceiptException(Reason.RECEIPT_MALFORMED,
          "receipt is " + bytes.length + " bytes, expected " + ENCODED_BYTES);
    }
    Kind kind = Kind.ofCode(bytes[6] & 0xff);
    if (kind == null) {
      throw new ReceiptException(Reason.RECEIPT_MALFORMED, "kind " + (bytes[6] & 0xff) + " is undefined");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes, 7, ENCODED_BYTES - 7);
    byte[] fp = new byte[32];
    b.get(fp);
    long at = b.getLong();
    byte[] signer = new byte[32];
    b.get(signer);
    byte[] sig = new byte[64];
    b.get(sig);
    return new Receipt(kind, Fingerprint.of(fp), at, signer, sig);
  }

  /**
   * Verifies that {@code r} lets a holder drop the envelope with {@code fingerprint} and {@code header}: it
   * names that fingerprint, its signer is the header's receipt key (for a receipt) or release key (for a
   * release), and the signature verifies.
   */
  public static void verify(Receipt r, Fingerprint fingerprint, EnvelopeHeader header) throws ReceiptException {
    if (!r.fingerprint().equals(fingerprint)) {
      throw new ReceiptException(Reason.WRONG_FINGERPRINT,
          "it names " + r.fingerprint() + ", the blob is " + fingerprint);
    }
    byte[] expectedSigner = r.kind() == Kind.RECEIPT ? header.receiptKey() : header.releaseKey();
    if (!Arrays.equals(r.signerKey(), expectedSigner)) {
      throw new ReceiptException(Reason.WRONG_SIGNER, "a " + r.kind().name().toLowerCase(java.util.Locale.ROOT)
          + " signed by " + Hex.of(r.signerKey()) + ", the envelope's header names " + Hex.of(expectedSigner));
    }
    byte[] message = message(encode(r));
    if (!Ed25519.verify(r.signature(), 0, r.signerKey(), 0, message, 0, message.length)) {
      throw new ReceiptException(Reason.BAD_SIGNATURE, "Ed25519 signature does not verify");
    }
  }

  /** As {@link #verify}, and also requires the given kind. */
  public static void verify(Receipt r, Kind required, Fingerprint fingerprint, EnvelopeHeader header)
      throws ReceiptException {
    if (r.kind() != required) {
      throw new ReceiptException(Reason.WRONG_KIND, "got a " + r.kind() + ", required a " + required);
    }
    verify(r, fingerprint, header);
  }
}
