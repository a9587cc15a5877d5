package io.crowdbackup.engine.receipt;

import static io.crowdbackup.api.ReceiptException.Reason.*;
import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.Receipt.Kind;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.ReceiptException.Reason;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.envelope.StreamingSealer;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import java.io.IOException;
import java.util.Arrays;
import java.util.EnumSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Receipts and releases: only the key named in the envelope's header, for that envelope, verifies. */
class ReceiptsTest {
  static final DestinationKeyPair DEST = TestEnvelopes.destination(1, "https://home.example/inbox");
  static final DestinationKeyPair OTHER_DEST = TestEnvelopes.destination(4, "https://home.example/inbox");
  static final SigningKeyPair SOURCE = TestEnvelopes.source(3);
  static final SigningKeyPair OTHER_SOURCE = TestEnvelopes.source(5);
  static final long AT = 1_750_000_000L;

  static EnvelopeHeader header;
  static Fingerprint fingerprint;
  static Fingerprint otherFingerprint;

  @BeforeAll
  static void seal() throws IOException {
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(9, 1)) {
      TestEnvelopes.Sealed a = TestEnvelopes.sealWithResult(sealer,
          TestEnvelopes.request(DEST, SOURCE).chunkSizeBytes(4096).build(), new byte[100]);
      TestEnvelopes.Sealed b = TestEnvelopes.sealWithResult(sealer,
          TestEnvelopes.request(DEST, SOURCE).chunkSizeBytes(4096).build(), new byte[100]);
      header = a.result.header();
      fingerprint = a.result.fingerprint();
      otherFingerprint = b.result.fingerprint();
    }
    assertNotEquals(fingerprint, otherFingerprint);
  }

  static Reason refusal(Receipt r, Kind required, Fingerprint fp) {
    ReceiptException e = assertThrows(ReceiptException.class, () -> Receipts.verify(r, required, fp, header));
    return e.reason();
  }

  @Test
  void receiptsAndReleasesSignedByTheHeaderKeysVerify() throws ReceiptException {
    Receipt receipt = Receipts.signReceipt(DEST, fingerprint, AT);
    Receipt release = Receipts.signRelease(SOURCE, fingerprint, AT);
    Receipts.verify(receipt, fingerprint, header);
    Receipts.verify(receipt, Kind.RECEIPT, fingerprint, header);
    Receipts.verify(release, fingerprint, header);
    Receipts.verify(release, Kind.RELEASE, fingerprint, header);
    assertEquals(Kind.RECEIPT, receipt.kind());
    assertEquals(AT, receipt.signedAtEpochSecond());
    assertArrayEquals(DEST.card().receiptKey(), receipt.signerKey());
    assertArrayEquals(SOURCE.publicKey(), release.signerKey());
    // Ed25519 is deterministic: signing twice gives the same bytes.
    assertArrayEquals(Receipts.encode(receipt), Receipts.encode(Receipts.signReceipt(DEST, fingerprint, AT)));
  }

  @Test
  void encodingRoundTripsAndIsFixedLength() throws ReceiptException {
    for (Receipt r : new Receipt[] {Receipts.signReceipt(DEST, fingerprint, AT),
        Receipts.signRelease(SOURCE, fingerprint, Long.MIN_VALUE)}) {
      byte[] b = Receipts.encode(r);
      assertEquals(Receipts.ENCODED_BYTES, b.length);
      assertEquals(143, b.length);
      assertArrayEquals(new byte[] {'C', 'B', 'R', 'C', 0, 1}, Arrays.copyOf(b, 6));
      assertEquals(r.kind().code(), b[6]);
      Receipt back = Receipts.decode(b);
      assertEquals(r, back);
      assertArrayEquals(b, Receipts.encode(back));
    }
  }

  @Test
  void aForgedSignatureIsRefused() {
    Receipt genuine = Receipts.signReceipt(DEST, fingerprint, AT);
    byte[] sig = genuine.signature();
    sig[0] ^= 1;
    Receipt forged = new Receipt(Kind.RECEIPT, fingerprint, AT, DEST.card().receiptKey(), sig);
    assertEquals(BAD_SIGNATURE, refusal(forged, Kind.RECEIPT, fingerprint));
    // Claiming the header's key while signing with another: the signer field matches, the signature not.
    Receipt other = Receipts.signReceipt(OTHER_DEST, fingerprint, AT);
    Receipt impostor = new Receipt(Kind.RECEIPT, fingerprint, AT, DEST.card().receiptKey(), other.signature());
    assertEquals(BAD_SIGNATURE, refusal(impostor, Kind.RECEIPT, fingerprint));
    // A genuine signature moved to another time.
    Receipt retimed = new Receipt(Kind.RECEIPT, fingerprint, AT + 1, DEST.card().receiptKey(), genuine.signature());
    assertEquals(BAD_SIGNATURE, refusal(retimed, Kind.RECEIPT, fingerprint));
    // An all-zero signature.
    Receipt zero = new Receipt(Kind.RECEIPT, fingerprint, AT, DEST.card().receiptKey(), new byte[64]);
    assertEquals(BAD_SIGNATURE, refusal(zero, Kind.RECEIPT, fingerprint));
  }

  @Test
  void aReceiptForAnotherEnvelopeIsRefused() {
    assertEquals(WRONG_FINGERPRINT, refusal(Receipts.signReceipt(DEST, otherFingerprint, AT), Kind.RECEIPT,
        fingerprint));
    assertEquals(WRONG_FINGERPRINT, refusal(Receipts.signRelease(SOURCE, otherFingerprint, AT), Kind.RELEASE,
        fingerprint));
    // A genuine receipt with its fingerprint field rewritten: refused as naming another blob or as forged.
    Receipt genuine = Receipts.signReceipt(DEST, otherFingerprint, AT);
    Receipt rewritten = new Receipt(Kind.RECEIPT, fingerprint, AT, genuine.signerKey(), genuine.signature());
    assertEquals(BAD_SIGNATURE, refusal(rewritten, Kind.RECEIPT, fingerprint));
  }

  @Test
  void aReceiptSignedByAnotherKeyIsRefused() {
    assertEquals(WRONG_SIGNER, refusal(Receipts.signReceipt(OTHER_DEST, fingerprint, AT), Kind.RECEIPT, fingerprint));
    assertEquals(WRONG_SIGNER, refusal(Receipts.signRelease(OTHER_SOURCE, fingerprint, AT), Kind.RELEASE,
        fingerprint));
    // The destination cannot sign a release, nor the source a receipt, even for the right envelope.
    SigningKeyPair destAsSource = new SigningKeyPair(DEST.card().receiptKey(),
        DEST.receiptSigningSeed(io.crowdbackup.api.SecretAccess.explicitly()));
    assertEquals(WRONG_SIGNER, refusal(Receipts.signRelease(destAsSource, fingerprint, AT), Kind.RELEASE,
        fingerprint));
  }

  @Test
  void theWrongKindIsRefused() throws ReceiptException {
    Receipt receipt = Receipts.signReceipt(DEST, fingerprint, AT);
    Receipt release = Receipts.signRelease(SOURCE, fingerprint, AT);
    assertEquals(WRONG_KIND, refusal(receipt, Kind.RELEASE, fingerprint));
    assertEquals(WRONG_KIND, refusal(release, Kind.RECEIPT, fingerprint));
    // A receipt relabelled as a release: now checked against the release key, and the signature covers the kind.
    Receipt relabelled = new Receipt(Kind.RELEASE, fingerprint, AT, receipt.signerKey(), receipt.signature());
    assertEquals(WRONG_SIGNER, refusal(relabelled, Kind.RELEASE, fingerprint));
  }

  @Test
  void everySingleByteOfAnEncodedReceiptChangedIsRefused() {
    for (Receipt r : new Receipt[] {Receipts.signReceipt(DEST, fingerprint, AT),
        Receipts.signRelease(SOURCE, fingerprint, AT)}) {
      byte[] genuine = Receipts.encode(r);
      for (int i = 0; i < genuine.length; i++) {
        // Every value of the prelude and kind; a low bit, a high bit and all bits of the other bytes.
        int[] masks = i < 7 ? java.util.stream.IntStream.range(1, 256).toArray() : new int[] {0x01, 0x80, 0xff};
        for (int mask : masks) {
          byte[] t = genuine.clone();
          t[i] ^= (byte) mask;
          String what = r.kind() + " byte " + i + " ^ 0x" + Integer.toHexString(mask);
          Reason reason;
          try {
            Receipt decoded = Receipts.decode(t);
            Receipts.verify(decoded, r.kind(), fingerprint, header);
            throw new AssertionError(what + ": accepted");
          } catch (ReceiptException e) {
            reason = e.reason();
          }
          EnumSet<Reason> allowed;
          if (i < 4) {
            allowed = EnumSet.of(RECEIPT_MALFORMED);
          } else if (i == 6) {
            // Undefined kinds are malformed; 1 ^ 3 = 2 is a release where a receipt is required.
            allowed = EnumSet.of(RECEIPT_MALFORMED, WRONG_KIND);
          } else if (i < 6) {
            allowed = EnumSet.of(RECEIPT_VERSION_TOO_NEW, RECEIPT_VERSION_TOO_OLD);
          } else if (i < 39) {
            allowed = EnumSet.of(WRONG_FINGERPRINT);
          } else if (i < 47) {
            allowed = EnumSet.of(BAD_SIGNATURE);
          } else if (i < 79) {
            allowed = EnumSet.of(WRONG_SIGNER);
          } else {
            allowed = EnumSet.of(BAD_SIGNATURE);
          }
          Reason got = reason;
          assertTrue(allowed.contains(got), () -> what + ": " + got + " not in " + allowed);
        }
      }
    }
  }

  @Test
  void badMagicLengthAndVersionAreRefusedByDecode() {
    byte[] genuine = Receipts.encode(Receipts.signReceipt(DEST, fingerprint, AT));
    assertEquals(RECEIPT_MALFORMED, decodeFails(null));
    assertEquals(RECEIPT_MALFORMED, decodeFails(new byte[0]));
    assertEquals(RECEIPT_MALFORMED, decodeFails(Arrays.copyOf(genuine, 6)));
    assertEquals(RECEIPT_MALFORMED, decodeFails(Arrays.copyOf(genuine, 142)));
    assertEquals(RECEIPT_MALFORMED, decodeFails(Arrays.copyOf(genuine, 144)));
    assertEquals(RECEIPT_MALFORMED, decodeFails(new byte[Receipts.ENCODED_BYTES]));
    byte[] magic = genuine.clone();
    magic[3] = 'D';
    assertEquals(RECEIPT_MALFORMED, decodeFails(magic));
    byte[] v2 = genuine.clone();
    v2[5] = 2;
    assertEquals(RECEIPT_VERSION_TOO_NEW, decodeFails(v2));
    byte[] v0 = genuine.clone();
    v0[5] = 0;
    assertEquals(RECEIPT_VERSION_TOO_OLD, decodeFails(v0));
    // A newer version is "too new" whatever its length: a later format may be longer.
    assertEquals(RECEIPT_VERSION_TOO_NEW, decodeFails(Arrays.copyOf(v2, 300)));
    for (int kind : new int[] {0, 3, 255}) {
      byte[] k = genuine.clone();
      k[6] = (byte) kind;
      assertEquals(RECEIPT_MALFORMED, decodeFails(k), "kind " + kind);
    }
  }

  private static Reason decodeFails(byte[] b) {
    return assertThrows(ReceiptException.class, () -> Receipts.decode(b)).reason();
  }
}
