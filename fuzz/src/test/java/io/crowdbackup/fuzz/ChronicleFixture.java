package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.DiskFixture.*;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import io.crowdbackup.engine.store.StoreTestSupport;
import io.crowdbackup.engine.store.StoreTestSupport.Env;
import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.InMemoryBlobIndex;
import io.crowdbackup.enginejvm.store.ChronicleBlobIndex;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A custody store indexed by the Chronicle Map index (engine-jvm) and closed cleanly: the directory a clean
 * open trusts without reading a data file. Built once per JVM by the engine itself and snapshotted as
 * relative path -> bytes, like {@link DiskFixture}: HELD moved to FORWARDING, DELIVERED (a tombstone),
 * an own blob and a second custody blob in other expiry groups, and the interrupted upload PARTIAL.
 *
 * <p>Blob ids are random per upload, so the store is first built with the portable index, its ids are
 * replaced by fixed ones ({@link DiskFixture#normalizeBlobIds}), and the Chronicle index is then built by
 * the store's own rebuild from those data files and closed cleanly: the same directory in every JVM.
 */
final class ChronicleFixture {
  private ChronicleFixture() {}

  /** Capacity of the fixture's map: small, so that its file is small and edits land on structure. */
  static final long MAX_ENTRIES = 64;
  static final Observed INDEX = new Observed(ChronicleBlobIndex.factory(MAX_ENTRIES));

  /** The Chronicle index factory, remembering whether the last index it opened came up trusted. */
  static final class Observed implements BlobIndex.Factory {
    private final BlobIndex.Factory inner;
    /** {@link BlobIndex#isPopulated()} of the last index opened: whether it trusted its files. */
    volatile boolean lastTrusted;

    Observed(BlobIndex.Factory inner) {
      this.inner = inner;
    }

    @Override
    public BlobIndex open(Path directory, boolean previousShutdownClean) throws IOException {
      BlobIndex index = inner.open(directory, previousShutdownClean);
      lastTrusted = index.isPopulated();
      return index;
    }

    @Override
    public String name() {
      return inner.name();
    }
  }

  /** An own blob, still HELD, in an earlier expiry group. */
  static final Env OWN = StoreTestSupport.envelope(104, 700, true, NOW_EPOCH_SECOND + 3 * 3600);
  /** A second custody blob, HELD, in a later expiry group. */
  static final Env SECOND = StoreTestSupport.envelope(105, 2000, true, NOW_EPOCH_SECOND + 9 * 3600);
  /** Every fingerprint the fixture's index holds an entry for. */
  static final List<Fingerprint> INDEXED = List.of(HELD.fingerprint, DELIVERED.fingerprint, OWN.fingerprint,
      SECOND.fingerprint);

  /** The directory after the clean close. */
  static final Map<String, byte[]> DIRECTORY;
  /** What {@code list()} gave before the close, by fingerprint. */
  static final Map<Fingerprint, BlobStat> LISTING;
  /** What {@code usage()} gave before the close. */
  static final StoreUsage USAGE;
  /** What {@code uploads()} gave before the close (the interrupted PARTIAL). */
  static final UploadInfo UPLOAD;

  static {
    Path dir = null;
    try {
      dir = tempDir("chronicle-template");
      try (FileCustodyStore s = FileCustodyStore.open(portableConfig(dir))) {
        s.put(HELD.custody("peer-one"), Fixtures.channel(HELD.bytes));
        s.transition(HELD.fingerprint, BlobState.FORWARDING);
        s.put(DELIVERED.request().own().build(), Fixtures.channel(DELIVERED.bytes));
        s.transition(DELIVERED.fingerprint, BlobState.DELIVERED);
        s.put(OWN.request().own().build(), Fixtures.channel(OWN.bytes));
        s.put(SECOND.custody("peer-three"), Fixtures.channel(SECOND.bytes));
        Upload u = s.begin(PARTIAL.custody("peer-two"));
        u.write(ByteBuffer.wrap(PARTIAL.bytes, 0, PARTIAL_SENT_BYTES));
        u.checkpoint();
        u.close();
      }
      Map<Fingerprint, Long> ids = new HashMap<>();
      ids.put(HELD.fingerprint, 1L);
      ids.put(DELIVERED.fingerprint, 2L);
      ids.put(PARTIAL.fingerprint, 3L);
      ids.put(OWN.fingerprint, 4L);
      ids.put(SECOND.fingerprint, 5L);
      Map<String, byte[]> portable = normalizeBlobIds(snapshot(dir, "LOCK"), ids);
      portable.remove("CLEAN"); // names the portable index anyway: the Chronicle index is built by a rebuild
      deleteQuietly(dir);

      dir = tempDir("chronicle-template");
      write(dir, portable);
      Map<Fingerprint, BlobStat> listing = new TreeMap<>();
      StoreUsage usage;
      UploadInfo upload;
      try (FileCustodyStore s = FileCustodyStore.open(chronicleConfig(dir))) {
        for (BlobStat st : s.list()) {
          listing.put(st.fingerprint(), st);
        }
        usage = s.usage();
        List<UploadInfo> uploads = s.uploads();
        if (uploads.size() != 1 || !uploads.get(0).request().fingerprint().equals(PARTIAL.fingerprint)) {
          throw new IllegalStateException("fixture: uploads " + uploads);
        }
        upload = uploads.get(0);
      }
      if (!listing.keySet().equals(new java.util.TreeSet<>(INDEXED))
          || listing.get(HELD.fingerprint).state() != BlobState.FORWARDING
          || listing.get(DELIVERED.fingerprint).state() != BlobState.DELIVERED) {
        throw new IllegalStateException("fixture: the Chronicle-indexed store lists " + listing);
      }
      DIRECTORY = Collections.unmodifiableMap(snapshot(dir, "LOCK"));
      LISTING = Collections.unmodifiableMap(listing);
      USAGE = usage;
      UPLOAD = upload;
      if (!DIRECTORY.containsKey("CLEAN") || indexFiles().size() < 2) {
        throw new IllegalStateException("fixture: not closed cleanly with a persisted index: " + DIRECTORY.keySet());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteQuietly(dir);
    }
  }

  static StoreConfig chronicleConfig(Path dir) {
    return StoreConfig.newBuilder(dir).indexFactory(INDEX).clock(CLOCK).build();
  }

  private static StoreConfig portableConfig(Path dir) {
    return StoreConfig.newBuilder(dir).indexFactory(InMemoryBlobIndex.FACTORY).clock(CLOCK).build();
  }

  /** The index's own files (the map and its descriptors), sorted by path. */
  static List<String> indexFiles() {
    List<String> out = new ArrayList<>();
    for (String p : DIRECTORY.keySet()) {
      if (p.startsWith("index/")) {
        out.add(p);
      }
    }
    Collections.sort(out);
    return out;
  }

  /** The Chronicle Map file: the largest of the index files. */
  static String mapFile() {
    String best = null;
    for (String p : indexFiles()) {
      if (best == null || DIRECTORY.get(p).length > DIRECTORY.get(best).length) {
        best = p;
      }
    }
    return best;
  }

  /** Where each indexed fingerprint's 32 key bytes first occur in the map file (-1 if nowhere). */
  static final int[] KEY_OFFSETS = keyOffsets();

  private static int[] keyOffsets() {
    byte[] map = DIRECTORY.get(mapFile());
    int[] out = new int[INDEXED.size()];
    for (int k = 0; k < out.length; k++) {
      out[k] = indexOf(map, INDEXED.get(k).toBytes());
    }
    return out;
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** The fixture's listing as a path-like summary, for messages. */
  static Map<String, String> describe(Map<Fingerprint, BlobStat> listing) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<Fingerprint, BlobStat> e : listing.entrySet()) {
      out.put(e.getKey().toHex().substring(0, 12), e.getValue().toString());
    }
    return out;
  }
}
