package io.crowdbackup.engine.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TusTest {
  @Test
  void metadataRoundTripsAndMatchesTheSpecExample() throws Exception {
    // The example of the tus 1.0 creation extension.
    Map<String, String> m = Tus.parseMetadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential");
    assertEquals("world_domination_plan.pdf", m.get("filename"));
    assertEquals("", m.get("is_confidential"));
    Map<String, String> pairs = new LinkedHashMap<>();
    pairs.put("peer", "ph\u00f6ne 7");
    pairs.put("flag", "");
    assertEquals(pairs, Tus.parseMetadata(Tus.formatMetadata(pairs)));
  }

  @Test
  void refusesMalformedOrOversizedMetadata() {
    String[] bad = {"a b c", "a !!!", ",a", "a,", "a YQ==,a YQ==", "\u00e9 YQ==", "a /w==" /* not UTF-8 */,
        "k\u0001 YQ=="};
    for (String s : bad) {
      assertEquals(ProtocolException.Reason.MALFORMED, assertThrows(ProtocolException.class,
          () -> Tus.parseMetadata(s), s).reason(), s);
    }
    assertEquals(ProtocolException.Reason.TOO_LARGE, assertThrows(ProtocolException.class,
        () -> Tus.parseMetadata("a " + "A".repeat(Tus.MAX_METADATA_CHARS))).reason());
    StringBuilder many = new StringBuilder();
    for (int i = 0; i <= Tus.MAX_METADATA_PAIRS; i++) {
      many.append(i == 0 ? "" : ",").append("k").append(i);
    }
    assertEquals(ProtocolException.Reason.TOO_LARGE, assertThrows(ProtocolException.class,
        () -> Tus.parseMetadata(many.toString())).reason());
  }

  @Test
  void offsetsAreStrictDecimal() throws ProtocolException {
    assertEquals(0, Tus.parseNonNegative("Upload-Offset", "0"));
    assertEquals(Long.MAX_VALUE, Tus.parseNonNegative("Upload-Offset", "9223372036854775807"));
    for (String s : new String[] {null, "", "-1", "+1", "1.0", "0x10", "9223372036854775808", "12345678901234567890",
        "1 2"}) {
      ProtocolException e = assertThrows(ProtocolException.class, () -> Tus.parseNonNegative("Upload-Offset", s));
      assertTrue(e.getMessage().startsWith("Upload-Offset"), e.getMessage());
    }
  }

  @Test
  void checksumIsSha256Only() throws Exception {
    byte[] d = MessageDigest.getInstance("SHA-256").digest("body".getBytes(StandardCharsets.UTF_8));
    assertArrayEquals(d, Tus.parseChecksum(Tus.formatChecksum(d)));
    assertNull(Tus.parseChecksum(null));
    for (String s : new String[] {"sha1 AAAA", "sha256", "sha256 !!", "sha256 AAAA", "md5 " + "A".repeat(200)}) {
      assertThrows(ProtocolException.class, () -> Tus.parseChecksum(s), s);
    }
  }

  @Test
  void versionAndDates() throws ProtocolException {
    Tus.requireResumable("1.0.0");
    assertEquals(ProtocolException.Reason.UNSUPPORTED_VERSION,
        assertThrows(ProtocolException.class, () -> Tus.requireResumable("0.2.2")).reason());
    assertEquals(ProtocolException.Reason.UNSUPPORTED_VERSION,
        assertThrows(ProtocolException.class, () -> Tus.requireResumable(null)).reason());
    assertEquals("Thu, 01 Jan 1970 00:00:00 GMT", Tus.formatHttpDate(0));
    assertEquals("Sun, 06 Dec 2026 05:04:03 GMT", Tus.formatHttpDate(1796533443L));
  }
}
