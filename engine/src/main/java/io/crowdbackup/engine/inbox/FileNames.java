package io.crowdbackup.engine.inbox;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Locale;

/**
 * Turns the untrusted file name inside an envelope's metadata into one safe to create in an inbox folder,
 * on Linux, macOS, Windows and Android alike. The result is a single path component that:
 *
 * <ul>
 *   <li>is the last component of whatever path the sender gave ({@code "../../etc/passwd"} becomes
 *       {@code "passwd"}, {@code "C:\\x\\y.txt"} becomes {@code "y.txt"}): the sender's folders are not the
 *       destination's business, and no component can climb out of the inbox;
 *   <li>holds no control or invisible formatting character (NUL, newline, ESC, the bidirectional overrides
 *       that make {@code "evil\u202Egpj.exe"} display as {@code "evilexe.jpg"}), and none of
 *       {@code < > : " | ? * / \}; each becomes {@code _};
 *   <li>does not start with {@code .} (no hidden files, no {@code "."} or {@code ".."}, no clash with the
 *       inbox's own {@code .crowdbackup-*} entries) or {@code -} (no option injection into shell tools
 *       that glob the folder), and does not end with a dot or space (Windows drops them, so
 *       {@code "a."} and {@code "a"} would be one file);
 *   <li>is not a Windows device name ({@code CON}, {@code NUL}, {@code COM1}, {@code LPT9}, … with any
 *       extension, in any case): those get a {@code _} prefix;
 *   <li>is at most {@link #MAX_NAME_BYTES} UTF-8 bytes, cut inside the stem so a short extension survives,
 *       leaving room under the common 255-byte limit for a clash suffix such as {@code " (12)"};
 *   <li>is never empty: a name with nothing left becomes {@link #FALLBACK_NAME}.
 * </ul>
 *
 * Unicode is normalised to NFC first, so two spellings of "é" give one name.
 */
final class FileNames {
  /** Bound on a sanitised name, in UTF-8 bytes. */
  public static final int MAX_NAME_BYTES = 200;
  /** What an empty or fully stripped name becomes. */
  public static final String FALLBACK_NAME = "unnamed";
  /** Extensions longer than this (in characters, dot included) are treated as part of the stem. */
  static final int MAX_EXTENSION_CHARS = 16;
  /** Clash suffixes tried before giving up: {@code "name (2).ext"} .. {@code "name (9999).ext"}. */
  static final int MAX_CLASH_SUFFIX = 9999;

  private FileNames() {}

  /** The safe single-component name for an untrusted name; see the class comment for the rules. */
  public static String sanitize(String untrusted) {
    if (untrusted == null) {
      return FALLBACK_NAME;
    }
    String s = Normalizer.normalize(untrusted, Normalizer.Form.NFC);
    s = lastComponent(s);
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      b.appendCodePoint(isUnsafe(cp) ? '_' : cp);
    }
    s = trimEnds(b.toString());
    if (s.isEmpty()) {
      return FALLBACK_NAME;
    }
    if (s.charAt(0) == '.' || s.charAt(0) == '-') {
      s = '_' + s.substring(1);
    }
    if (isWindowsDeviceName(s)) {
      s = '_' + s;
    }
    return truncate(s, MAX_NAME_BYTES);
  }

  /**
   * The {@code n}-th candidate for a sanitised name: {@code n = 1} is the name itself, {@code n >= 2} is
   * {@code "stem (n).ext"}, still within {@link #MAX_NAME_BYTES}.
   */
  public static String candidate(String sanitized, int n) {
    if (n < 1 || n > MAX_CLASH_SUFFIX) {
      throw new IllegalArgumentException("candidate number must be 1.." + MAX_CLASH_SUFFIX + ", was " + n);
    }
    if (n == 1) {
      return sanitized;
    }
    String suffix = " (" + n + ")";
    int dot = extensionStart(sanitized);
    String stem = sanitized.substring(0, dot);
    String ext = sanitized.substring(dot);
    int budget = MAX_NAME_BYTES - utf8Length(suffix) - utf8Length(ext);
    return cutToBytes(stem, budget) + suffix + ext;
  }

  /** The last component after splitting on both separators, skipping empty, "." and ".." components. */
  private static String lastComponent(String s) {
    String[] parts = s.split("[/\\\\]", -1);
    for (int i = parts.length - 1; i >= 0; i--) {
      String p = parts[i].trim();
      if (!p.isEmpty() && !p.equals(".") && !p.equals("..")) {
        return parts[i];
      }
    }
    return "";
  }

  private static boolean isUnsafe(int cp) {
    if (Character.isISOControl(cp)) {
      return true;
    }
    switch (Character.getType(cp)) {
      case Character.FORMAT: // bidi overrides, zero-width joiners, BOM: change how a name displays
      case Character.LINE_SEPARATOR:
      case Character.PARAGRAPH_SEPARATOR:
      case Character.SURROGATE: // an unpaired half, from malformed UTF-16
      case Character.UNASSIGNED:
      case Character.PRIVATE_USE:
        return true;
      default:
        break;
    }
    return "<>:\"|?*/\\".indexOf(cp) >= 0 || cp == 0xFFFD;
  }

  private static String trimEnds(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && Character.isWhitespace(s.charAt(start))) {
      start++;
    }
    while (end > start && (s.charAt(end - 1) == '.' || Character.isWhitespace(s.charAt(end - 1)))) {
      end--;
    }
    return s.substring(start, end);
  }

  /** CON, PRN, AUX, NUL, COM0-9, LPT0-9 — alone or before any extension, in any case, as Windows sees it. */
  static boolean isWindowsDeviceName(String name) {
    int dot = name.indexOf('.');
    String base = (dot < 0 ? name : name.substring(0, dot)).trim().toUpperCase(Locale.ROOT);
    switch (base) {
      case "CON":
      case "PRN":
      case "AUX":
      case "NUL":
      case "CONIN$":
      case "CONOUT$":
        return true;
      default:
        break;
    }
    if (base.length() == 4 && (base.startsWith("COM") || base.startsWith("LPT"))) {
      char c = base.charAt(3);
      return (c >= '0' && c <= '9') || c == '\u00b9' || c == '\u00b2' || c == '\u00b3';
    }
    return false;
  }

  private static String truncate(String s, int maxBytes) {
    if (utf8Length(s) <= maxBytes) {
      return s;
    }
    int dot = extensionStart(s);
    String ext = s.substring(dot);
    String stem = cutToBytes(s.substring(0, dot), maxBytes - utf8Length(ext));
    String out = trimEnds(stem) + ext;
    return out.isEmpty() || out.startsWith(".") ? FALLBACK_NAME + out : out;
  }

  /** Index of a short extension's dot, or the length when there is none worth keeping. */
  private static int extensionStart(String s) {
    int dot = s.lastIndexOf('.');
    if (dot <= 0 || s.length() - dot > MAX_EXTENSION_CHARS) {
      return s.length();
    }
    return dot;
  }

  /** The longest prefix of {@code s} within {@code maxBytes} UTF-8 bytes, never splitting a code point. */
  private static String cutToBytes(String s, int maxBytes) {
    int bytes = 0;
    int i = 0;
    while (i < s.length()) {
      int cp = s.codePointAt(i);
      int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (bytes + n > maxBytes) {
        break;
      }
      bytes += n;
      i += Character.charCount(cp);
    }
    return s.substring(0, i);
  }

  static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }
}
