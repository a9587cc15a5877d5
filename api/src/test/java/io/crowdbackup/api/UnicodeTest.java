package io.crowdbackup.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Text that would not survive UTF-8 unchanged is refused where it enters, not mangled on the way. */
class UnicodeTest {
  private static final byte[] KEY = new byte[32];

  @Test
  void loneSurrogatesAreRefusedInNamesAndLocators() {
    assertThrows(IllegalArgumentException.class, () -> SealRequest.newBuilder().name("photo\uD800.jpg"));
    assertThrows(IllegalArgumentException.class, () -> new DestinationCard("https://x.example/\uDC00", KEY, KEY));
  }

  @Test
  void properSurrogatePairsAreKept() {
    String name = "caf\u00e9 \uD83D\uDCF7.jpg";
    assertEquals(name, SealRequest.newBuilder().name(name).destination(new DestinationCard("a", KEY, KEY))
        .releaseKey(KEY).expiresAtEpochSecond(1).build().name());
  }

  @Test
  void locatorsWithEdgeWhitespaceAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new DestinationCard(" https://x.example", KEY, KEY));
    assertThrows(IllegalArgumentException.class, () -> new DestinationCard("https://x.example\u2003", KEY, KEY));
    assertThrows(IllegalArgumentException.class, () -> new DestinationCard(" ", KEY, KEY));
    assertEquals("a b", new DestinationCard("a b", KEY, KEY).locator());
  }

  @Test
  void expiryBeyondTheFormatsBoundIsRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> SealRequest.newBuilder().expiresAtEpochSecond(SealRequest.MAX_EXPIRES_AT_EPOCH_SECOND + 1));
    SealRequest.newBuilder().expiresAtEpochSecond(SealRequest.MAX_EXPIRES_AT_EPOCH_SECOND);
  }
}
