package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;

/** The end-to-end scenarios against the compiled classes, in a child JVM: part of {@code mvn test}. */
class CliProcessTest extends CliScenarios {
  @Override
  List<String> launcher() {
    return List.of(javaBinary(), "-cp", System.getProperty("java.class.path"), Main.class.getName());
  }

  /**
   * {@code kill -9} of a receiving process at random moments: the inbox holds either nothing or the whole
   * file, never a part, and the delivery that finally completes is recognised from then on.
   */
  @Test
  void aReceiveKilledAtRandomMomentsLeavesNoPartialFile() throws Exception {
    keygen();
    byte[] data = new byte[24 * 1024 * 1024];
    Random random = new Random(4);
    random.nextBytes(data);
    Files.write(dir.resolve("big.mov"), data);
    Run sealed = ok("seal", "--to", "keys/destination.card", "--out", "env", "big.mov");
    Matcher m = FINGERPRINT.matcher(sealed.out);
    assertTrue(m.find(), sealed.out);
    String envelope = m.group(2);
    Path inbox = dir.resolve("inbox");
    int killedBeforeDone = 0;
    int killedMidWrite = 0;
    for (int i = 0; i < 8; i++) {
      List<String> command = new ArrayList<>(launcher());
      command.addAll(List.of("receive", "--key", "keys/destination.key", "--inbox", "inbox", envelope));
      Process p = new ProcessBuilder(command).directory(dir.toFile())
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      // From inside JVM start-up to past the end of the delivery (about 2 s here).
      Thread.sleep(300 + random.nextInt(3000));
      p.destroyForcibly(); // SIGKILL on Linux
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      if (p.exitValue() != 0) {
        killedBeforeDone++;
      }
      for (String name : visible(inbox)) {
        if (name.startsWith(".crowdbackup-tmp-")) {
          killedMidWrite++;
        } else {
          assertEquals("big.mov", name, "only the final name may appear");
          assertArrayEquals(data, Files.readAllBytes(inbox.resolve(name)), "a published file is whole");
        }
      }
    }
    Run last = ok("receive", "--key", "keys/destination.key", "--inbox", "inbox", envelope);
    assertEquals(List.of("big.mov"), visible(inbox), last.out + last.err);
    assertArrayEquals(data, Files.readAllBytes(inbox.resolve("big.mov")));
    Run again = ok("receive", "--key", "keys/destination.key", "--inbox", "inbox", envelope);
    assertTrue(again.out.contains("duplicate"), again.out);
    System.out.println("kill -9 cycles: " + killedBeforeDone + " of 8 interrupted a delivery, " + killedMidWrite
        + " of them while the temporary file was being written");
  }

  /**
   * The demo's exit code depends on its check: a recovered file that differs from its original, and a file
   * whose only live copies fail verification in the holders' stores, each make it exit 8 and say why.
   */
  @Test
  void theDemoFailsWhenARecoveredFileDiffersOrALiveReplicaIsNotRecovered() throws Exception {
    Run differs = run("demo", "--seed", "1", "--json", "--inject-fault", "corrupt-delivery");
    assertEquals(ExitCodes.DEMO_CHECK_FAILED, differs.exitCode, differs.toString());
    assertEquals(1, num(differs.out, "differing"), differs.out);
    assertTrue(differs.out.contains("\"ok\":false"), differs.out);
    assertTrue(differs.err.contains("\"reason\":\"CHECK_FAILED\""), differs.err);
    assertTrue(differs.err.contains("differs from its original"), differs.err);

    Run lostLive = run("demo", "--seed", "1", "--inject-fault", "corrupt-replica");
    assertEquals(ExitCodes.DEMO_CHECK_FAILED, lostLive.exitCode, lostLive.toString());
    assertTrue(lostLive.out.contains("Check: FAILED"), lostLive.out);
    assertTrue(lostLive.out.contains("had a live copy on"), lostLive.out);
    assertTrue(lostLive.out.contains("copies failed verification, quarantined"), lostLive.out);
    assertOneLineError(lostLive, ExitCodes.DEMO_CHECK_FAILED, "but was not recovered");
  }
}
