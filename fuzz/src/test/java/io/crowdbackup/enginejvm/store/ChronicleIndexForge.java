package io.crowdbackup.enginejvm.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import net.openhft.chronicle.map.ChronicleMap;

/**
 * Writes raw values into a closed {@link ChronicleBlobIndex} map file and seals it again as a clean close
 * would: what a writer of another version, a bug or memory corruption during a session could leave behind
 * a valid descriptor. In the index's package (test sources of the fuzz module) to reach its builder and
 * sealing, which are package-private on purpose.
 */
public final class ChronicleIndexForge {
  private ChronicleIndexForge() {}

  /** The index file directory's raw values, key bytes -> value bytes (hex key for a stable order). */
  public static Map<String, byte[]> read(Path indexDirectory, long maxEntries) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (ChronicleMap<byte[], byte[]> m = ChronicleBlobIndex.builder(maxEntries)
        .createPersistedTo(indexDirectory.resolve(ChronicleBlobIndex.MAP_FILE).toFile())) {
      for (Map.Entry<byte[], byte[]> e : m.entrySet()) {
        out.put(io.crowdbackup.api.Fingerprint.of(e.getKey()).toHex(), e.getValue());
      }
    }
    return out;
  }

  /**
   * Puts each value ({@code null}: removes the key) into the map in {@code indexDirectory} and seals it.
   * The directory must hold a sealed map (a clean close): the forged file is sealed exactly as that was.
   */
  public static void forge(Path indexDirectory, long maxEntries, Map<byte[], byte[]> values) throws IOException {
    try (ChronicleMap<byte[], byte[]> m = ChronicleBlobIndex.builder(maxEntries)
        .createPersistedTo(indexDirectory.resolve(ChronicleBlobIndex.MAP_FILE).toFile())) {
      for (Map.Entry<byte[], byte[]> e : values.entrySet()) {
        if (e.getValue() == null) {
          m.remove(e.getKey());
        } else {
          m.put(e.getKey(), e.getValue());
        }
      }
    }
    ChronicleBlobIndex.seal(indexDirectory, maxEntries);
  }
}
