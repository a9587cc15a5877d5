package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreTestSupport.NOW_EPOCH_SECOND;
import static io.crowdbackup.engine.store.StoreTestSupport.envelope;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.store.StoreTestSupport.Env;
import io.crowdbackup.engine.store.StoreTestSupport.MutableClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One flipped byte walked through every offset class of {@code states.log} (header, each field of each
 * entry, checksum, tail): it may cost the entry it hits, never a later one, never a tombstone, and never
 * silently.
 */
class StateLogCorruptionTest {
  /** Entry fields as (offset in the entry, name): the first and last byte of the fingerprint, then one each. */
  private static final int[][] FIELD_OFFSETS = {{0}, {31}, {32}, {40}, {41}, {42}, {50}, {58}, {61}};

  @TempDir
  Path dir;
  private final MutableClock clock = new MutableClock(NOW_EPOCH_SECOND);
  private Path template;
  private Env a;
  private Env b;
  private Env c;
  private Env d;
  private Env e;
  private int entries;

  private StoreConfig config(Path storeDir, List<String> reports) {
    return StoreConfig.newBuilder(storeDir).clock(clock).listener(new StoreListener() {
      @Override
      public void stateLogDamaged(String log, List<String> damage) {
        reports.addAll(damage);
      }
    }).build();
  }

  @BeforeEach
  void buildTemplate() throws IOException {
    template = dir.resolve("template");
    a = envelope(1, 3000);
    b = envelope(2, 3000);
    c = envelope(3, 3000);
    d = envelope(4, 3000);
    e = envelope(5, 3000);
    try (FileCustodyStore s = FileCustodyStore.open(config(template, new ArrayList<>()))) {
      for (Env x : List.of(a, b, c, d, e)) {
        s.put(x.custody("p"), CustodyStoreContractTest.in(x.bytes));
      }
      s.transition(a.fingerprint, BlobState.FORWARDING); // entry 0
      s.transition(a.fingerprint, BlobState.DELIVERED); // entries 1, 2 (a tombstone is written twice)
      s.transition(b.fingerprint, BlobState.DELIVERED); // 3, 4
      s.transition(d.fingerprint, BlobState.FORWARDING); // 5
      s.transition(c.fingerprint, BlobState.DELIVERED); // 6, 7
      s.transition(e.fingerprint, BlobState.FORWARDING); // 8
      s.transition(e.fingerprint, BlobState.HELD); // 9
    }
    entries = (int) ((Files.size(log(template)) - 16) / 62);
    assertEquals(10, entries, "layout the test reasons about");
  }

  private static Path log(Path storeDir) throws IOException {
    try (Stream<Path> groups = Files.list(storeDir.resolve(FileCustodyStore.GROUPS_DIR))) {
      return groups.findFirst().orElseThrow().resolve(FileCustodyStore.STATE_LOG);
    }
  }

  private Path copyOfTemplate(String name) throws IOException {
    Path to = dir.resolve(name);
    try (Stream<Path> files = Files.walk(template)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(template.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    Files.deleteIfExists(to.resolve(FileCustodyStore.CLEAN_FILE)); // a dirty open: rebuilt from the log
    return to;
  }

  @Test
  void aFlippedByteCostsAtMostItsEntryNeverATombstoneAndIsReported() throws Exception {
    List<Integer> offsets = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      offsets.add(i);
    }
    for (int entry = 0; entry < entries; entry++) {
      for (int[] f : FIELD_OFFSETS) {
        offsets.add(16 + entry * 62 + f[0]);
      }
    }
    int run = 0;
    for (int offset : offsets) {
      Path storeDir = copyOfTemplate("flip" + run++);
      byte[] bytes = Files.readAllBytes(log(storeDir));
      bytes[offset] ^= 0x10;
      Files.write(log(storeDir), bytes);
      int hit = offset < 16 ? -1 : (offset - 16) / 62;
      String at = "byte " + offset + " (entry " + hit + "): ";
      List<String> reports = new ArrayList<>();
      try (FileCustodyStore s = FileCustodyStore.open(config(storeDir, reports))) {
        check(s, hit, at);
        assertEquals(1, reports.size(), at + "the damage must be reported once: " + reports);
        assertEquals(1, s.damagedLogRecordsSinceOpen(), at);
        assertTrue(s.quarantined().stream().anyMatch(q -> q.fileName().contains(FileCustodyStore.STATE_LOG)),
            at + "a copy of the damaged log is kept in quarantine");
      }
      // The log was rewritten sound: a second rebuild finds nothing wrong and the same states.
      Files.deleteIfExists(storeDir.resolve(FileCustodyStore.CLEAN_FILE));
      reports.clear();
      try (FileCustodyStore s = FileCustodyStore.open(config(storeDir, reports))) {
        check(s, hit, at + "after the rewrite: ");
        assertEquals(List.of(), reports, at);
      }
    }
  }

  @Test
  void aTornTailIsCutAndCostsNoEntry() throws Exception {
    for (int extra : new int[] {1, 30, 61}) {
      Path storeDir = copyOfTemplate("tail" + extra);
      byte[] bytes = Files.readAllBytes(log(storeDir));
      byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + extra);
      java.util.Arrays.fill(longer, bytes.length, longer.length, (byte) 0x5a);
      Files.write(log(storeDir), longer);
      try (FileCustodyStore s = FileCustodyStore.open(config(storeDir, new ArrayList<>()))) {
        check(s, -1, "tail of " + extra + ": ");
      }
      assertEquals(bytes.length, Files.size(log(storeDir)), "the torn tail is cut");
    }
    // A whole garbage entry at the end is a damaged entry: reported, and nothing before it is lost.
    Path storeDir = copyOfTemplate("tail62");
    byte[] bytes = Files.readAllBytes(log(storeDir));
    byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 62);
    java.util.Arrays.fill(longer, bytes.length, longer.length, (byte) 0x5a);
    Files.write(log(storeDir), longer);
    List<String> reports = new ArrayList<>();
    try (FileCustodyStore s = FileCustodyStore.open(config(storeDir, reports))) {
      check(s, -1, "a garbage entry at the end: ");
      assertEquals(1, reports.size(), reports.toString());
    }
  }

  /** Every tombstone kept; the states of blobs whose entries were not hit are as logged. */
  private void check(FileCustodyStore s, int hit, String at) throws IOException {
    for (Env x : List.of(a, b, c)) {
      assertEquals(BlobState.DELIVERED, s.stat(x.fingerprint).state(), at + "a tombstone was lost");
      StoreException refused = assertThrows(StoreException.class, () -> s.begin(x.custody("p2")), at);
      assertEquals(StoreException.Reason.DELIVERED, refused.reason(), at + "a delivered envelope taken again");
    }
    assertEquals(hit == 5 ? BlobState.HELD : BlobState.FORWARDING, s.stat(d.fingerprint).state(), at + "d");
    assertEquals(hit == 9 ? BlobState.FORWARDING : BlobState.HELD, s.stat(e.fingerprint).state(), at + "e");
    assertEquals(2, s.usage().blobCount(), at);
  }
}
