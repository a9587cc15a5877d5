package io.crowdbackup.engine.inbox;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class FileNamesTest {

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
      "photo.jpg|photo.jpg",
      "../../etc/passwd|passwd",
      "/abs|abs",
      "/etc/|etc",
      "a/b|b",
      "a\\b.txt|b.txt",
      "C:\\Windows\\System32\\x.dll|x.dll",
      "C:x.txt|C_x.txt",
      "..|unnamed",
      ".|unnamed",
      "../..|unnamed",
      "''|unnamed",
      "'   '|unnamed",
      "con|_con",
      "CON.txt|_CON.txt",
      "Nul|_Nul",
      "com1.jpg|_com1.jpg",
      "LPT9|_LPT9",
      "console.txt|console.txt",
      "com10|com10",
      ".bashrc|_bashrc",
      ".crowdbackup-inbox|_crowdbackup-inbox",
      ".crowdbackup-tmp-123.part|_crowdbackup-tmp-123.part",
      "-rf|_rf",
      "name.|name",
      "name. . |name",
      "file.txt:stream|file.txt_stream",
      "résumé.pdf|résumé.pdf",
  })
  void sanitizes(String hostile, String expected) {
    assertEquals(expected, FileNames.sanitize(hostile));
  }

  @Test
  void controlAndInvisibleCharactersBecomeUnderscores() {
    assertEquals("a_b", FileNames.sanitize("a\u0000b"));
    assertEquals("a_b", FileNames.sanitize("a\nb"));
    assertEquals("a_b", FileNames.sanitize("a\u001bb"));
    assertEquals("a_b_c_d_e_f_g_h.txt", FileNames.sanitize("a<b>c:d\"e|f?g*h.txt"));
    assertEquals("x_y", FileNames.sanitize("x\u007fy"));
    assertEquals("x_y", FileNames.sanitize("x\u0085y")); // C1 control (NEL)
    // Right-to-left override: "evil<RLO>gpj.exe" would display as "evilexe.jpg".
    assertEquals("evil_gpj.exe", FileNames.sanitize("evil\u202egpj.exe"));
    assertEquals("a_b", FileNames.sanitize("a\u200bb")); // zero-width space
    assertEquals("a_b", FileNames.sanitize("a\ud800b")); // unpaired surrogate
    assertEquals(FileNames.FALLBACK_NAME, FileNames.sanitize("\u0000"));
  }

  @Test
  void unicodeIsNormalisedToNfc() {
    String decomposed = "re\u0301sume\u0301.txt";
    assertEquals("r\u00e9sum\u00e9.txt", FileNames.sanitize(decomposed));
  }

  @Test
  void veryLongNamesAreCutInTheStemKeepingTheExtension() {
    String longName = "x".repeat(1000) + ".jpeg";
    String s = FileNames.sanitize(longName);
    assertTrue(FileNames.utf8Length(s) <= FileNames.MAX_NAME_BYTES, s);
    assertTrue(s.endsWith(".jpeg"), s);
    // Multi-byte characters are never split: every code point survives whole.
    String emoji = "\ud83d\udcf7".repeat(300) + ".png";
    String e = FileNames.sanitize(emoji);
    assertTrue(FileNames.utf8Length(e) <= FileNames.MAX_NAME_BYTES);
    assertTrue(e.endsWith(".png"));
    assertEquals(e, new String(e.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
    assertFalse(e.contains("\ufffd"));
  }

  @Test
  void clashCandidatesStayWithinTheBoundAndKeepTheExtension() {
    assertEquals("photo.jpg", FileNames.candidate("photo.jpg", 1));
    assertEquals("photo (2).jpg", FileNames.candidate("photo.jpg", 2));
    assertEquals("README (3)", FileNames.candidate("README", 3));
    assertEquals("archive.tar (2).gz", FileNames.candidate("archive.tar.gz", 2));
    String longest = FileNames.sanitize("y".repeat(400) + ".mp4");
    String c = FileNames.candidate(longest, FileNames.MAX_CLASH_SUFFIX);
    assertTrue(FileNames.utf8Length(c) <= FileNames.MAX_NAME_BYTES, c);
    assertTrue(c.endsWith(" (9999).mp4"), c);
    assertThrows(IllegalArgumentException.class, () -> FileNames.candidate("a", 0));
    assertThrows(IllegalArgumentException.class, () -> FileNames.candidate("a", FileNames.MAX_CLASH_SUFFIX + 1));
  }

  /** Whatever comes in, the result is one component that resolves inside the folder and can be created. */
  @ParameterizedTest
  @ValueSource(strings = {"../../etc/passwd", "/abs", "a/b", "con", "", "..", ".", "\u0000", "a\u0000/../b",
      "//", "\\\\server\\share\\f", "~", "~/x", "*", "?", "LONG"})
  void resultIsAlwaysACreatableChildOfTheFolder(String hostile, @TempDir Path dir) throws Exception {
    String s = FileNames.sanitize(hostile.equals("LONG") ? "x".repeat(255) : hostile);
    Path p = dir.resolve(s).normalize();
    assertEquals(dir, p.getParent(), "escaped the folder: " + s);
    assertFalse(s.isEmpty());
    Files.write(p, new byte[] {1});
    assertTrue(Files.isRegularFile(p));
  }
}
