package io.crowdbackup.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The committed seeds are what {@link SeedGenerator} produces, so they can be regenerated after a format
 * change; {@code -Dfuzz.writeSeeds=true} rewrites them instead of checking.
 */
class SeedCorpusTest {
  private static final Path RESOURCES = Paths.get(System.getProperty("jazzer.internal.basedir", "."))
      .resolve("src/test/resources");

  @Test
  void committedSeedsMatchTheGenerator() throws Exception {
    if (Boolean.getBoolean("fuzz.writeSeeds")) {
      SeedGenerator.write(RESOURCES);
    }
    for (Map.Entry<String, Map<String, byte[]>> d : SeedGenerator.all().entrySet()) {
      for (Map.Entry<String, byte[]> f : d.getValue().entrySet()) {
        Path file = RESOURCES.resolve(d.getKey()).resolve(f.getKey());
        assertTrue(Files.isRegularFile(file), file + " is missing: regenerate the seeds (see SeedGenerator)");
        // LZ4 output may differ between the native and the Java backend: such seeds need only exist.
        if (!f.getKey().contains("lz4")) {
          assertArrayEquals(f.getValue(), Files.readAllBytes(file), file + " differs from the generator's");
        }
      }
    }
  }
}
