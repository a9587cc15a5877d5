package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.TypeConversionException;

/** The holder's settings file and the option values it shares with the command line. */
class HolderSettingsTest {
  @TempDir Path dir;

  @Test
  void aMissingFileMeansTheDefaultsAndOptionsOverrideTheFile() throws Exception {
    HolderSettings d = HolderSettings.load(dir.resolve("store.conf"));
    assertEquals(1L << 30, d.quotaBytes);
    assertEquals(25, d.peerSharePercent);
    assertEquals(12 * 3600, d.maxRetentionSeconds);
    assertEquals(0, d.maxEnvelopeBytes);
    assertEquals("default", d.origin.get(HolderSettings.QUOTA));

    Path file = dir.resolve("store.conf");
    Files.writeString(file, "# mine\n\n  QUOTA = 2GiB \nPeer-Share=10%\nmax-retention = 1h30m\nmax-envelope = 64MiB\n");
    HolderSettings f = HolderSettings.load(file);
    assertEquals(2L << 30, f.quotaBytes);
    assertEquals(10, f.peerSharePercent);
    assertEquals(5400, f.maxRetentionSeconds);
    assertEquals(64L << 20, f.maxEnvelopeBytes);
    assertEquals(file.toString(), f.origin.get(HolderSettings.PEER_SHARE));

    HolderSettings o = f.with(null, 50, null, null, "option");
    assertEquals(50, o.peerSharePercent);
    assertEquals(2L << 30, o.quotaBytes, "an option changes only its own setting");
    assertEquals("option", o.origin.get(HolderSettings.PEER_SHARE));
    assertEquals(file.toString(), o.origin.get(HolderSettings.QUOTA));
  }

  @Test
  void whatConfigSaveWritesReadsBackTheSame() throws Exception {
    HolderSettings s = HolderSettings.of(1536L << 10, 40, 8 * 3600 + 60, 0);
    Path file = dir.resolve("store.conf");
    Files.writeString(file, s.encode());
    HolderSettings back = HolderSettings.load(file);
    assertEquals(s.quotaBytes, back.quotaBytes);
    assertEquals(s.peerSharePercent, back.peerSharePercent);
    assertEquals(s.maxRetentionSeconds, back.maxRetentionSeconds);
    assertEquals(s.maxEnvelopeBytes, back.maxEnvelopeBytes);
    assertTrue(s.encode().contains("max-retention = 8h1m\n"), s.encode());
  }

  @Test
  void aBadFileIsAUsageErrorNamingFileAndLine() throws Exception {
    Path file = dir.resolve("store.conf");
    String[][] cases = {
        {"quota = 1GiB\nqouta = 2GiB\n", "line 2: unknown setting 'qouta'"},
        {"quota = 1GiB\nquota = 2GiB\n", "line 2: 'quota' is set twice (first on line 1)"},
        {"peer-share = 0%\n", "line 1: peer-share:"},
        {"max-retention = soon\n", "line 1: max-retention:"},
        {"quota\n", "line 1: expected 'key = value'"},
        {"quota = 2TiB\n", "larger than 1TiB"},
    };
    for (String[] c : cases) {
      Files.writeString(file, c[0]);
      CliException e = assertThrows(CliException.class, () -> HolderSettings.load(file), c[0]);
      assertEquals(ExitCodes.USAGE, e.exitCode());
      assertEquals("BAD_SETTINGS", e.reason());
      assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
      assertTrue(e.getMessage().contains(c[1]), e.getMessage());
    }
    Files.write(file, new byte[HolderSettings.MAX_FILE_BYTES + 1]);
    assertTrue(assertThrows(CliException.class, () -> HolderSettings.load(file)).getMessage()
        .contains("not a settings file"));
  }

  @Test
  void byteCountsAndPercentages() {
    Converters.ByteCountConverter bytes = new Converters.ByteCountConverter();
    assertEquals(1L << 40, bytes.convert("1TiB"));
    assertEquals(3L << 29, bytes.convert("1536m"));
    assertEquals(500, bytes.convert("500"));
    for (String bad : new String[] {"", "0", "0GiB", "1.5GiB", "1025GiB", "99999999999999999999", "-1", "1PiB"}) {
      assertThrows(TypeConversionException.class, () -> bytes.convert(bad), bad);
    }
    Converters.PercentConverter percent = new Converters.PercentConverter();
    assertEquals(25, percent.convert("25%"));
    assertEquals(100, percent.convert(" 100 "));
    for (String bad : new String[] {"0", "101%", "half", "%"}) {
      assertThrows(TypeConversionException.class, () -> percent.convert(bad), bad);
    }
  }

  @Test
  void sizesForPeopleRoundDownSoNearlyFullNeverReadsFull() {
    assertEquals("999 B", Units.bytes(999));
    assertEquals("0.99 MiB", Units.bytes((1 << 20) - 60));
    assertEquals("1.00 MiB", Units.bytes(1 << 20));
    assertEquals("400 KiB", Units.bytes(400 << 10));
    assertEquals("99.9%", Units.percent((1 << 20) - 60, 1 << 20));
    assertEquals("100.0%", Units.percent(1 << 20, 1 << 20));
  }
}
