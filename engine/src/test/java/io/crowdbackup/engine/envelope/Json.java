package io.crowdbackup.engine.envelope;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON the test vectors need, with no dependency: a writer whose output is byte-for-byte
 * deterministic (keys in insertion order, two-space indent, "\n" line ends) and a strict reader. Values:
 * {@link Map} (objects), {@link List}, {@link String}, {@link Long} (integers; the vectors have no
 * fractions), {@link Boolean}, {@code null}.
 */
final class Json {
  private Json() {}

  /** Pretty form: one member or element per line. */
  static String pretty(Object value) {
    StringBuilder b = new StringBuilder();
    write(b, value, 0, true);
    return b.append('\n').toString();
  }

  /** One-line form, for JSON Lines files. */
  static String line(Object value) {
    StringBuilder b = new StringBuilder();
    write(b, value, 0, false);
    return b.toString();
  }

  private static void write(StringBuilder b, Object v, int indent, boolean pretty) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof String) {
      string(b, (String) v);
    } else if (v instanceof Integer || v instanceof Long) {
      b.append(v);
    } else if (v instanceof Boolean) {
      b.append(v);
    } else if (v instanceof Map) {
      Map<?, ?> m = (Map<?, ?>) v;
      if (m.isEmpty()) {
        b.append("{}");
        return;
      }
      b.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        b.append(first ? "" : ",");
        newline(b, indent + 1, pretty);
        string(b, (String) e.getKey());
        b.append(pretty ? ": " : ":");
        write(b, e.getValue(), indent + 1, pretty);
        first = false;
      }
      newline(b, indent, pretty);
      b.append('}');
    } else if (v instanceof List) {
      List<?> l = (List<?>) v;
      if (l.isEmpty()) {
        b.append("[]");
        return;
      }
      b.append('[');
      for (int i = 0; i < l.size(); i++) {
        b.append(i == 0 ? "" : ",");
        newline(b, indent + 1, pretty);
        write(b, l.get(i), indent + 1, pretty);
      }
      newline(b, indent, pretty);
      b.append(']');
    } else {
      throw new IllegalArgumentException("not a JSON value: " + v.getClass());
    }
  }

  private static void newline(StringBuilder b, int indent, boolean pretty) {
    if (pretty) {
      b.append('\n');
      for (int i = 0; i < indent; i++) {
        b.append("  ");
      }
    }
  }

  private static void string(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20 || c > 0x7e) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    b.append('"');
  }

  /** Parses one JSON value; trailing non-space text is an error. */
  static Object parse(String text) {
    Reader r = new Reader(text);
    Object v = r.value();
    r.space();
    if (r.pos != text.length()) {
      throw r.error("trailing text");
    }
    return v;
  }

  private static final class Reader {
    final String s;
    int pos;

    Reader(String s) {
      this.s = s;
    }

    IllegalArgumentException error(String what) {
      return new IllegalArgumentException("JSON: " + what + " at offset " + pos);
    }

    void space() {
      while (pos < s.length() && " \t\r\n".indexOf(s.charAt(pos)) >= 0) {
        pos++;
      }
    }

    void expect(char c) {
      space();
      if (pos >= s.length() || s.charAt(pos) != c) {
        throw error("expected '" + c + "'");
      }
      pos++;
    }

    Object value() {
      space();
      if (pos >= s.length()) {
        throw error("unexpected end");
      }
      char c = s.charAt(pos);
      if (c == '{') {
        pos++;
        Map<String, Object> m = new LinkedHashMap<>();
        space();
        if (s.charAt(pos) == '}') {
          pos++;
          return m;
        }
        do {
          space();
          String key = string();
          expect(':');
          if (m.put(key, value()) != null) {
            throw error("duplicate key " + key);
          }
          space();
        } while (s.charAt(pos++) == ',');
        pos--;
        expect('}');
        return m;
      }
      if (c == '[') {
        pos++;
        List<Object> l = new ArrayList<>();
        space();
        if (s.charAt(pos) == ']') {
          pos++;
          return l;
        }
        do {
          l.add(value());
          space();
        } while (s.charAt(pos++) == ',');
        pos--;
        expect(']');
        return l;
      }
      if (c == '"') {
        return string();
      }
      if (s.startsWith("true", pos)) {
        pos += 4;
        return Boolean.TRUE;
      }
      if (s.startsWith("false", pos)) {
        pos += 5;
        return Boolean.FALSE;
      }
      if (s.startsWith("null", pos)) {
        pos += 4;
        return null;
      }
      int start = pos;
      if (c == '-') {
        pos++;
      }
      while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
        pos++;
      }
      if (start == pos) {
        throw error("unexpected character '" + c + "'");
      }
      return Long.parseLong(s.substring(start, pos));
    }

    String string() {
      if (s.charAt(pos) != '"') {
        throw error("expected a string");
      }
      pos++;
      StringBuilder b = new StringBuilder();
      while (true) {
        char c = s.charAt(pos++);
        if (c == '"') {
          return b.toString();
        }
        if (c == '\\') {
          char e = s.charAt(pos++);
          switch (e) {
            case '"': case '\\': case '/': b.append(e); break;
            case 'n': b.append('\n'); break;
            case 't': b.append('\t'); break;
            case 'r': b.append('\r'); break;
            case 'b': b.append('\b'); break;
            case 'f': b.append('\f'); break;
            case 'u':
              b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
              pos += 4;
              break;
            default:
              throw error("bad escape");
          }
        } else {
          b.append(c);
        }
      }
    }
  }
}
