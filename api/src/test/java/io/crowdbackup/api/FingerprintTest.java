package io.crowdbackup.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FingerprintTest {
  private static final String HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

  @Test
  void hexRoundTripsAndIgnoresCase() {
    Fingerprint f = Fingerprint.fromHex(HEX.toUpperCase(java.util.Locale.ROOT));
    assertEquals(HEX, f.toHex());
    assertEquals(f, Fingerprint.of(f.toBytes()));
  }

  @Test
  void onlyAsciiHexDigitsAreAccepted() {
    assertThrows(IllegalArgumentException.class, () -> Fingerprint.fromHex(HEX.replace('0', '\uFF10')));
    assertThrows(IllegalArgumentException.class, () -> Fingerprint.fromHex(HEX.substring(2)));
    assertThrows(IllegalArgumentException.class, () -> Fingerprint.fromHex(HEX.replace('a', 'g')));
  }

  @Test
  void ordersAsUnsignedBytes() {
    Fingerprint low = Fingerprint.fromHex("7f" + HEX.substring(2));
    Fingerprint high = Fingerprint.fromHex("80" + HEX.substring(2));
    assertTrue(low.compareTo(high) < 0, "0x7f must sort before 0x80 (unsigned)");
    assertEquals(0, low.compareTo(Fingerprint.fromHex(low.toHex())));
  }
}
