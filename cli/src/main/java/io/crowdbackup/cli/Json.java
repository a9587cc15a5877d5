package io.crowdbackup.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/** The little JSON that {@code --json} needs: one object per line, strings escaped per RFC 8259. */
final class Json {
  private Json() {}

  /** An insertion-ordered object builder. */
  static final class Obj {
    private final Map<String, Object> fields = new LinkedHashMap<>();

    Obj put(String key, Object value) {
      fields.put(key, value);
      return this;
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder();
      write(b, fields);
      return b.toString();
    }
  }

  static Obj obj() {
    return new Obj();
  }

  private static void write(StringBuilder b, Object v) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof Obj) {
      write(b, ((Obj) v).fields);
    } else if (v instanceof Map) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        if (!first) {
          b.append(',');
        }
        first = false;
        string(b, String.valueOf(e.getKey()));
        b.append(':');
        write(b, e.getValue());
      }
      b.append('}');
    } else if (v instanceof Iterable) {
      b.append('[');
      boolean first = true;
      for (Object o : (Iterable<?>) v) {
        if (!first) {
          b.append(',');
        }
        first = false;
        write(b, o);
      }
      b.append(']');
    } else if (v instanceof Number || v instanceof Boolean) {
      b.append(v);
    } else {
      string(b, v.toString());
    }
  }

  private static void string(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': b.append("\\\""); break;
        case '\\': b.append("\\\\"); break;
        case '\n': b.append("\\n"); break;
        case '\r': b.append("\\r"); break;
        case '\t': b.append("\\t"); break;
        default:
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
      }
    }
    b.append('"');
  }
}
