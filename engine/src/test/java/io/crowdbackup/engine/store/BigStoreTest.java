package io.crowdbackup.engine.store;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 4 GiB envelope through the store in a child JVM limited to {@code -Xmx64m}: sealed to a file, stored
 * as a resumable upload interrupted once, read back through the verifying reader and compared by SHA-256.
 * Needs about 8.5 GiB of free disk and a few minutes, so it runs only on request:
 * {@code mvn -o -Dquick -pl api,engine test -Dtest=BigStoreTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dcrowdbackup.bigstore=true}
 * (tag {@code bigstore}). The child JVM, not surefire's, carries the heap limit, so no build change is
 * needed to run it.
 */
@Tag("bigstore")
@EnabledIfSystemProperty(named = "crowdbackup.bigstore", matches = "true")
class BigStoreTest {
  @TempDir
  Path dir;

  @Test
  void aFourGibEnvelopeIsStoredAndReadBackUnderASixtyFourMibHeap() throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx64m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(BigStoreWorker.class.getName());
    cmd.add(dir.toString());
    cmd.add(Long.toString(Long.getLong("crowdbackup.bigstore.plaintextBytes", 4L << 30)));
    Path out = dir.resolve("child.out");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    assertTrue(p.waitFor(30, TimeUnit.MINUTES), "child did not finish in 30 minutes");
    String output = new String(Files.readAllBytes(out), StandardCharsets.UTF_8);
    System.out.println(output);
    assertEquals(0, p.exitValue(), output);
    assertTrue(output.contains("BIGSTORE OK"), output);
  }
}
