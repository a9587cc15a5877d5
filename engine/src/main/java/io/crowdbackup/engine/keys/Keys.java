package io.crowdbackup.engine.keys;

import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SecretAccess;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.envelope.Hex;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bouncycastle.math.ec.rfc7748.X25519;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * Generates keys and encodes them as small text files: a public card to hand out, a destination key file
 * and a source signing-key file to keep private. The text form is documented in
 * {@code docs/envelope-format.md} ("Key and card files"). Decoding checks that public keys match the
 * secret ones, so a file edited by hand cannot silently seal to the wrong key.
 */
public final class Keys {
  static final String CARD_MAGIC = "crowdbackup-card v1";
  static final String DESTINATION_KEY_MAGIC = "crowdbackup-destination-key v1";
  static final String SIGNING_KEY_MAGIC = "crowdbackup-signing-key v1";
  /** Bound on a key or card file: a few hundred bytes in practice. */
  public static final int MAX_FILE_BYTES = 4096;

  private Keys() {}

  /** A fresh destination key pair from {@link SecureRandom}. */
  public static DestinationKeyPair generateDestination(String locator) {
    return generateDestination(locator, new SecureRandom());
  }

  /** Tests and vectors: keys from the given randomness. */
  public static DestinationKeyPair generateDestination(String locator, SecureRandom random) {
    byte[] agreementSecret = new byte[32];
    byte[] seed = new byte[32];
    random.nextBytes(agreementSecret);
    random.nextBytes(seed);
    return destinationFromSecrets(locator, agreementSecret, seed);
  }

  /** Derives the public card from secret bytes. */
  public static DestinationKeyPair destinationFromSecrets(String locator, byte[] agreementSecret, byte[] seed) {
    byte[] agreementPublic = new byte[32];
    X25519.generatePublicKey(agreementSecret, 0, agreementPublic, 0);
    byte[] receiptPublic = new byte[32];
    Ed25519.generatePublicKey(seed, 0, receiptPublic, 0);
    return new DestinationKeyPair(new DestinationCard(locator, agreementPublic, receiptPublic), agreementSecret,
        seed);
  }

  /** A fresh source signing key (for releases) from {@link SecureRandom}. */
  public static SigningKeyPair generateSigning() {
    return generateSigning(new SecureRandom());
  }

  public static SigningKeyPair generateSigning(SecureRandom random) {
    byte[] seed = new byte[32];
    random.nextBytes(seed);
    return signingFromSeed(seed);
  }

  public static SigningKeyPair signingFromSeed(byte[] seed) {
    byte[] pub = new byte[32];
    Ed25519.generatePublicKey(seed, 0, pub, 0);
    return new SigningKeyPair(pub, seed);
  }

  /** The public card as text. */
  public static String encodeCard(DestinationCard card) {
    return CARD_MAGIC + "\n"
        + "locator " + card.locator() + "\n"
        + "agreement-key " + Hex.of(card.agreementKey()) + "\n"
        + "receipt-key " + Hex.of(card.receiptKey()) + "\n";
  }

  public static DestinationCard decodeCard(String text) throws KeyFormatException {
    Map<String, String> f = parse(text, CARD_MAGIC, "locator", "agreement-key", "receipt-key");
    try {
      return new DestinationCard(f.get("locator"), key(f, "agreement-key"), key(f, "receipt-key"));
    } catch (IllegalArgumentException e) {
      throw new KeyFormatException(KeyFormatException.Reason.BAD_FIELD, "card: " + e.getMessage());
    }
  }

  /** The destination key file as text: secret; store it readable by its owner only. */
  public static String encodeDestination(DestinationKeyPair keys) {
    SecretAccess access = SecretAccess.explicitly();
    return DESTINATION_KEY_MAGIC + "\n"
        + "locator " + keys.card().locator() + "\n"
        + "agreement-key " + Hex.of(keys.card().agreementKey()) + "\n"
        + "receipt-key " + Hex.of(keys.card().receiptKey()) + "\n"
        + "agreement-secret " + Hex.of(keys.agreementPrivateKey(access)) + "\n"
        + "receipt-seed " + Hex.of(keys.receiptSigningSeed(access)) + "\n";
  }

  public static DestinationKeyPair decodeDestination(String text) throws KeyFormatException {
    Map<String, String> f = parse(text, DESTINATION_KEY_MAGIC, "locator", "agreement-key", "receipt-key",
        "agreement-secret", "receipt-seed");
    DestinationKeyPair derived;
    try {
      derived = destinationFromSecrets(f.get("locator"), key(f, "agreement-secret"), key(f, "receipt-seed"));
    } catch (IllegalArgumentException e) {
      throw new KeyFormatException(KeyFormatException.Reason.BAD_FIELD, "destination key: " + e.getMessage());
    }
    if (!Arrays.equals(derived.card().agreementKey(), key(f, "agreement-key"))) {
      throw new KeyFormatException(KeyFormatException.Reason.KEY_MISMATCH, "destination key: agreement-key does not match agreement-secret");
    }
    if (!Arrays.equals(derived.card().receiptKey(), key(f, "receipt-key"))) {
      throw new KeyFormatException(KeyFormatException.Reason.KEY_MISMATCH, "destination key: receipt-key does not match receipt-seed");
    }
    return derived;
  }

  public static String encodeSigning(SigningKeyPair keys) {
    return SIGNING_KEY_MAGIC + "\n"
        + "public-key " + Hex.of(keys.publicKey()) + "\n"
        + "seed " + Hex.of(keys.seed(SecretAccess.explicitly())) + "\n";
  }

  public static SigningKeyPair decodeSigning(String text) throws KeyFormatException {
    Map<String, String> f = parse(text, SIGNING_KEY_MAGIC, "public-key", "seed");
    SigningKeyPair derived = signingFromSeed(key(f, "seed"));
    if (!Arrays.equals(derived.publicKey(), key(f, "public-key"))) {
      throw new KeyFormatException(KeyFormatException.Reason.KEY_MISMATCH, "signing key: public-key does not match seed");
    }
    return derived;
  }

  private static Map<String, String> parse(String text, String magic, String... fields) throws KeyFormatException {
    int utf8Bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (utf8Bytes > MAX_FILE_BYTES) {
      throw new KeyFormatException(KeyFormatException.Reason.KEY_FILE_TOO_LARGE, "file is " + utf8Bytes + " bytes, at most " + MAX_FILE_BYTES);
    }
    String[] lines = text.split("\n", -1);
    if (lines.length == 0 || !lines[0].trim().equals(magic)) {
      throw new KeyFormatException(KeyFormatException.Reason.WRONG_FILE_KIND, "first line must be \"" + magic + "\"");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i].trim();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int space = line.indexOf(' ');
      if (space < 0) {
        throw new KeyFormatException(KeyFormatException.Reason.BAD_FIELD, "line " + (i + 1) + " has no value");
      }
      String name = line.substring(0, space);
      if (!Arrays.asList(fields).contains(name)) {
        throw new KeyFormatException(KeyFormatException.Reason.BAD_FIELD, "line " + (i + 1) + ": unknown field \"" + name + "\"");
      }
      if (out.put(name, line.substring(space + 1).trim()) != null) {
        throw new KeyFormatException(KeyFormatException.Reason.BAD_FIELD, "line " + (i + 1) + ": field \"" + name + "\" repeated");
      }
    }
    for (String field : fields) {
      if (!out.containsKey(field)) {
        throw new KeyFormatException(KeyFormatException.Reason.BAD_FIELD, "field \"" + field + "\" is missing");
      }
    }
    return out;
  }

  private static byte[] key(Map<String, String> f, String name) throws KeyFormatException {
    String hex = f.get(name);
    if (hex.length() != 64) {
      throw new KeyFormatException(KeyFormatException.Reason.BAD_FIELD, name + " must be 64 hex digits, has " + hex.length());
    }
    try {
      return Hex.parse(hex);
    } catch (IllegalArgumentException e) {
      throw new KeyFormatException(KeyFormatException.Reason.BAD_FIELD, name + " is not hex");
    }
  }
}
