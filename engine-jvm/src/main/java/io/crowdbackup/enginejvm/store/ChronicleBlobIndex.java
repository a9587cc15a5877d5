package io.crowdbackup.enginejvm.store;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.IndexEntry;
import io.crowdbackup.engine.store.index.IndexEntryCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import net.openhft.chronicle.map.ChronicleMap;

/**
 * The server and desktop index: one persisted, memory-mapped Chronicle Map from fingerprint (32 bytes) to
 * {@link IndexEntryCodec} bytes.
 *
 * <p>Chronicle Map promises no durability, may leave a torn file after a crash and keeps the locks of a
 * dead process in the file. So the persisted map is opened only when the store's clean-shutdown marker
 * says the last close was clean <em>and</em> our own small descriptor ({@code chronicle.meta}: magic,
 * layout version, capacity, CRC) matches; in every other case the file is deleted unopened and a fresh
 * map is created, which the store refills from the data files. Any exception from the map when opening is
 * handled the same way. None of Chronicle Map's types leave this class.
 *
 * <p>One map for all expiry groups: dropping a group removes its entries one by one, the churn Chronicle
 * Map handles worst (its issue #400). That is bounded here because every dirty start and every
 * capacity failure starts from a fresh file; see {@code docs/decisions/0002-store-layout.md}.
 */
public final class ChronicleBlobIndex implements BlobIndex {
  static final String MAP_FILE = "chronicle-v1.dat";
  static final String META_FILE = "chronicle.meta";
  private static final byte[] META_MAGIC = "CRWDCHIX".getBytes(StandardCharsets.US_ASCII);
  /** Bumped when the map's key/value layout or builder settings change. */
  static final int LAYOUT_VERSION = 1;
  private static final double AVERAGE_VALUE_BYTES = 1 + 8 * 5 + 2 + 2 + 16 + 2 + 24;

  private final ChronicleMap<byte[], byte[]> map;
  private final boolean populated;

  private ChronicleBlobIndex(ChronicleMap<byte[], byte[]> map, boolean populated) {
    this.map = map;
    this.populated = populated;
  }

  /** A factory for maps sized for {@code maxEntries} blobs (tombstones included). */
  public static Factory factory(long maxEntries) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be positive, was " + maxEntries);
    }
    return new Factory() {
      @Override
      public BlobIndex open(Path directory, boolean previousShutdownClean) throws IOException {
        return ChronicleBlobIndex.open(directory, previousShutdownClean, maxEntries);
      }

      @Override
      public String name() {
        return "chronicle";
      }
    };
  }

  static ChronicleBlobIndex open(Path directory, boolean clean, long maxEntries) throws IOException {
    Path mapFile = directory.resolve(MAP_FILE);
    Path metaFile = directory.resolve(META_FILE);
    byte[] expectedMeta = meta(maxEntries);
    if (clean && Files.exists(mapFile) && Files.exists(metaFile)
        && Arrays.equals(Files.readAllBytes(metaFile), expectedMeta)) {
      try {
        ChronicleMap<byte[], byte[]> m = builder(maxEntries).createPersistedTo(mapFile.toFile());
        return new ChronicleBlobIndex(m, true);
      } catch (IOException | RuntimeException | Error e) {
        // A map we cannot open is only a cache we cannot use: rebuild it from the data files.
        if (e instanceof VirtualMachineError) {
          throw (VirtualMachineError) e;
        }
      }
    }
    // Never open an untrusted file: it may be torn or hold a dead process's locks.
    Files.deleteIfExists(metaFile);
    Files.deleteIfExists(mapFile);
    ChronicleMap<byte[], byte[]> m = builder(maxEntries).createPersistedTo(mapFile.toFile());
    Path tmp = directory.resolve(META_FILE + ".tmp");
    Files.write(tmp, expectedMeta);
    Files.move(tmp, metaFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return new ChronicleBlobIndex(m, false);
  }

  private static net.openhft.chronicle.map.ChronicleMapBuilder<byte[], byte[]> builder(long maxEntries) {
    return ChronicleMap.of(byte[].class, byte[].class)
        .name("crowdbackup-blob-index")
        .constantKeySizeBySample(new byte[Fingerprint.LENGTH_BYTES])
        .averageValueSize(AVERAGE_VALUE_BYTES)
        .entries(maxEntries)
        // Room for the spread of a hash table and for churn before a put fails outright.
        .maxBloatFactor(4.0);
  }

  private static byte[] meta(long maxEntries) {
    return meta(maxEntries, LAYOUT_VERSION);
  }

  static byte[] meta(long maxEntries, int layoutVersion) {
    ByteBuffer b = ByteBuffer.allocate(8 + 4 + 4 + 8 + 4);
    b.put(META_MAGIC).putInt(layoutVersion).putInt(IndexEntryCodec.VERSION).putLong(maxEntries);
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  @Override
  public boolean isPopulated() {
    return populated;
  }

  @Override
  public IndexEntry get(Fingerprint fingerprint) throws IOException {
    byte[] v = map.get(fingerprint.toBytes());
    if (v == null) {
      return null;
    }
    IndexEntry e = IndexEntryCodec.decodeValue(fingerprint, v);
    if (e == null) {
      throw new IOException("index value for " + fingerprint + " does not decode; the index file is damaged "
          + "(it is rebuilt on the next unclean open)");
    }
    return e;
  }

  @Override
  public void put(IndexEntry entry) throws IOException {
    try {
      map.put(entry.fingerprint().toBytes(), IndexEntryCodec.encodeValue(entry));
    } catch (IllegalStateException e) {
      throw new IOException("the Chronicle Map index is full (" + map.longSize() + " entries); raise maxEntries", e);
    }
  }

  @Override
  public boolean remove(Fingerprint fingerprint) {
    return map.remove(fingerprint.toBytes()) != null;
  }

  @Override
  public void forEach(Consumer<IndexEntry> action) throws IOException {
    for (Map.Entry<byte[], byte[]> e : map.entrySet()) {
      Fingerprint fp = Fingerprint.of(e.getKey());
      IndexEntry entry = IndexEntryCodec.decodeValue(fp, e.getValue());
      if (entry == null) {
        throw new IOException("index value for " + fp + " does not decode; the index file is damaged");
      }
      action.accept(entry);
    }
  }

  @Override
  public long size() {
    return map.longSize();
  }

  @Override
  public void clear() {
    map.clear();
  }

  @Override
  public void flush() {
    // The map writes through to its mapped file; the OS flushes it. Trust after a clean close rests on the
    // store's CLEAN marker, written after close() below.
  }

  @Override
  public void close() {
    map.close();
  }
}
