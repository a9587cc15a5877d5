package io.crowdbackup.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;

/** Strings for structured targets, including the awkward ones (lone surrogates, Unicode whitespace). */
final class Strings {
  private Strings() {}

  /**
   * Any Java string of up to {@code maxChars} chars: sometimes the provider's (well-formed) string,
   * sometimes raw chars, which include lone surrogates, controls and Unicode spaces; at most 3 UTF-8 bytes
   * per char either way.
   */
  static String draw(FuzzedDataProvider fdp, int maxChars) {
    if (fdp.consumeBoolean()) {
      return wellFormed(fdp, maxChars);
    }
    int n = fdp.consumeInt(0, maxChars);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(fdp.consumeChar());
    }
    return b.toString();
  }

  /** A string with no lone surrogates (what every caller should be passing). */
  static String wellFormed(FuzzedDataProvider fdp, int maxChars) {
    String s = fdp.consumeString(maxChars);
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        b.append(c).append(s.charAt(++i));
      } else if (!Character.isSurrogate(c)) {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** A media type the sealer accepts: printable ASCII without spaces. */
  static String mediaType(FuzzedDataProvider fdp, int maxChars) {
    String s = fdp.consumeAsciiString(maxChars);
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      b.append((char) (0x21 + (s.charAt(i) % 94)));
    }
    return b.toString();
  }

  static boolean hasLoneSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  /** Java-escaped, for messages: shows surrogates and controls. */
  static String escape(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        b.append(c);
      } else {
        b.append(String.format("\\u%04x", (int) c));
      }
    }
    return b.append('"').toString();
  }
}
