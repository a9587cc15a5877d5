package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 9: {@code seal --chunk-size 4MiB --threads 4} at a small heap died with an uncaught
 * OutOfMemoryError. The sealer sizes its pipeline to the heap it is given, or refuses up front with a
 * typed error saying what to change: never an OutOfMemoryError. Child JVMs, the launcher's collector.
 */
class SealMemoryTest {
  @TempDir Path dir;

  private CliScenarios.Run run(String xmx, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(CliScenarios.javaBinary(), "-Xmx" + xmx, "-XX:+UseSerialGC",
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(Arrays.asList(args));
    Path out = dir.resolve("stdout.txt");
    Path err = dir.resolve("stderr.txt");
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out.toFile())
        .redirectError(err.toFile()).start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "finished");
    return new CliScenarios.Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void aBigChunkWithManyThreadsOnASmallHeapSealsWithAFittingPipeline() throws Exception {
    assertEquals(0, run("256m", "keygen", "--out", "keys", "--locator", "https://home.example/inbox").exitCode);
    byte[] data = new byte[20 * 1024 * 1024];
    new Random(9).nextBytes(data);
    Files.write(dir.resolve("big.bin"), data); // application/octet-stream: compression on, 3 buffers a slot
    for (String xmx : new String[] {"32m", "64m"}) {
      CliScenarios.Run r = run(xmx, "seal", "--to", "keys/destination.card", "--out", "env-" + xmx,
          "--chunk-size", "4MiB", "--threads", "4", "big.bin");
      assertFalse(r.err.contains("OutOfMemoryError"), r.toString());
      assertEquals(0, r.exitCode, r.toString());
      CliScenarios.Run opened = run("256m", "receive", "--key", "keys/destination.key", "--inbox", "in-" + xmx,
          r.out.split("\\s+")[1]);
      assertEquals(0, opened.exitCode, opened.toString());
      assertArrayEquals(data, Files.readAllBytes(dir.resolve("in-" + xmx).resolve("big.bin")));
    }
  }

  @Test
  void aHeapTooSmallForOneChunkIsRefusedUpFrontSayingWhatToChange() throws Exception {
    assertEquals(0, run("256m", "keygen", "--out", "keys", "--locator", "https://home.example/inbox").exitCode);
    Files.write(dir.resolve("small.bin"), new byte[5 * 1024 * 1024]);
    CliScenarios.Run r = run("20m", "seal", "--to", "keys/destination.card", "--out", "env", "--chunk-size", "4MiB",
        "small.bin");
    assertFalse(r.err.contains("OutOfMemoryError"), r.toString());
    CliScenarios.assertOneLineError(r, ExitCodes.USAGE, "NOT_ENOUGH_MEMORY");
    assertTrue(r.err.contains("--chunk-size of at most"), r.err);
    assertTrue(r.err.contains("-Xmx"), r.err);
    assertEquals(List.of(), CliScenarios.visible(dir.resolve("env")), "nothing written");
  }
}
