package io.crowdbackup.fuzz;

/**
 * Findings reported to the lead and not yet fixed in the engine. Each is masked — the target skips that
 * one check for inputs it applies to — so that {@code mvn test} stays green and a campaign keeps looking
 * for new bugs instead of rediscovering a known one. {@code -Dfuzz.strict=true} (run.sh {@code --strict})
 * unmasks them all: that is how the inputs under {@code fuzz/findings/} reproduce. When a fix lands,
 * delete its constant here and move its input into the replayed corpus.
 */
final class Known {
  private Known() {}

  static final boolean STRICT = Boolean.getBoolean("fuzz.strict");
  /** {@code -Dfuzz.unmask=F2,F4}: enforce only these, to find inputs for one finding behind another. */
  private static final java.util.Set<String> UNMASKED =
      java.util.Set.of(System.getProperty("fuzz.unmask", "").split(","));

  /** F1: a name with a lone surrogate is sealed as '?' (String.getBytes replaces it): the round trip changes it. */
  static final String F1_NAME_LONE_SURROGATE = "F1";
  /** F2: a locator with a lone surrogate is accepted by DestinationCard and written as '?' in the header. */
  static final String F2_LOCATOR_LONE_SURROGATE = "F2";

  /**
   * F3: a card locator with leading or trailing whitespace (a space is allowed by DestinationCard) loses
   * it in Keys.encodeCard/decodeCard, which strip() every line: the card read back names another locator,
   * and a locator of only whitespace (" ") is encoded as a line decodeCard refuses ("line 2 has no value").
   * The same holds for destination key files.
   */
  static final String F3_CARD_LOCATOR_WHITESPACE = "F3";

  /**
   * F4: key and card files accept non-ASCII digits in hex fields (Hex.parse uses Character.digit, which
   * takes fullwidth and other Unicode digits), so two visibly different files decode to the same key and
   * a key field is not the 64 ASCII hex digits the encoder writes.
   */
  static final String F4_NON_ASCII_HEX = "F4";

  /**
   * F5: EnvelopeScanner.resume checks {@code recordDigests.length != recordCount * 32} in long arithmetic,
   * which overflows: recordCount = 2^59 with no digests passes the check, and the loop then fails inside
   * MessageDigest with IllegalArgumentException("Bad arguments") instead of resume's own refusal. A corrupt
   * upload-resume state file can hold any count.
   */
  static final String F5_RESUME_COUNT_OVERFLOW = "F5";

  /** Whether the check for {@code finding} is skipped for this input. */
  static boolean masked(String finding, boolean applies) {
    return applies && !STRICT && !UNMASKED.contains(finding);
  }
}
