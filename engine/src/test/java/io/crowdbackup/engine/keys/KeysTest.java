package io.crowdbackup.engine.keys;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SecretAccess;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.envelope.Hex;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** Key and card files: round trips, and every kind of damage refused with a KeyFormatException. */
class KeysTest {
  static final DestinationKeyPair DEST = TestEnvelopes.destination(1, "https://home.example/inbox");
  static final SigningKeyPair SOURCE = TestEnvelopes.source(3);
  static final SecretAccess ACCESS = SecretAccess.explicitly();

  @Test
  void cardRoundTrips() throws KeyFormatException {
    String text = Keys.encodeCard(DEST.card());
    assertTrue(text.startsWith(Keys.CARD_MAGIC + "\n"));
    assertEquals(DEST.card(), Keys.decodeCard(text));
    // Comments, blank lines, CRLF line ends and surrounding spaces are tolerated.
    String edited = text.replace("\n", "\r\n").replace("locator ", "# where it lives\r\n\r\n  locator   ") + "\n\n";
    assertEquals(DEST.card(), Keys.decodeCard(edited));
  }

  @Test
  void destinationKeyRoundTrips() throws KeyFormatException {
    DestinationKeyPair back = Keys.decodeDestination(Keys.encodeDestination(DEST));
    assertEquals(DEST.card(), back.card());
    assertArrayEquals(DEST.agreementPrivateKey(ACCESS), back.agreementPrivateKey(ACCESS));
    assertArrayEquals(DEST.receiptSigningSeed(ACCESS), back.receiptSigningSeed(ACCESS));
  }

  @Test
  void signingKeyRoundTrips() throws KeyFormatException {
    SigningKeyPair back = Keys.decodeSigning(Keys.encodeSigning(SOURCE));
    assertArrayEquals(SOURCE.publicKey(), back.publicKey());
    assertArrayEquals(SOURCE.seed(ACCESS), back.seed(ACCESS));
  }

  @Test
  void generatedKeysDifferAndDeriveTheirPublicKeys() throws KeyFormatException {
    DestinationKeyPair a = Keys.generateDestination("https://a.example/");
    DestinationKeyPair b = Keys.generateDestination("https://a.example/");
    assertNotEquals(a.card(), b.card());
    DestinationKeyPair derived = Keys.destinationFromSecrets("https://a.example/", a.agreementPrivateKey(ACCESS),
        a.receiptSigningSeed(ACCESS));
    assertEquals(a.card(), derived.card());
    SigningKeyPair s = Keys.generateSigning();
    assertArrayEquals(s.publicKey(), Keys.signingFromSeed(s.seed(ACCESS)).publicKey());
  }

  private static String replaceLine(String text, String field, String newLine) {
    StringBuilder out = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      if (line.startsWith(field + " ")) {
        if (newLine != null) {
          out.append(newLine).append('\n');
        }
      } else {
        out.append(line).append('\n');
      }
    }
    return out.substring(0, out.length() - 1);
  }

  private static String flipHexDigit(String hex) {
    char c = hex.charAt(10);
    return hex.substring(0, 10) + (c == '0' ? '1' : '0') + hex.substring(11);
  }

  @Test
  void destinationKeyWithMismatchedPublicKeysIsRefused() {
    String text = Keys.encodeDestination(DEST);
    String badAgreement = replaceLine(text, "agreement-key",
        "agreement-key " + flipHexDigit(Hex.of(DEST.card().agreementKey())));
    KeyFormatException mismatch = assertThrows(KeyFormatException.class, () -> Keys.decodeDestination(badAgreement));
    assertMessage(mismatch, "agreement-key does not match");
    assertEquals(KeyFormatException.Reason.KEY_MISMATCH, mismatch.reason());
    String badReceipt = replaceLine(text, "receipt-key", "receipt-key " + flipHexDigit(Hex.of(DEST.card().receiptKey())));
    assertMessage(assertThrows(KeyFormatException.class, () -> Keys.decodeDestination(badReceipt)),
        "receipt-key does not match");
    // A secret edited by hand no longer matches the public key written beside it.
    String badSecret = replaceLine(text, "agreement-secret",
        "agreement-secret " + flipHexDigit(Hex.of(DEST.agreementPrivateKey(ACCESS))));
    assertThrows(KeyFormatException.class, () -> Keys.decodeDestination(badSecret));
  }

  @Test
  void signingKeyWithMismatchedPublicKeyIsRefused() {
    String text = Keys.encodeSigning(SOURCE);
    String bad = replaceLine(text, "public-key", "public-key " + flipHexDigit(Hex.of(SOURCE.publicKey())));
    assertMessage(assertThrows(KeyFormatException.class, () -> Keys.decodeSigning(bad)), "does not match");
  }

  @Test
  void everyMissingFieldIsRefused() {
    String[][] files = {
        {Keys.encodeCard(DEST.card()), "locator", "agreement-key", "receipt-key"},
        {Keys.encodeDestination(DEST), "locator", "agreement-key", "receipt-key", "agreement-secret", "receipt-seed"},
        {Keys.encodeSigning(SOURCE), "public-key", "seed"}};
    for (String[] f : files) {
      for (int i = 1; i < f.length; i++) {
        String text = replaceLine(f[0], f[i], null);
        KeyFormatException e = assertThrows(KeyFormatException.class, () -> decodeAny(text), f[i]);
        assertMessage(e, f[i]);
      }
    }
  }

  @Test
  void unknownRepeatedAndValuelessFieldsAreRefused() {
    for (String text : new String[] {Keys.encodeCard(DEST.card()), Keys.encodeDestination(DEST),
        Keys.encodeSigning(SOURCE)}) {
      assertMessage(assertThrows(KeyFormatException.class, () -> decodeAny(text + "colour blue\n")), "unknown field");
      String firstField = text.split("\n")[1];
      assertMessage(assertThrows(KeyFormatException.class, () -> decodeAny(text + firstField + "\n")), "repeated");
      assertMessage(assertThrows(KeyFormatException.class, () -> decodeAny(text + "novalue\n")), "no value");
    }
  }

  @Test
  void badMagicIsRefused() {
    String card = Keys.encodeCard(DEST.card());
    assertThrows(KeyFormatException.class, () -> Keys.decodeCard(card.replace("v1", "v2")));
    assertThrows(KeyFormatException.class, () -> Keys.decodeCard(""));
    // A destination key is not a card, nor the reverse: each file says what it is.
    assertThrows(KeyFormatException.class, () -> Keys.decodeCard(Keys.encodeDestination(DEST)));
    assertThrows(KeyFormatException.class, () -> Keys.decodeDestination(card));
    assertThrows(KeyFormatException.class, () -> Keys.decodeSigning(card));
  }

  @Test
  void badHexIsRefused() {
    String text = Keys.encodeCard(DEST.card());
    String hex = Hex.of(DEST.card().agreementKey());
    String[] bad = {
        hex.substring(0, 63), hex + "0", hex.substring(0, 62) + "zz", hex.substring(0, 63) + "g", "",
        hex.substring(0, 31) + " " + hex.substring(32)};
    for (String b : bad) {
      String t = replaceLine(text, "agreement-key", "agreement-key " + b);
      assertThrows(KeyFormatException.class, () -> Keys.decodeCard(t), "agreement-key \"" + b + "\"");
    }
    // Upper-case hex is the same key.
    String upper = replaceLine(text, "agreement-key", "agreement-key " + hex.toUpperCase(Locale.ROOT));
    assertDoesNotThrow(() -> assertEquals(DEST.card(), Keys.decodeCard(upper)));
  }

  /**
   * {@link Character#digit(char, int)} accepts non-ASCII digits such as full-width '０' (U+FF10), so a
   * parser built on it lets two different key files mean the same key. Only [0-9a-fA-F] is hex.
   */
  @Test
  void nonAsciiDigitsAreNotHex() {
    String text = Keys.encodeCard(DEST.card());
    String hex = Hex.of(DEST.card().agreementKey());
    String fullWidth = hex.replace('0', '\uFF10');
    assertNotEquals(hex, fullWidth);
    String t = replaceLine(text, "agreement-key", "agreement-key " + fullWidth);
    assertThrows(KeyFormatException.class, () -> Keys.decodeCard(t));
  }

  @Test
  void oversizeFilesAndLocatorsAreRefused() {
    String card = Keys.encodeCard(DEST.card());
    String padded = card + "#" + "x".repeat(Keys.MAX_FILE_BYTES) + "\n";
    assertMessage(assertThrows(KeyFormatException.class, () -> Keys.decodeCard(padded)), "at most");
    // A locator over DestinationCard's 1024-byte bound, in a file under the file bound.
    String longLocator = replaceLine(card, "locator", "locator https://" + "a".repeat(1100));
    assertTrue(longLocator.length() < Keys.MAX_FILE_BYTES);
    assertThrows(KeyFormatException.class, () -> Keys.decodeCard(longLocator));
    String longLocatorKey = replaceLine(Keys.encodeDestination(DEST), "locator", "locator https://" + "a".repeat(1100));
    assertThrows(KeyFormatException.class, () -> Keys.decodeDestination(longLocatorKey));
  }

  @Test
  void theFileLimitCountsUtf8BytesNotCharacters() throws KeyFormatException {
    String card = Keys.encodeCard(DEST.card());
    // Pad with a comment of 3-byte characters: within 4096 characters, over 4096 bytes.
    int room = Keys.MAX_FILE_BYTES - card.getBytes(java.nio.charset.StandardCharsets.UTF_8).length - 2;
    String fits = card + "#" + "x".repeat(room) + "\n";
    assertEquals(Keys.MAX_FILE_BYTES, fits.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    Keys.decodeCard(fits);
    String over = card + "#" + "\u20ac".repeat(room / 3 + 1) + "\n";
    assertTrue(over.length() < Keys.MAX_FILE_BYTES, "under the limit in characters");
    assertMessage(assertThrows(KeyFormatException.class, () -> Keys.decodeCard(over)), "bytes, at most 4096");
  }

  /**
   * envelope-format.md §16 defines whitespace exactly: lines and values are trimmed of U+0000..U+0020 and
   * nothing else; a locator must not begin or end with any character of the listed set.
   */
  @Test
  void whitespaceIsExactlyWhatTheSpecLists() throws KeyFormatException {
    java.util.Set<Integer> edgeRefused = new java.util.HashSet<>();
    for (int c = 0x09; c <= 0x0d; c++) {
      edgeRefused.add(c);
    }
    for (int c = 0x1c; c <= 0x20; c++) {
      edgeRefused.add(c);
    }
    for (int c = 0x2000; c <= 0x200a; c++) {
      edgeRefused.add(c);
    }
    for (int c : new int[] {0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000}) {
      edgeRefused.add(c);
    }
    String card = Keys.encodeCard(DEST.card());
    for (int c = 0; c < 0x10000; c++) {
      if (c == '\n' || Character.isSurrogate((char) c)) {
        continue;
      }
      boolean control = c <= 0x1f || (c >= 0x7f && c <= 0x9f);
      String ch = String.valueOf((char) c);
      // At the edge of the value: trimmed away when <= U+0020, else kept and then refused or accepted.
      String edged = replaceLine(card, "locator", "locator https://home.example/inbox" + ch);
      boolean trimmed = c <= 0x20;
      if (trimmed) {
        assertEquals("https://home.example/inbox", Keys.decodeCard(edged).locator(), "U+" + Integer.toHexString(c));
      } else if (edgeRefused.contains(c) || control) {
        assertThrows(KeyFormatException.class, () -> Keys.decodeCard(edged), "U+" + Integer.toHexString(c));
      } else {
        assertEquals("https://home.example/inbox" + ch, Keys.decodeCard(edged).locator(), "U+" + Integer.toHexString(c));
      }
      // Inside the value: only control characters are refused.
      String inside = replaceLine(card, "locator", "locator https://home" + ch + ".example/inbox");
      if (control) {
        assertThrows(KeyFormatException.class, () -> Keys.decodeCard(inside), "U+" + Integer.toHexString(c));
      } else {
        assertEquals("https://home" + ch + ".example/inbox", Keys.decodeCard(inside).locator());
      }
    }
  }

  @Test
  void toStringNeverShowsSecretBytes() {
    DestinationKeyPair d = TestEnvelopes.destination(77, "https://home.example/inbox");
    SigningKeyPair s = TestEnvelopes.source(78);
    String[] secrets = {Hex.of(d.agreementPrivateKey(ACCESS)), Hex.of(d.receiptSigningSeed(ACCESS)),
        Hex.of(s.seed(ACCESS))};
    String[] shown = {d.toString(), s.toString(), d.card().toString(), String.valueOf(d), "" + s};
    for (String text : shown) {
      String lower = text.toLowerCase(Locale.ROOT);
      for (String secret : secrets) {
        // Any 8-byte run of a secret would be a leak; public keys are allowed.
        for (int i = 0; i + 16 <= secret.length(); i += 2) {
          assertFalse(lower.contains(secret.substring(i, i + 16)), text);
        }
      }
    }
    assertTrue(s.toString().contains(Hex.of(s.publicKey())), "the public key is shown");
  }

  private static Object decodeAny(String text) throws KeyFormatException {
    if (text.startsWith(Keys.CARD_MAGIC)) {
      return Keys.decodeCard(text);
    }
    if (text.startsWith(Keys.DESTINATION_KEY_MAGIC)) {
      return Keys.decodeDestination(text);
    }
    return Keys.decodeSigning(text);
  }

  private static void assertMessage(Exception e, String part) {
    assertTrue(e.getMessage().contains(part), () -> "\"" + e.getMessage() + "\" should mention " + part);
  }

  @Test
  void decodedCardIsUsable() throws KeyFormatException {
    DestinationCard c = Keys.decodeCard(Keys.encodeCard(DEST.card()));
    assertEquals("https://home.example/inbox", c.locator());
  }
}
