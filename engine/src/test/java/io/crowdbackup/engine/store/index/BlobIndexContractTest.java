package io.crowdbackup.engine.store.index;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link BlobIndex} must do; subclassed once per implementation (in engine for the portable
 * index, in engine-jvm for Chronicle Map). An index is derived data: it may forget everything, but it
 * must never return an entry it was not given, and no file it finds may stop it from opening.
 */
public abstract class BlobIndexContractTest {
  @TempDir
  protected Path dir;

  protected abstract BlobIndex.Factory factory();

  /** Whether this implementation keeps entries across a clean close. */
  protected abstract boolean persists();

  /** A pseudo-random entry; the same seed gives the same entry. */
  public static IndexEntry entry(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] fp = new byte[32];
    r.nextBytes(fp);
    StringBuilder peer = new StringBuilder();
    for (int i = 0, n = r.nextInt(0, 40); i < n; i++) {
      peer.append((char) ('a' + r.nextInt(26)));
    }
    return new IndexEntry(Fingerprint.of(fp), r.nextLong(), r.nextLong(0, 1L << 40), r.nextLong(1, 1L << 40),
        r.nextLong(0, 1L << 40), r.nextLong(0, 1L << 50), BlobState.values()[r.nextInt(3)],
        BlobKind.values()[r.nextInt(2)], peer.toString(), "dest-" + r.nextInt(10) + ".example");
  }

  private BlobIndex open(boolean clean) throws IOException {
    // The store creates the directory before it opens the index.
    return factory().open(Files.createDirectories(dir.resolve("index")), clean);
  }

  private static Map<Fingerprint, IndexEntry> all(BlobIndex index) throws IOException {
    Map<Fingerprint, IndexEntry> out = new HashMap<>();
    index.forEach(e -> assertNull(out.put(e.fingerprint(), e)));
    return out;
  }

  @Test
  void aFreshIndexIsEmptyAndNotPopulated() throws IOException {
    try (BlobIndex index = open(false)) {
      assertFalse(index.isPopulated());
      assertEquals(0, index.size());
      assertNull(index.get(entry(1).fingerprint()));
    }
  }

  @Test
  void putGetReplaceRemove() throws IOException {
    try (BlobIndex index = open(false)) {
      IndexEntry a = entry(1);
      index.put(a);
      assertEquals(a, index.get(a.fingerprint()));
      IndexEntry a2 = a.withState(BlobState.FORWARDING);
      index.put(a2);
      assertEquals(a2, index.get(a.fingerprint()));
      assertEquals(1, index.size());
      assertTrue(index.remove(a.fingerprint()));
      assertFalse(index.remove(a.fingerprint()));
      assertNull(index.get(a.fingerprint()));
      assertEquals(0, index.size());
    }
  }

  @Test
  void longestPeerAndLocatorRoundTrip() throws IOException {
    String peer = "p".repeat(255);
    String locator = "l".repeat(1024);
    IndexEntry e = new IndexEntry(entry(2).fingerprint(), -1, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE,
        Long.MAX_VALUE, BlobState.DELIVERED, BlobKind.OWN, peer, locator);
    try (BlobIndex index = open(false)) {
      index.put(e);
      assertEquals(e, index.get(e.fingerprint()));
    }
  }

  @Test
  void manyEntriesWithChurnMatchAModel() throws IOException {
    Map<Fingerprint, IndexEntry> model = new HashMap<>();
    SplittableRandom r = new SplittableRandom(7);
    List<IndexEntry> pool = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      pool.add(entry(1000 + i));
    }
    try (BlobIndex index = open(false)) {
      for (int step = 0; step < 20_000; step++) {
        IndexEntry e = pool.get(r.nextInt(pool.size()));
        if (r.nextInt(3) == 0) {
          assertEquals(model.remove(e.fingerprint()) != null, index.remove(e.fingerprint()));
        } else {
          IndexEntry v = e.withState(BlobState.values()[r.nextInt(3)]);
          model.put(v.fingerprint(), v);
          index.put(v);
        }
      }
      assertEquals(model.size(), index.size());
      assertEquals(model, all(index));
      index.clear();
      assertEquals(0, index.size());
      assertEquals(Map.of(), all(index));
    }
  }

  @Test
  void aCleanCloseKeepsEntriesOrForgetsThemAll() throws IOException {
    Map<Fingerprint, IndexEntry> model = new HashMap<>();
    try (BlobIndex index = open(false)) {
      for (int i = 0; i < 500; i++) {
        IndexEntry e = entry(i);
        index.put(e);
        model.put(e.fingerprint(), e);
      }
      index.flush();
    }
    try (BlobIndex index = open(true)) {
      assertEquals(persists(), index.isPopulated());
      assertEquals(persists() ? model : Map.of(), all(index));
    }
  }

  @Test
  void aDirtyOpenForgetsEverything() throws IOException {
    try (BlobIndex index = open(false)) {
      index.put(entry(1));
      index.flush();
    }
    try (BlobIndex index = open(false)) {
      assertFalse(index.isPopulated());
      assertEquals(0, index.size());
    }
  }

  @Test
  void garbageIndexFilesAreRebuiltNotFatal() throws IOException {
    try (BlobIndex index = open(false)) {
      index.put(entry(1));
      index.flush();
    }
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir.resolve("index"))) {
      files = s.filter(Files::isRegularFile).collect(Collectors.toList());
    }
    SplittableRandom r = new SplittableRandom(3);
    for (Path f : files) {
      byte[] junk = new byte[(int) Math.min(Files.size(f), 4096) + 7];
      r.nextBytes(junk);
      Files.write(f, junk);
    }
    try (BlobIndex index = open(true)) {
      assertFalse(index.isPopulated());
      assertEquals(0, index.size());
      IndexEntry e = entry(9);
      index.put(e);
      assertEquals(e, index.get(e.fingerprint()));
    }
  }

  @Test
  void missingIndexFilesAreRebuiltNotFatal() throws IOException {
    try (BlobIndex index = open(false)) {
      index.put(entry(1));
      index.flush();
    }
    try (Stream<Path> s = Files.walk(dir.resolve("index"))) {
      for (Path f : s.filter(Files::isRegularFile).collect(Collectors.toList())) {
        Files.delete(f);
      }
    }
    try (BlobIndex index = open(true)) {
      assertFalse(index.isPopulated());
      assertEquals(0, index.size());
    }
  }
}
