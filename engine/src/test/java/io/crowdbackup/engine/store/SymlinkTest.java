package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreTestSupport.NOW_EPOCH_SECOND;
import static io.crowdbackup.engine.store.StoreTestSupport.envelope;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.store.StoreTestSupport.Env;
import io.crowdbackup.engine.store.StoreTestSupport.MutableClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store never follows a symbolic link inside its folder: it refuses one, naming it, and touches nothing. */
class SymlinkTest {
  private static final byte[] OUTSIDE = "a file of the user's, outside the store\n".getBytes(StandardCharsets.UTF_8);

  @TempDir
  Path dir;
  private final MutableClock clock = new MutableClock(NOW_EPOCH_SECOND);
  private Path storeDir;
  private Path outside;
  private Env e;

  private StoreConfig config() {
    return StoreConfig.newBuilder(storeDir).clock(clock).build();
  }

  @BeforeEach
  void storeWithADeliveredAndAHeldBlob() throws IOException {
    storeDir = dir.resolve("store");
    outside = dir.resolve("outside.txt");
    Files.write(outside, OUTSIDE);
    e = envelope(1, 5000);
    Env d = envelope(2, 5000);
    try (FileCustodyStore s = FileCustodyStore.open(config())) {
      s.put(e.custody("p"), CustodyStoreContractTest.in(e.bytes));
      s.put(d.custody("p"), CustodyStoreContractTest.in(d.bytes));
      s.transition(d.fingerprint, BlobState.DELIVERED);
    }
    Files.delete(storeDir.resolve(FileCustodyStore.CLEAN_FILE)); // the next open reads every file
  }

  private Path group() throws IOException {
    try (Stream<Path> s = Files.list(storeDir.resolve(FileCustodyStore.GROUPS_DIR))) {
      return s.findFirst().orElseThrow();
    }
  }

  private static boolean linksSupported(Path dir) {
    try {
      Path probe = dir.resolve("probe-link");
      Files.createSymbolicLink(probe, dir);
      Files.delete(probe);
      return true;
    } catch (IOException | UnsupportedOperationException ex) {
      return false;
    }
  }

  private void replaceWithLink(Path file, Path target) throws IOException {
    Files.delete(file);
    Files.createSymbolicLink(file, target);
  }

  private void assertRefused(Path link) throws IOException {
    StoreException ex = assertThrows(StoreException.class, () -> FileCustodyStore.open(config()).close());
    assertEquals(StoreException.Reason.UNSAFE_LINK, ex.reason(), ex.getMessage());
    assertEquals(link.toString(), ex.path());
    assertArrayEquals(OUTSIDE, Files.readAllBytes(outside), "the file the link points at was touched");
  }

  @Test
  void aStateLogThatIsALinkIsRefusedAndItsTargetUntouched() throws IOException {
    assumeTrue(linksSupported(dir));
    Path log = group().resolve(FileCustodyStore.STATE_LOG);
    replaceWithLink(log, outside);
    assertRefused(log);
  }

  @Test
  void aBlobFileThatIsALinkIsRefused() throws IOException {
    assumeTrue(linksSupported(dir));
    Path blob = group().resolve(e.fingerprint.toHex() + FileCustodyStore.BLOB_SUFFIX);
    replaceWithLink(blob, outside);
    assertRefused(blob);
  }

  @Test
  void aGroupFolderThatIsALinkIsRefused() throws IOException {
    assumeTrue(linksSupported(dir));
    Path group = group();
    Path elsewhere = dir.resolve("elsewhere");
    Files.move(group, elsewhere);
    Files.createSymbolicLink(group, elsewhere);
    assertRefused(group);
  }

  @Test
  void theGroupsFolderThatIsALinkIsRefused() throws IOException {
    assumeTrue(linksSupported(dir));
    Path groups = storeDir.resolve(FileCustodyStore.GROUPS_DIR);
    Path elsewhere = dir.resolve("elsewhere");
    Files.move(groups, elsewhere);
    Files.createSymbolicLink(groups, elsewhere);
    assertRefused(groups);
  }

  @Test
  void theStoreFolderItselfMayBeALink() throws IOException {
    assumeTrue(linksSupported(dir));
    Path link = dir.resolve("linked-store");
    Files.createSymbolicLink(link, storeDir);
    try (FileCustodyStore s = FileCustodyStore.open(StoreConfig.newBuilder(link).clock(clock).build())) {
      assertArrayEquals(e.bytes, StoreTestSupport.readAll(s.open(e.fingerprint)));
    }
  }

  @Test
  void aCustodyClockFileThatIsALinkIsRefusedAndItsTargetUntouched() throws IOException {
    assumeTrue(linksSupported(dir));
    Path clock = dir.resolve("custody.clock");
    Files.createSymbolicLink(clock, outside);
    IOException ex = assertThrows(IOException.class, () -> ClockFile.read(clock));
    assertTrue(ex.getMessage().contains("symbolic link"), ex.getMessage());
    assertArrayEquals(OUTSIDE, Files.readAllBytes(outside));
  }
}
