package io.crowdbackup.engine.protocol;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The protocol's small, strict, bounded JSON (RFC 8259) reader and writer. It reads only what the
 * protocol's messages use and refuses the rest with a {@link ProtocolException} that says where:
 *
 * <ul>
 *   <li>the input must be valid UTF-8 and at most {@link Limits#maxBytes()} long; its top level an object;
 *   <li>numbers are integers that fit a signed 64-bit value (no fraction, no exponent, no leading zero,
 *       no {@code -0}): every number in the protocol counts bytes or seconds;
 *   <li>strings at most {@link Limits#maxStringChars()} characters, no unescaped control character, no
 *       lone surrogate; objects and arrays at most {@link Limits#maxMembers()} entries, nested at most
 *       {@link Limits#maxDepth()} deep; no duplicate member names.
 * </ul>
 *
 * <p>Values come back as {@link Obj} (members in input order), {@link List}, {@link String}, {@link Long},
 * {@link Boolean} or {@link #NULL}. Nothing is allocated from a size the input claims: every bound is
 * checked before the value grows past it.
 */
public final class Json {
  /** JSON {@code null}. */
  public static final Object NULL = new Object() {
    @Override
    public String toString() {
      return "null";
    }
  };

  private Json() {}

  /** Bounds on one parsed document. Immutable. */
  public static final class Limits {
    /** 64 KiB, 4 levels, 4096-character strings, 1024 entries: every message of the protocol fits. */
    public static final Limits DEFAULT = new Limits(64 * 1024, 4, 4096, 1024);

    private final int maxBytes;
    private final int maxDepth;
    private final int maxStringChars;
    private final int maxMembers;

    private Limits(int maxBytes, int maxDepth, int maxStringChars, int maxMembers) {
      this.maxBytes = maxBytes;
      this.maxDepth = maxDepth;
      this.maxStringChars = maxStringChars;
      this.maxMembers = maxMembers;
    }

    /** Limits with every bound given; each must be positive. */
    public static Limits of(int maxBytes, int maxDepth, int maxStringChars, int maxMembers) {
      if (maxBytes <= 0 || maxDepth <= 0 || maxStringChars <= 0 || maxMembers <= 0) {
        throw new IllegalArgumentException("JSON limits must be positive but were bytes " + maxBytes + ", depth "
            + maxDepth + ", string " + maxStringChars + ", members " + maxMembers);
      }
      return new Limits(maxBytes, maxDepth, maxStringChars, maxMembers);
    }

    public int maxBytes() {
      return maxBytes;
    }

    public int maxDepth() {
      return maxDepth;
    }

    public int maxStringChars() {
      return maxStringChars;
    }

    public int maxMembers() {
      return maxMembers;
    }
  }

  /** Parses a document whose top level is an object, under {@link Limits#DEFAULT}. */
  public static Obj parseObject(byte[] utf8, String what) throws ProtocolException {
    return parseObject(utf8, what, Limits.DEFAULT);
  }

  /**
   * Parses a document whose top level is an object.
   *
   * @param what names the document in errors, e.g. {@code "offer JSON"}
   */
  public static Obj parseObject(byte[] utf8, String what, Limits limits) throws ProtocolException {
    Objects.requireNonNull(utf8, "utf8");
    if (utf8.length > limits.maxBytes) {
      throw new ProtocolException(ProtocolException.Reason.TOO_LARGE, what,
          "is " + utf8.length + " bytes, at most " + limits.maxBytes + " allowed");
    }
    CharBuffer chars;
    try {
      chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(utf8));
    } catch (CharacterCodingException e) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, what, "is not valid UTF-8");
    }
    Reader r = new Reader(chars.toString(), what, limits);
    r.skipWhitespace();
    if (r.peek() != '{') {
      throw r.error("the top level must be an object");
    }
    Obj o = (Obj) r.value(0);
    r.skipWhitespace();
    if (r.pos != r.s.length()) {
      throw r.error("unexpected content after the top-level object");
    }
    return o;
  }

  /** A parsed object: typed accessors that fail with the member's name and what was wrong. */
  public static final class Obj {
    private final Map<String, Object> members;
    private final String what;

    Obj(Map<String, Object> members, String what) {
      this.members = members;
      this.what = what;
    }

    /** The members in input order; unmodifiable. */
    public Map<String, Object> members() {
      return Collections.unmodifiableMap(members);
    }

    public boolean has(String name) {
      return members.containsKey(name);
    }

    /** A required string member. */
    public String string(String name) throws ProtocolException {
      Object v = require(name);
      if (!(v instanceof String)) {
        throw typeError(name, "a string", v);
      }
      return (String) v;
    }

    /** An optional string member, or {@code fallback} when absent or null. */
    /** An optional string member, or {@code null} when absent or JSON null. */
    public @Nullable String optString(String name) throws ProtocolException {
      Object v = members.get(name);
      return v == null || v == NULL ? null : string(name);
    }

    public String optString(String name, String fallback) throws ProtocolException {
      Object v = members.get(name);
      return v == null || v == NULL ? fallback : string(name);
    }

    /** A required integer member within {@code [min, max]}. */
    public long integer(String name, long min, long max) throws ProtocolException {
      Object v = require(name);
      if (!(v instanceof Long)) {
        throw typeError(name, "an integer", v);
      }
      long n = (Long) v;
      if (n < min || n > max) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, what + " member '" + name + "'",
            "is " + n + ", must be in " + min + ".." + max);
      }
      return n;
    }

    /** An optional integer member within {@code [min, max]}, or {@code fallback} when absent or null. */
    public long optInteger(String name, long min, long max, long fallback) throws ProtocolException {
      Object v = members.get(name);
      return v == null || v == NULL ? fallback : integer(name, min, max);
    }

    /** An optional boolean member, or {@code fallback} when absent or null. */
    public boolean optBoolean(String name, boolean fallback) throws ProtocolException {
      Object v = members.get(name);
      if (v == null || v == NULL) {
        return fallback;
      }
      if (!(v instanceof Boolean)) {
        throw typeError(name, "a boolean", v);
      }
      return (Boolean) v;
    }

    /** A required array member. */
    public List<Object> array(String name) throws ProtocolException {
      Object v = require(name);
      if (!(v instanceof List)) {
        throw typeError(name, "an array", v);
      }
      @SuppressWarnings("unchecked")
      List<Object> l = (List<Object>) v;
      return l;
    }

    private Object require(String name) throws ProtocolException {
      Object v = members.get(name);
      if (v == null) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, what, "member '" + name + "' is missing");
      }
      return v;
    }

    private ProtocolException typeError(String name, String expected, Object actual) {
      return new ProtocolException(ProtocolException.Reason.MALFORMED, what + " member '" + name + "'",
          "must be " + expected + " but is " + kindOf(actual));
    }

    @Override
    public String toString() {
      return members.toString();
    }
  }

  static String kindOf(Object v) {
    if (v == NULL) {
      return "null";
    }
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof Long) {
      return "an integer";
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    if (v instanceof List) {
      return "an array";
    }
    return "an object";
  }

  /** Recursive descent over a decoded string; depth is bounded, so recursion is too. */
  private static final class Reader {
    final String s;
    final String what;
    final Limits limits;
    int pos;

    Reader(String s, String what, Limits limits) {
      this.s = s;
      this.what = what;
      this.limits = limits;
    }

    ProtocolException error(String message) {
      return new ProtocolException(ProtocolException.Reason.MALFORMED, what, message + " at character " + pos);
    }

    ProtocolException tooLarge(String message) {
      return new ProtocolException(ProtocolException.Reason.TOO_LARGE, what, message + " at character " + pos);
    }

    int peek() {
      return pos < s.length() ? s.charAt(pos) : -1;
    }

    void skipWhitespace() {
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
          return;
        }
        pos++;
      }
    }

    void expect(char c) throws ProtocolException {
      if (peek() != c) {
        throw error("expected '" + c + "'");
      }
      pos++;
    }

    Object value(int depth) throws ProtocolException {
      skipWhitespace();
      int c = peek();
      switch (c) {
        case '{':
          return object(depth + 1);
        case '[':
          return array(depth + 1);
        case '"':
          return string();
        case 't':
          literal("true");
          return true;
        case 'f':
          literal("false");
          return false;
        case 'n':
          literal("null");
          return NULL;
        default:
          if (c == '-' || (c >= '0' && c <= '9')) {
            return number();
          }
          throw error(c < 0 ? "unexpected end of input" : "unexpected character");
      }
    }

    void literal(String word) throws ProtocolException {
      if (!s.startsWith(word, pos)) {
        throw error("expected " + word);
      }
      pos += word.length();
    }

    Obj object(int depth) throws ProtocolException {
      if (depth > limits.maxDepth) {
        throw tooLarge("nesting deeper than " + limits.maxDepth);
      }
      expect('{');
      Map<String, Object> m = new LinkedHashMap<>();
      skipWhitespace();
      if (peek() == '}') {
        pos++;
        return new Obj(m, what);
      }
      while (true) {
        skipWhitespace();
        if (peek() != '"') {
          throw error("expected a member name");
        }
        String name = string();
        skipWhitespace();
        expect(':');
        Object v = value(depth);
        if (m.containsKey(name)) {
          throw error("duplicate member '" + Tus.printable(name) + "'");
        }
        if (m.size() == limits.maxMembers) {
          throw tooLarge("more than " + limits.maxMembers + " members");
        }
        m.put(name, v);
        skipWhitespace();
        if (peek() == ',') {
          pos++;
          continue;
        }
        expect('}');
        return new Obj(m, what);
      }
    }

    List<Object> array(int depth) throws ProtocolException {
      if (depth > limits.maxDepth) {
        throw tooLarge("nesting deeper than " + limits.maxDepth);
      }
      expect('[');
      List<Object> l = new ArrayList<>();
      skipWhitespace();
      if (peek() == ']') {
        pos++;
        return l;
      }
      while (true) {
        Object v = value(depth);
        if (l.size() == limits.maxMembers) {
          throw tooLarge("more than " + limits.maxMembers + " array elements");
        }
        l.add(v);
        skipWhitespace();
        if (peek() == ',') {
          pos++;
          continue;
        }
        expect(']');
        return l;
      }
    }

    String string() throws ProtocolException {
      expect('"');
      StringBuilder sb = new StringBuilder();
      while (true) {
        if (pos >= s.length()) {
          throw error("unterminated string");
        }
        char c = s.charAt(pos++);
        if (c == '"') {
          break;
        }
        if (c < 0x20) {
          throw error("unescaped control character in a string");
        }
        sb.append(c == '\\' ? escape() : c);
        if (sb.length() > limits.maxStringChars) {
          throw tooLarge("a string longer than " + limits.maxStringChars + " characters");
        }
      }
      // Escapes can spell surrogates; only whole pairs make a string that encodes back to UTF-8.
      for (int i = 0; i < sb.length(); i++) {
        char c = sb.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < sb.length() && Character.isLowSurrogate(sb.charAt(i + 1))) {
          i++;
        } else if (Character.isSurrogate(c)) {
          throw error("lone surrogate in a string");
        }
      }
      return sb.toString();
    }

    char escape() throws ProtocolException {
      if (pos >= s.length()) {
        throw error("unterminated escape");
      }
      char e = s.charAt(pos++);
      switch (e) {
        case '"':
          return '"';
        case '\\':
          return '\\';
        case '/':
          return '/';
        case 'b':
          return '\b';
        case 'f':
          return '\f';
        case 'n':
          return '\n';
        case 'r':
          return '\r';
        case 't':
          return '\t';
        case 'u':
          if (pos + 4 > s.length()) {
            throw error("truncated \\u escape");
          }
          int v = 0;
          for (int i = 0; i < 4; i++) {
            int d = Character.digit(s.charAt(pos++), 16);
            if (d < 0) {
              throw error("bad hex digit in a \\u escape");
            }
            v = v * 16 + d;
          }
          return (char) v;
        default:
          throw error("unknown escape '\\" + e + "'");
      }
    }

    Long number() throws ProtocolException {
      int start = pos;
      if (peek() == '-') {
        pos++;
      }
      int digitsStart = pos;
      while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
        pos++;
        if (pos - digitsStart > 19) {
          throw error("an integer longer than 19 digits");
        }
      }
      int digits = pos - digitsStart;
      if (digits == 0) {
        throw error("expected digits");
      }
      if (digits > 1 && s.charAt(digitsStart) == '0') {
        throw error("an integer with a leading zero");
      }
      int c = peek();
      if (c == '.' || c == 'e' || c == 'E') {
        throw error("only integers are allowed (no fraction or exponent)");
      }
      String text = s.substring(start, pos);
      if (text.equals("-0")) {
        throw error("-0 is not an integer the protocol uses");
      }
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException e) {
        throw error("integer out of the 64-bit range");
      }
    }
  }

  // -----------------------------------------------------------------------------------------------------
  // Writing

  /** Starts an object to write. */
  public static Writer object() {
    return new Writer();
  }

  /** Writes one JSON object, members in the order they are put. Null values are left out. */
  public static final class Writer {
    private final StringBuilder sb = new StringBuilder("{");
    private boolean first = true;

    private Writer() {}

    private Writer name(String name) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      quote(sb, name);
      sb.append(':');
      return this;
    }

    public Writer put(String name, @Nullable String value) {
      if (value != null) {
        quote(name(name).sb, value);
      }
      return this;
    }

    public Writer put(String name, long value) {
      name(name).sb.append(value);
      return this;
    }

    public Writer put(String name, boolean value) {
      name(name).sb.append(value);
      return this;
    }

    /** An array of strings. */
    public Writer putStrings(String name, Iterable<String> values) {
      name(name).sb.append('[');
      boolean f = true;
      for (String v : values) {
        if (!f) {
          sb.append(',');
        }
        f = false;
        quote(sb, v);
      }
      sb.append(']');
      return this;
    }

    /** An array of objects already written. */
    public Writer putObjects(String name, Iterable<Writer> values) {
      name(name).sb.append('[');
      boolean f = true;
      for (Writer v : values) {
        if (!f) {
          sb.append(',');
        }
        f = false;
        sb.append(v.toString());
      }
      sb.append(']');
      return this;
    }

    @Override
    public String toString() {
      return sb + "}";
    }

    public byte[] toBytes() {
      return toString().getBytes(StandardCharsets.UTF_8);
    }
  }

  static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        case '\n':
          sb.append("\\n");
          break;
        case '\r':
          sb.append("\\r");
          break;
        case '\t':
          sb.append("\\t");
          break;
        default:
          boolean pair = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
          if (pair) {
            sb.append(c).append(s.charAt(++i));
          } else if (Character.isSurrogate(c)) {
            // A lone surrogate has no UTF-8 form and the reader refuses its escape: write what
            // String.getBytes would, U+FFFD, so every document written is one the reader accepts.
            sb.append('\ufffd');
          } else if (c < 0x20) {
            sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    sb.append('"');
  }
}
