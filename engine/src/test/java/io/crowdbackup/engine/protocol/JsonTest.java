package io.crowdbackup.engine.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonTest {
  private static Json.Obj parse(String s) throws ProtocolException {
    return Json.parseObject(s.getBytes(StandardCharsets.UTF_8), "test JSON");
  }

  private static ProtocolException refused(String s) {
    return assertThrows(ProtocolException.class, () -> parse(s));
  }

  @Test
  void readsTheValuesTheProtocolUses() throws ProtocolException {
    Json.Obj o = parse(" {\"a\":\"x\\u00e9\\n\\\"\",\"n\":-9223372036854775808,\"t\":true,\"f\":false,\"z\":null,"
        + "\"l\":[1,\"two\",{\"k\":[]}],\"e\":{}} ");
    assertEquals("x\u00e9\n\"", o.string("a"));
    assertEquals(Long.MIN_VALUE, o.integer("n", Long.MIN_VALUE, 0));
    assertTrue(o.optBoolean("t", false));
    assertEquals("fallback", o.optString("z", "fallback"));
    List<Object> l = o.array("l");
    assertEquals(3, l.size());
    assertEquals(1L, l.get(0));
    assertTrue(l.get(2) instanceof Json.Obj);
  }

  @Test
  void surrogatePairsByEscapeAndLiterallyAreKept() throws ProtocolException {
    assertEquals("\ud83d\ude00\ud83d\ude00", parse("{\"s\":\"\\ud83d\\ude00\ud83d\ude00\"}").string("s"));
  }

  @Test
  void refusesWhatTheGrammarOrTheBoundsDoNotAllow() {
    String[] bad = {"", "[]", "{", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":01}", "{\"a\":1.5}", "{\"a\":1e3}",
        "{\"a\":-0}", "{\"a\":-}", "{\"a\":99999999999999999999}", "{\"a\":9223372036854775808}", "{\"a\":\"\u0001\"}",
        "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00x\"}", "{\"a\":\"\\u12\"}", "{\"a\":tru}",
        "{\"a\":1}x", "{\"a\":1,\"a\":2}", "{a:1}", "{\"a\":\"unterminated}"};
    for (String s : bad) {
      ProtocolException e = refused(s);
      assertEquals(ProtocolException.Reason.MALFORMED, e.reason(), s);
      assertTrue(e.getMessage().startsWith("test JSON"), e.getMessage());
    }
  }

  @Test
  void refusesInvalidUtf8() {
    byte[] b = {'{', '"', 'a', '"', ':', '"', (byte) 0xc3, '"', '}'};
    ProtocolException e = assertThrows(ProtocolException.class, () -> Json.parseObject(b, "x"));
    assertEquals(ProtocolException.Reason.MALFORMED, e.reason());
  }

  @Test
  void boundsAreCheckedBeforeTheValueGrows() {
    Json.Limits small = Json.Limits.of(64, 2, 5, 3);
    assertEquals(ProtocolException.Reason.TOO_LARGE, assertThrows(ProtocolException.class,
        () -> Json.parseObject(new byte[65], "x", small)).reason());
    assertEquals(ProtocolException.Reason.TOO_LARGE, assertThrows(ProtocolException.class,
        () -> Json.parseObject("{\"a\":{\"b\":{}}}".getBytes(StandardCharsets.UTF_8), "x", small)).reason());
    assertEquals(ProtocolException.Reason.TOO_LARGE, assertThrows(ProtocolException.class,
        () -> Json.parseObject("{\"a\":\"123456\"}".getBytes(StandardCharsets.UTF_8), "x", small)).reason());
    assertEquals(ProtocolException.Reason.TOO_LARGE, assertThrows(ProtocolException.class,
        () -> Json.parseObject("{\"a\":[1,2,3,4]}".getBytes(StandardCharsets.UTF_8), "x", small)).reason());
    // Deep nesting far past the bound fails on the bound, not with a stack overflow.
    String deep = "{\"a\":" + "[".repeat(10_000);
    assertEquals(ProtocolException.Reason.TOO_LARGE, refused(deep).reason());
  }

  @Test
  void typedAccessorsNameTheMember() throws ProtocolException {
    Json.Obj o = parse("{\"n\":\"7\",\"m\":5}");
    ProtocolException e = assertThrows(ProtocolException.class, () -> o.integer("n", 0, 10));
    assertTrue(e.getMessage().contains("'n'") && e.getMessage().contains("a string"), e.getMessage());
    e = assertThrows(ProtocolException.class, () -> o.integer("m", 0, 4));
    assertTrue(e.getMessage().contains("is 5, must be in 0..4"), e.getMessage());
    e = assertThrows(ProtocolException.class, () -> o.string("absent"));
    assertTrue(e.getMessage().contains("'absent' is missing"), e.getMessage());
  }

  @Test
  void writerOutputReadsBackTheSame() throws ProtocolException {
    String tricky = "q\"b\\s/\n\r\t\u0001\u2028 \ud83d\ude00";
    byte[] out = Json.object().put("s", tricky).put("n", -42).put("b", true).put("skipped", (String) null)
        .putStrings("l", List.of("a", "b")).toBytes();
    Json.Obj o = Json.parseObject(out, "x");
    assertEquals(tricky, o.string("s"));
    assertEquals(-42, o.integer("n", -100, 0));
    assertEquals(List.of("a", "b"), o.array("l"));
    assertTrue(!o.has("skipped"));
  }
}
