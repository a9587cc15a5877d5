package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.cli.CliScenarios.Run;
import io.crowdbackup.api.store.StoreException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the CLI says and leaves behind when something is wrong, run in this process (fast): missing inputs,
 * bad options, full disks, temporary files, refusals, the help screen.
 */
class CliMessagesTest {
  private static final Pattern FINGERPRINT = Pattern.compile("^([0-9a-f]{64})  ", Pattern.MULTILINE);

  @TempDir Path dir;
  Path card;
  Path key;

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString(), err.toString());
  }

  static Run ok(String... args) {
    Run r = run(args);
    assertEquals(0, r.exitCode, () -> String.join(" ", args) + "\n" + r);
    return r;
  }

  @BeforeEach
  void keys() {
    ok("keygen", "--out", dir.resolve("keys").toString(), "--locator", "https://home.example/inbox");
    card = dir.resolve("keys/destination.card");
    key = dir.resolve("keys/destination.key");
  }

  String seal(Path file, Path out, String... options) {
    List<String> args = new ArrayList<>(List.of("seal", "--to", card.toString(), "--out", out.toString()));
    args.addAll(List.of(options));
    args.add(file.toString());
    Run r = ok(args.toArray(new String[0]));
    Matcher m = FINGERPRINT.matcher(r.out);
    assertTrue(m.find(), r.out);
    return m.group(1);
  }

  @Test
  void aMissingInputFailsBeforeAnyFolderOrStoreIsCreated() {
    String missing = dir.resolve("missing.cbe").toString();
    String[][] commands = {
        {"seal", "--to", card.toString(), "--out", dir.resolve("out-seal").toString(), missing},
        {"open", "--key", key.toString(), "--out", dir.resolve("out-open").toString(), missing},
        {"receive", "--key", key.toString(), "--inbox", dir.resolve("inbox").toString(), "--receipts",
            dir.resolve("receipts").toString(), missing},
        {"store", "--dir", dir.resolve("store").toString(), "put", "--from", "p1", missing}};
    for (String[] command : commands) {
      Run r = run(command);
      assertEquals(ExitCodes.IO, r.exitCode, r.toString());
      assertTrue(r.err.contains(missing + ": no such file or folder"), r.err);
    }
    for (String created : new String[] {"out-seal", "out-open", "inbox", "receipts", "store"}) {
      assertFalse(Files.exists(dir.resolve(created)), created + " was created for a command that failed");
    }
  }

  @Test
  void aBlobNotInTheStoreFailsGetBeforeItsOutputFolderIsCreated() throws IOException {
    Path file = Files.writeString(dir.resolve("a.txt"), "a");
    String fp = seal(file, dir.resolve("env"));
    ok("store", "--dir", dir.resolve("store").toString(), "put", "--own", dir.resolve("env/" + fp + ".cbe").toString());
    Run r = run("store", "--dir", dir.resolve("store").toString(), "get", "--out", dir.resolve("out").toString(),
        fp, "ab".repeat(32));
    assertEquals(ExitCodes.IO, r.exitCode, r.toString());
    assertFalse(Files.exists(dir.resolve("out")), "get created its --out folder for a blob it does not have");
  }

  @Test
  void chunkSizeErrorsNameTheOptionNotTheEnginesField() throws IOException {
    Path file = Files.writeString(dir.resolve("a.txt"), "a");
    for (String size : new String[] {"3KiB", "8MiB", "5000"}) {
      Run r = run("seal", "--to", card.toString(), "--out", dir.resolve("env").toString(), "--chunk-size", size,
          file.toString());
      assertEquals(ExitCodes.USAGE, r.exitCode, r.toString());
      assertTrue(r.err.contains("--chunk-size must be a power of two from 4KiB to 4MiB"), r.err);
      assertFalse(r.err.contains("chunkSizeBytes"), r.err);
    }
    assertFalse(Files.exists(dir.resolve("env")));
  }

  @Test
  void topLevelHelpSummarisesEachCommandInWholeSentences() {
    Run r = ok("--help");
    String commands = r.out.substring(r.out.indexOf("Commands:\n") + "Commands:\n".length(), r.out.indexOf("\n\n",
        r.out.indexOf("Commands:")));
    int count = 0;
    for (String line : commands.split("\n")) {
      assertTrue(line.matches("  [a-z]+ +\\S.*"), "a summary runs onto a second line: '" + line + "'\n" + r.out);
      assertTrue(line.endsWith("."), "a summary is cut mid-sentence: '" + line + "'");
      count++;
    }
    assertEquals(Main.COMMANDS.size() + 1, count, r.out);
  }

  @Test
  void aFailureOnATemporaryFileNamesTheFolderTheUserGave() {
    Path out = dir.resolve("out");
    Path temp = out.resolve(".crowdbackup-tmp-8123456789.part");
    FileSystemException full = new FileSystemException(temp.toString(), null, "No space left on device");
    CliException e = Failures.of(dir.resolve("a.txt"), full);
    assertEquals("DISK_FULL", e.reason());
    assertEquals(out.toString(), e.file());
    assertFalse(e.getMessage().contains(".crowdbackup-tmp-"), e.getMessage());
    assertTrue(e.getMessage().startsWith(out + ": no space left on device"), e.getMessage());

    // receive: the inbox names its folder and says DISK_FULL (InboxTest proves it with a real ENOSPC).
    Path inbox = dir.resolve("inbox");
    CliException r = Failures.of(dir.resolve("e.cbe"), new StoreException(StoreException.Reason.DISK_FULL,
        inbox.toString(), "inbox: writing a delivery failed after 0 bytes"));
    assertEquals(ExitCodes.IO, r.exitCode());
    assertEquals("DISK_FULL", r.reason());
    assertEquals(inbox.toString(), r.file());
  }

  /** A temporary file of ours older than the run, another run's newer one, and a file that only looks like ours. */
  private List<Path> leftovers(Path folder) throws IOException {
    Files.createDirectories(folder);
    Path stale = Files.write(folder.resolve(".crowdbackup-tmp-1234567890.part"), new byte[] {1, 2, 3});
    Files.setLastModifiedTime(stale, FileTime.from(Instant.parse("2026-01-01T00:00:00Z")));
    Path live = Files.write(folder.resolve(".crowdbackup-tmp-987.part"), new byte[] {4});
    Files.setLastModifiedTime(live, FileTime.from(Instant.now().plusSeconds(60)));
    Path notOurs = Files.write(folder.resolve(".crowdbackup-tmp-notes.part.txt"), new byte[] {5});
    Files.setLastModifiedTime(notOurs, FileTime.from(Instant.parse("2026-01-01T00:00:00Z")));
    return List.of(stale, live, notOurs);
  }

  private static void assertOnlyTheStaleOneRemoved(List<Path> files, Run r) {
    assertFalse(Files.exists(files.get(0)), "a temporary file a killed run left was kept\n" + r);
    assertTrue(Files.exists(files.get(1)), "a newer temporary file, maybe another run's, was removed");
    assertTrue(Files.exists(files.get(2)), "a file that only starts like ours was removed");
    assertTrue(r.err.contains("removed 1 temporary file that an interrupted run left in"), r.err);
  }

  @Test
  void sealOpenStoreGetAndConfigSaveRemoveTheTemporaryFilesAKilledRunLeft() throws IOException {
    Path file = Files.writeString(dir.resolve("a.txt"), "a");
    Path env = dir.resolve("env");
    String fp = seal(file, env);
    List<Path> inEnv = leftovers(env);
    assertOnlyTheStaleOneRemoved(inEnv, run("seal", "--to", card.toString(), "--out", env.toString(),
        file.toString()));

    List<Path> inOpened = leftovers(dir.resolve("opened"));
    assertOnlyTheStaleOneRemoved(inOpened, ok("open", "--key", key.toString(), "--out",
        dir.resolve("opened").toString(), env.resolve(fp + ".cbe").toString()));

    Path store = dir.resolve("store");
    ok("store", "--dir", store.toString(), "put", "--own", env.resolve(fp + ".cbe").toString());
    List<Path> inForwards = leftovers(dir.resolve("forwards"));
    assertOnlyTheStaleOneRemoved(inForwards, ok("store", "--dir", store.toString(), "get", "--out",
        dir.resolve("forwards").toString(), fp));

    List<Path> inStore = leftovers(store);
    assertOnlyTheStaleOneRemoved(inStore, ok("store", "--dir", store.toString(), "config", "--save"));
  }

  @Test
  void aRefusalPrintsIsoTimesAndNoPathOfTheHolder() throws IOException {
    Path file = Files.writeString(dir.resolve("a.txt"), "a");
    String fp = seal(file, dir.resolve("env"), "--ttl", "2d");
    Path store = dir.resolve("store");
    Run r = run("store", "--dir", store.toString(), "--max-retention", "1h", "put", "--from", "p1",
        "--full-retention", dir.resolve("env/" + fp + ".cbe").toString());
    assertEquals(ExitCodes.REFUSED, r.exitCode, r.toString());
    assertTrue(r.err.contains("TTL_TOO_LONG: retention until "), r.err);
    assertTrue(Pattern.compile("until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ is").matcher(r.err).find(), r.err);
    assertFalse(Pattern.compile("\\b1[0-9]{9}\\b").matcher(r.err).find(), "an epoch second in: " + r.err);
    assertFalse(r.err.contains(store.toString()), r.err);
  }

  /** The outside test's case: one flipped byte in a ledger of three deliveries, at offsets 40, 300 and 600. */
  @Test
  void receiveRefusesADamagedLedgerWithExit6AndDeliversNothingTwice() throws IOException {
    Path inbox = dir.resolve("inbox");
    List<String> envelopes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Path file = Files.writeString(dir.resolve("note.txt"), "note " + i);
      envelopes.add(dir.resolve("env/" + seal(file, dir.resolve("env")) + ".cbe").toString());
    }
    List<String> args = new ArrayList<>(List.of("receive", "--key", key.toString(), "--inbox", inbox.toString()));
    args.addAll(envelopes);
    ok(args.toArray(new String[0]));
    Path ledger = inbox.resolve(".crowdbackup-inbox/delivered.ledger");
    byte[] original = Files.readAllBytes(ledger);
    List<String> files = CliScenarios.visible(inbox);
    for (int offset : new int[] {40, 300, 600}) {
      byte[] damaged = original.clone();
      damaged[offset] ^= 0x20;
      Files.write(ledger, damaged);
      Run r = run("receive", "--key", key.toString(), "--inbox", inbox.toString(), envelopes.get(0));
      assertEquals(ExitCodes.STATE, r.exitCode, "offset " + offset + "\n" + r);
      assertTrue(r.err.contains("LEDGER_CORRUPT"), r.err);
      assertArrayEquals(damaged, Files.readAllBytes(ledger), "the damaged ledger was changed");
      assertEquals(files, CliScenarios.visible(inbox), "a delivered envelope was written again");
    }
    Files.write(ledger, original);
    Run again = ok("receive", "--key", key.toString(), "--inbox", inbox.toString(), envelopes.get(0));
    assertTrue(again.out.contains("duplicate"), again.out);
  }
}
