package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class ConvertersTest {
  final Converters.DurationConverter durations = new Converters.DurationConverter();
  final Converters.SizeConverter sizes = new Converters.SizeConverter();

  @Test
  void durations() {
    assertEquals(Duration.ofHours(12), durations.convert("12h"));
    assertEquals(Duration.ofMinutes(90), durations.convert("1h30m"));
    assertEquals(Duration.ofDays(2), durations.convert("2d"));
    assertEquals(Duration.ofSeconds(45), durations.convert("45s"));
    assertEquals(Duration.ofHours(12), durations.convert("PT12H"));
    for (String bad : new String[] {"", "12", "h", "12x", "0h", "-1h", "12h junk", "1h 30m", "PT0S", "P"}) {
      assertThrows(TypeConversionException.class, () -> durations.convert(bad), bad);
    }
  }

  @Test
  void sizes() {
    assertEquals(65536, sizes.convert("65536"));
    assertEquals(65536, sizes.convert("64KiB"));
    assertEquals(65536, sizes.convert("64k"));
    assertEquals(4 << 20, sizes.convert("4MiB"));
    for (String bad : new String[] {"", "k", "1.5m", "99999999999", "4GiB", "-1"}) {
      assertThrows(TypeConversionException.class, () -> sizes.convert(bad), bad);
    }
  }

  @Test
  void jsonEscapesWhatWouldBreakALine() {
    assertEquals("{\"a\":\"x\\ny\\u0000\\\"\\\\\",\"n\":3,\"z\":null}",
        Json.obj().put("a", "x\ny\u0000\"\\").put("n", 3).put("z", null).toString());
  }
}
