package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.Contract.check;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.engine.receipt.Receipts;
import java.util.Arrays;

/** Receipts and releases: what a holder parses and verifies before it drops a blob early. */
class ReceiptFuzzTest {
  /** The blob the holder holds: a header naming the fixture destination and source keys. */
  static final Fingerprint HELD = Fingerprint.of(Fixtures.sha256(new byte[] {1}));
  static final EnvelopeHeader HELD_HEADER = header(Fixtures.DESTINATION.card().receiptKey(), Fixtures.SOURCE.publicKey());

  static EnvelopeHeader header(byte[] receiptKey, byte[] releaseKey) {
    return new EnvelopeHeader(1, 1, 4096, 4096, 1_800_000_000L, Fixtures.DESTINATION_LOCATOR, receiptKey, releaseKey,
        new byte[32], new byte[32], 222);
  }

  /**
   * Arbitrary bytes as a receipt offered by a peer. Contract: decode returns a Receipt or throws a
   * ReceiptException; a decoded receipt re-encodes to exactly the input (one encoding per receipt);
   * verification throws only ReceiptException, also against a header naming the receipt's own signer
   * (which drives Ed25519 verification with arbitrary keys and signatures); and a receipt that verifies
   * against the held blob is byte-for-byte the one the fixture key would sign (Ed25519 signing is
   * deterministic, so anything else would be a forgery or a malleated signature).
   */
  @FuzzTest
  void decodeVerify(byte[] data) throws Exception {
    Contract.Outcome<Receipt> decoded = Contract.withinBudget("Receipts.decode", 2 * Contract.MIB,
        () -> Contract.receipt(() -> Receipts.decode(data)));
    if (!decoded.ok()) {
      check(data.length != Receipts.ENCODED_BYTES || data[0] != 'C' || data[1] != 'B' || data[2] != 'R'
          || data[3] != 'C' || data[4] != 0 || data[5] != 1 || (data[6] != 1 && data[6] != 2),
          "a well-formed 143-byte receipt was refused: " + decoded);
      return;
    }
    Receipt r = decoded.value;
    check(Arrays.equals(Receipts.encode(r), data), "decoded receipt does not re-encode to its bytes");

    for (Fingerprint fp : new Fingerprint[] {HELD, r.fingerprint()}) {
      Contract.Outcome<Void> verified = Contract.receipt(() -> {
        Receipts.verify(r, fp, HELD_HEADER);
        return null;
      });
      if (verified.ok()) {
        check(fp.equals(r.fingerprint()), "verified a receipt for another fingerprint");
        Receipt expected = r.kind() == Receipt.Kind.RECEIPT
            ? Receipts.signReceipt(Fixtures.DESTINATION, fp, r.signedAtEpochSecond())
            : Receipts.signRelease(Fixtures.SOURCE, fp, r.signedAtEpochSecond());
        check(expected.equals(r), "a receipt verified that the key never signed (forged or malleated)");
      }
      for (Receipt.Kind kind : Receipt.Kind.values()) {
        Contract.receipt(() -> {
          Receipts.verify(r, kind, fp, HELD_HEADER);
          return null;
        });
      }
    }
    EnvelopeHeader signersOwn = header(r.signerKey(), r.signerKey());
    Contract.receipt(() -> {
      Receipts.verify(r, r.fingerprint(), signersOwn);
      return null;
    });
  }

  /**
   * Sign, encode, decode, verify. Contract: the decoded receipt equals the signed one and verifies against
   * a header naming its signer; it is refused as the other kind; any single-byte change makes decoding or
   * verification fail with a ReceiptException.
   */
  @FuzzTest
  void roundTrip(FuzzedDataProvider fdp) throws Exception {
    boolean release = fdp.consumeBoolean();
    long signedAt = fdp.consumeLong();
    byte[] digest = Arrays.copyOf(fdp.consumeBytes(32), 32);
    int flipAt = fdp.consumeInt(0, Receipts.ENCODED_BYTES - 1);
    int flipMask = fdp.consumeInt(1, 255);
    Fingerprint fp = Fingerprint.of(digest);
    Receipt r = release ? Receipts.signRelease(Fixtures.SOURCE, fp, signedAt)
        : Receipts.signReceipt(Fixtures.DESTINATION, fp, signedAt);
    byte[] encoded = Receipts.encode(r);
    check(encoded.length == Receipts.ENCODED_BYTES, "encoded length " + encoded.length);
    Receipt back = Receipts.decode(encoded);
    check(back.equals(r), "receipt changed in the round trip");
    Receipts.verify(back, fp, HELD_HEADER);
    Receipt.Kind other = release ? Receipt.Kind.RECEIPT : Receipt.Kind.RELEASE;
    Contract.Outcome<Void> wrongKind = Contract.receipt(() -> {
      Receipts.verify(back, other, fp, HELD_HEADER);
      return null;
    });
    check(!wrongKind.ok() && ((ReceiptException) wrongKind.rejection).reason() == ReceiptException.Reason.WRONG_KIND,
        "a " + r.kind() + " was accepted as a " + other);

    byte[] tampered = encoded.clone();
    tampered[flipAt] ^= (byte) flipMask;
    Contract.Outcome<Void> refused = Contract.receipt(() -> {
      Receipts.verify(Receipts.decode(tampered), fp, HELD_HEADER);
      return null;
    });
    check(!refused.ok(), "a receipt with byte " + flipAt + " changed still verifies");
  }
}
