package io.crowdbackup.engine.envelope;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docs/fingerprint.sh} checks what a holder checks: it prints the fingerprint of every vector
 * envelope a keyless holder accepts, the same one, and refuses (prints nothing) every one a holder
 * refuses. Needs bash, coreutils and xxd (skipped where bash is missing).
 */
class FingerprintScriptTest {
  @TempDir
  Path tmp;

  @Test
  void theScriptAgreesWithTheKeylessScannerOnEveryVector() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "bash is needed");
    VectorsTest.generate();
    Path script = VectorsTest.dir.resolve("../fingerprint.sh").normalize();
    List<String[]> cases = new ArrayList<>(); // file name, expected fingerprint or null for a refusal
    int n = 0;
    for (Map<String, Object> v : VectorsTest.jsonLines("negative-envelopes.jsonl")) {
      Path f = tmp.resolve("neg-" + v.get("name"));
      Files.write(f, Hex.parse((String) v.get("envelope_hex")));
      cases.add(new String[] {f.toString(), (String) v.get("keyless_fingerprint")});
    }
    for (String file : VectorsTest.committedFiles()) {
      if (!file.startsWith("envelopes/")) {
        continue;
      }
      Map<String, Object> v = VectorsTest.obj(Json.parse(VectorsTest.read(file)));
      List<Map<String, Object>> layers = new ArrayList<>();
      if (v.containsKey("layers")) {
        for (Object l : (List<?>) v.get("layers")) {
          layers.add(VectorsTest.obj(l));
        }
      } else {
        layers.add(v);
      }
      for (Map<String, Object> l : layers) {
        if (l.get("envelope_hex") != null) {
          Path f = tmp.resolve("pos-" + (n++));
          Files.write(f, Hex.parse((String) l.get("envelope_hex")));
          cases.add(new String[] {f.toString(), (String) l.get("fingerprint")});
        }
      }
    }
    int refused = 0;
    for (String[] c : cases) {
      Process p = new ProcessBuilder("bash", script.toString(), c[0]).redirectErrorStream(false).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      if (c[1] == null) {
        assertEquals("", out, c[0] + " is refused by a holder; the script printed a fingerprint");
        assertNotEquals(0, p.exitValue(), c[0]);
        assertTrue(err.startsWith("fingerprint.sh: "), c[0] + ": " + err);
        refused++;
      } else {
        assertEquals(0, p.exitValue(), c[0] + ": " + err);
        assertEquals(c[1] + "  " + c[0] + "\n", out, c[0]);
      }
    }
    assertTrue(refused >= 20, "refusals checked: " + refused);
  }
}
