package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.Contract.check;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SecretAccess;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.keys.Keys;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;

/**
 * Key and card files: a card arrives from someone else (a QR code, a message); key files come back from
 * disk, where anything may have happened to them.
 */
class KeyFileFuzzTest {
  private static final Set<String> KEY_FIELDS =
      Set.of("agreement-key", "receipt-key", "agreement-secret", "receipt-seed", "public-key", "seed");

  /**
   * Arbitrary bytes, read as a UTF-8 text file, given to all three decoders (the seeds hold one file of
   * each kind, so each input is valid for at most one). Contract: a value or a KeyFormatException; a
   * decoded file re-encodes to a text that decodes to the same keys; public keys match the secrets; every
   * key field the decoder accepted is 64 ASCII hex digits (what the encoder writes and the spec says).
   */
  @FuzzTest
  void decodeKeyFiles(byte[] data) throws Exception {
    String text = new String(data, StandardCharsets.UTF_8);
    long budget = 2 * Contract.MIB + 64L * text.length();
    Contract.Outcome<DestinationCard> card =
        Contract.withinBudget("Keys.decodeCard", budget, () -> Contract.keyFile(() -> Keys.decodeCard(text)));
    Contract.Outcome<DestinationKeyPair> destination = Contract.withinBudget("Keys.decodeDestination", budget,
        () -> Contract.keyFile(() -> Keys.decodeDestination(text)));
    Contract.Outcome<SigningKeyPair> signing =
        Contract.withinBudget("Keys.decodeSigning", budget, () -> Contract.keyFile(() -> Keys.decodeSigning(text)));
    // The limit is in UTF-8 bytes of the text (spec §16), not in characters.
    int utf8Bytes = text.getBytes(StandardCharsets.UTF_8).length;
    if (utf8Bytes > Keys.MAX_FILE_BYTES) {
      check(!card.ok() && !destination.ok() && !signing.ok(), "accepted a file of " + utf8Bytes + " UTF-8 bytes, over "
          + Keys.MAX_FILE_BYTES);
    }
    if (card.ok() || destination.ok() || signing.ok()) {
      checkKeyFieldsAreAsciiHex(text);
    }
    if (card.ok()) {
      check(Keys.decodeCard(Keys.encodeCard(card.value)).equals(card.value), "card changed when re-encoded");
    }
    if (destination.ok()) {
      DestinationKeyPair k = destination.value;
      SecretAccess access = SecretAccess.explicitly();
      DestinationKeyPair derived = Keys.destinationFromSecrets(k.card().locator(), k.agreementPrivateKey(access),
          k.receiptSigningSeed(access));
      check(derived.card().equals(k.card()), "destination public keys do not match its secrets");
      DestinationKeyPair again = Keys.decodeDestination(Keys.encodeDestination(k));
      check(again.card().equals(k.card()) && Arrays.equals(again.agreementPrivateKey(access), k.agreementPrivateKey(access))
          && Arrays.equals(again.receiptSigningSeed(access), k.receiptSigningSeed(access)),
          "destination key changed when re-encoded");
    }
    if (signing.ok()) {
      SigningKeyPair k = signing.value;
      SecretAccess access = SecretAccess.explicitly();
      check(Arrays.equals(Keys.signingFromSeed(k.seed(access)).publicKey(), k.publicKey()),
          "signing public key does not match its seed");
      SigningKeyPair again = Keys.decodeSigning(Keys.encodeSigning(k));
      check(Arrays.equals(again.publicKey(), k.publicKey()) && Arrays.equals(again.seed(access), k.seed(access)),
          "signing key changed when re-encoded");
    }
  }

  private static void checkKeyFieldsAreAsciiHex(String text) {
    // Trimmed as the spec (§16) defines it: every character U+0000..U+0020, nothing else (String.trim()).
    for (String raw : text.split("\n", -1)) {
      String line = raw.trim();
      int space = line.indexOf(' ');
      if (space < 0 || !KEY_FIELDS.contains(line.substring(0, space))) {
        continue;
      }
      String value = line.substring(space + 1).trim();
      check(value.matches("[0-9a-fA-F]{64}"),
          "accepted a key field that is not 64 ASCII hex digits: "
          + Strings.escape(line));
    }
  }

  /**
   * Generate, encode, decode. Contract: a card, destination key file and signing key file built from any
   * locator the API accepts and any secrets decode back to equal values.
   */
  @FuzzTest
  void roundTrip(FuzzedDataProvider fdp) throws Exception {
    String locator = Strings.draw(fdp, 120);
    byte[] agreementSecret = Arrays.copyOf(fdp.consumeBytes(32), 32);
    byte[] receiptSeed = Arrays.copyOf(fdp.consumeBytes(32), 32);
    byte[] signingSeed = Arrays.copyOf(fdp.consumeBytes(32), 32);
    DestinationKeyPair keys;
    try {
      keys = Keys.destinationFromSecrets(locator, agreementSecret, receiptSeed);
    } catch (IllegalArgumentException notALocator) {
      return; // DestinationCard refused the locator: nothing to encode
    }
    SecretAccess access = SecretAccess.explicitly();
    Contract.Outcome<DestinationCard> card = Contract.keyFile(() -> Keys.decodeCard(Keys.encodeCard(keys.card())));
    check(card.ok(), "an encoded card does not decode: " + card + ", locator " + Strings.escape(locator));
    check(card.value.equals(keys.card()), "card changed in the round trip: locator " + Strings.escape(locator)
        + " -> " + Strings.escape(card.value.locator()));
    Contract.Outcome<DestinationKeyPair> back =
        Contract.keyFile(() -> Keys.decodeDestination(Keys.encodeDestination(keys)));
    check(back.ok(), "an encoded destination key does not decode: " + back);
    check(back.value.card().equals(keys.card()) && Arrays.equals(back.value.agreementPrivateKey(access), agreementSecret)
        && Arrays.equals(back.value.receiptSigningSeed(access), receiptSeed), "destination key changed in the round trip");
    SigningKeyPair signing = Keys.signingFromSeed(signingSeed);
    SigningKeyPair signingBack = Keys.decodeSigning(Keys.encodeSigning(signing));
    check(Arrays.equals(signingBack.publicKey(), signing.publicKey()) && Arrays.equals(signingBack.seed(access), signingSeed),
        "signing key changed in the round trip");
  }
}
