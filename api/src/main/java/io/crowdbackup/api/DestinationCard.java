package io.crowdbackup.api;

import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A destination's public card: where envelopes for it go (its locator), the X25519 key envelopes are
 * sealed to, and the Ed25519 key that verifies its delivery receipts. Safe to publish.
 */
public final class DestinationCard {
  /** Bound on the UTF-8 length of a locator, in bytes. */
  public static final int MAX_LOCATOR_BYTES = 1024;

  private final String locator;
  private final byte[] agreementKey;
  private final byte[] receiptKey;

  /**
   * @param locator where envelopes are delivered, for example {@code https://home.example/inbox}
   * @param agreementKey X25519 public key, 32 bytes
   * @param receiptKey Ed25519 public key, 32 bytes
   */
  public DestinationCard(String locator, byte[] agreementKey, byte[] receiptKey) {
    this.locator = requireLocator(locator);
    this.agreementKey = Bytes32.copyOfLength(agreementKey, 32, "agreementKey");
    this.receiptKey = Bytes32.copyOfLength(receiptKey, 32, "receiptKey");
  }

  static String requireLocator(String locator) {
    Objects.requireNonNull(locator, "locator");
    int utf8 = Bytes32.strictUtf8(locator, "locator").length;
    if (utf8 == 0 || utf8 > MAX_LOCATOR_BYTES) {
      throw new IllegalArgumentException(
          "locator must be 1.." + MAX_LOCATOR_BYTES + " UTF-8 bytes, was " + utf8);
    }
    if (Character.isWhitespace(locator.charAt(0)) || Character.isSpaceChar(locator.charAt(0))
        || Character.isWhitespace(locator.charAt(locator.length() - 1))
        || Character.isSpaceChar(locator.charAt(locator.length() - 1))) {
      // Card and key files are line-based; edge whitespace would not survive them (fuzz finding F3).
      throw new IllegalArgumentException("locator must not start or end with whitespace");
    }
    for (int i = 0; i < locator.length(); i++) {
      if (Character.isISOControl(locator.charAt(i))) {
        throw new IllegalArgumentException("locator must not contain control characters (index " + i + ")");
      }
    }
    return locator;
  }

  public String locator() {
    return locator;
  }

  /** A copy of the X25519 public key envelopes are sealed to. */
  public byte[] agreementKey() {
    return agreementKey.clone();
  }

  /** A copy of the Ed25519 public key that verifies this destination's receipts. */
  public byte[] receiptKey() {
    return receiptKey.clone();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof DestinationCard)) {
      return false;
    }
    DestinationCard c = (DestinationCard) o;
    return locator.equals(c.locator)
        && Arrays.equals(agreementKey, c.agreementKey)
        && Arrays.equals(receiptKey, c.receiptKey);
  }

  @Override
  public int hashCode() {
    return Objects.hash(locator, Arrays.hashCode(agreementKey), Arrays.hashCode(receiptKey));
  }

  @Override
  public String toString() {
    return "DestinationCard{locator=" + locator
        + ", agreementKey=" + Bytes32.hex(agreementKey)
        + ", receiptKey=" + Bytes32.hex(receiptKey) + "}";
  }
}
