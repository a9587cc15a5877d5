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
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 4 GiB envelope through the store in a child JVM limited to {@code -Xmx64m}: sealed straight into a
 * resumable upload that is cut off once and resumed, read back through the verifying reader and compared
 * by SHA-256 ({@link BigStoreWorker}). Runs in {@code mvn test} (about a minute here); it needs about
 * 4.1 GiB of free disk under {@code java.io.tmpdir} and is skipped, saying so, when that is missing.
 * {@code -Dcrowdbackup.bigstore=false} leaves it out. The child JVM, not surefire's, carries the heap
 * limit. Alone: {@code mvn -o -Dquick -pl api,engine -am test -Dtest=BigStoreTest
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("bigstore")
@DisabledIfSystemProperty(named = "crowdbackup.bigstore", matches = "false")
class BigStoreTest {
  @TempDir
  Path dir;

  @Test
  void aFourGibEnvelopeIsStoredAndReadBackUnderASixtyFourMibHeap() throws Exception {
    long plaintextBytes = Long.getLong("crowdbackup.bigstore.plaintextBytes", 4L << 30);
    long free = Files.getFileStore(dir).getUsableSpace();
    org.junit.jupiter.api.Assumptions.assumeTrue(free > plaintextBytes + (256L << 20),
        "skipped: " + (free >> 20) + " MiB free under " + dir + ", the 4 GiB store test needs "
            + ((plaintextBytes >> 20) + 256) + " MiB");
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx64m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(BigStoreWorker.class.getName());
    cmd.add(dir.toString());
    cmd.add(Long.toString(plaintextBytes));
    Path out = dir.resolve("child.out");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    assertTrue(p.waitFor(30, TimeUnit.MINUTES), "child did not finish in 30 minutes");
    String output = new String(Files.readAllBytes(out), StandardCharsets.UTF_8);
    System.out.println(output);
    assertEquals(0, p.exitValue(), output);
    assertTrue(output.contains("BIGSTORE OK"), output);
  }
}
