package io.crowdbackup.enginejvm.store;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.IndexEntry;
import io.crowdbackup.engine.store.index.IndexEntryCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import net.openhft.chronicle.map.ChronicleMap;

/**
 * The server and desktop index: one persisted, memory-mapped Chronicle Map from fingerprint (32 bytes) to
 * {@link IndexEntryCodec} bytes.
 *
 * <p>Chronicle Map promises no durability, may leave a torn file after a crash, keeps the locks of a dead
 * process in the file, and trusts its file completely: fuzzing showed that a damaged file it opens without
 * complaint can list no entries, an entry under another key or with other field values, or spin for 60 s
 * on a lock word and then fail (fuzz finding F10). So the map file is handed to Chronicle only when it
 * proves to be exactly the file a clean close left: {@link #close()} after {@link #flush()} closes the map,
 * fsyncs its file and then writes our descriptor ({@code chronicle.meta}: magic, descriptor, layout and
 * value-codec versions, capacity, the map file's length and CRC32C, and a CRC32C of the descriptor). Open
 * trusts the file only if the store's clean-shutdown marker says the last close was clean <em>and</em> the
 * descriptor matches this build and the file's length and CRC32C; in every other case (missing, damaged,
 * torn, another version or capacity) the file is deleted unopened and a fresh map is created, which the
 * store refills from the data files ({@link #isPopulated()} false). The descriptor is removed at open,
 * before the map can change the file. Any exception from the map when opening a proven file is handled
 * the same way. None of Chronicle Map's types leave this class.
 *
 * <p>Cost of the proof: one sequential read of the map file at open and at close, plus an fsync of the map
 * file at close: about 0.1 s each way for the 310 MiB map of a million entries, 4-5 % of a bare Chronicle
 * open in a fresh JVM ({@code IndexOpenBenchmark}, {@code bench/RESULTS-store.md} section 4).
 *
 * <p>One map for all expiry groups: dropping a group removes its entries one by one, the churn Chronicle
 * Map handles worst (its issue #400). That is bounded here because every dirty start and every
 * capacity failure starts from a fresh file; see {@code docs/decisions/0002-store-layout.md}.
 */
public final class ChronicleBlobIndex implements BlobIndex {
  static final String MAP_FILE = "chronicle-v1.dat";
  static final String META_FILE = "chronicle.meta";
  private static final byte[] META_MAGIC = "CRWDCHIX".getBytes(StandardCharsets.US_ASCII);
  /** Version of the descriptor itself. 2: it seals the map file (length, CRC32C) and is written at close. */
  static final int META_VERSION = 2;
  static final int META_BYTES = 8 + 4 + 4 + 4 + 8 + 8 + 4 + 4;
  /** Bumped when the map's key/value layout or builder settings change. */
  static final int LAYOUT_VERSION = 1;
  private static final double AVERAGE_VALUE_BYTES = 1 + 8 * 5 + 2 + 2 + 16 + 2 + 24;
  private static final int CHECKSUM_BUFFER_BYTES = 1 << 20;
  private static final boolean WINDOWS =
      System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");

  private final ChronicleMap<byte[], byte[]> map;
  private final boolean populated;
  private final Path directory;
  private final long maxEntries;
  /** Set by {@link #flush()}: only a flushed index is sealed at close, so only it is trusted next time. */
  private boolean flushed;
  /** Set when a value did not decode: the file is not sealed at close, so the next open rebuilds it. */
  private boolean damaged;
  private boolean closed;

  private ChronicleBlobIndex(ChronicleMap<byte[], byte[]> map, boolean populated, Path directory,
      long maxEntries) {
    this.map = map;
    this.populated = populated;
    this.directory = directory;
    this.maxEntries = maxEntries;
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
    boolean proven = clean && proves(metaFile, mapFile, maxEntries);
    // The descriptor holds for the file as it was closed; the map changes the file from here on. (No need
    // to make the removal durable: after a crash the store's clean-shutdown marker is gone too.)
    Files.deleteIfExists(metaFile);
    Files.deleteIfExists(directory.resolve(META_FILE + ".tmp"));
    if (proven) {
      try {
        ChronicleMap<byte[], byte[]> m = builder(maxEntries).createPersistedTo(mapFile.toFile());
        return new ChronicleBlobIndex(m, true, directory, maxEntries);
      } catch (IOException | RuntimeException | Error e) {
        // A map we cannot open is only a cache we cannot use: rebuild it from the data files.
        if (e instanceof VirtualMachineError) {
          throw (VirtualMachineError) e;
        }
      }
    }
    // Never open an unproven file: it may be torn, damaged, of another version, or hold a dead process's locks.
    Files.deleteIfExists(mapFile);
    ChronicleMap<byte[], byte[]> m = builder(maxEntries).createPersistedTo(mapFile.toFile());
    return new ChronicleBlobIndex(m, false, directory, maxEntries);
  }

  /**
   * Whether {@code metaFile} is a descriptor of this build for a map of {@code maxEntries} and {@code mapFile}
   * has exactly the length and CRC32C it records. Reads nothing of the map file unless the descriptor and the
   * length match, and never more than that length.
   */
  static boolean proves(Path metaFile, Path mapFile, long maxEntries) throws IOException {
    byte[] meta;
    try {
      if (Files.size(metaFile) != META_BYTES) {
        return false;
      }
      meta = Files.readAllBytes(metaFile);
    } catch (NoSuchFileException e) {
      return false;
    }
    if (meta.length != META_BYTES) {
      return false; // changed since its size was read
    }
    ByteBuffer b = ByteBuffer.wrap(meta);
    byte[] magic = new byte[META_MAGIC.length];
    b.get(magic);
    if (!Arrays.equals(magic, META_MAGIC) || b.getInt(META_BYTES - 4) != crc32c(meta, META_BYTES - 4)
        || b.getInt() != META_VERSION || b.getInt() != LAYOUT_VERSION || b.getInt() != IndexEntryCodec.VERSION
        || b.getLong() != maxEntries) {
      return false;
    }
    long length = b.getLong();
    int checksum = b.getInt();
    try (FileChannel ch = FileChannel.open(mapFile, StandardOpenOption.READ)) {
      return ch.size() == length && checksum(ch, length) == checksum;
    } catch (IOException e) {
      // Missing or unreadable (a media error): as untrustworthy as damaged; the rebuild reads the data files.
      return false;
    }
  }

  /** CRC32C of the first {@code length} bytes of the channel. */
  private static int checksum(FileChannel ch, long length) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer buf = ByteBuffer.allocateDirect((int) Math.min(CHECKSUM_BUFFER_BYTES, Math.max(1, length)));
    long at = 0;
    while (at < length) {
      buf.clear();
      if (length - at < buf.capacity()) {
        buf.limit((int) (length - at));
      }
      int n = ch.read(buf, at);
      if (n < 0) {
        throw new java.io.EOFException(length + " bytes expected, the file ends at " + at);
      }
      buf.flip();
      crc.update(buf);
      at += n;
    }
    return (int) crc.getValue();
  }

  private static int crc32c(byte[] b, int length) {
    CRC32C crc = new CRC32C();
    crc.update(b, 0, length);
    return (int) crc.getValue();
  }

  /**
   * Seals the closed map file: fsyncs it, then writes the descriptor naming its length and CRC32C
   * (temporary file, fsync, atomic rename, directory fsync), so that the descriptor is durable only after the
   * file it describes.
   */
  static void seal(Path directory, long maxEntries) throws IOException {
    Path mapFile = directory.resolve(MAP_FILE);
    long length;
    int checksum;
    try (FileChannel ch = FileChannel.open(mapFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.force(true);
      length = ch.size();
      checksum = checksum(ch, length);
    }
    Path tmp = directory.resolve(META_FILE + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap(meta(maxEntries, LAYOUT_VERSION, length, checksum));
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    Files.move(tmp, directory.resolve(META_FILE), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    if (!WINDOWS) { // Windows cannot open a directory as a channel; NTFS journals directory entries itself.
      try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
        dir.force(true);
      }
    }
  }

  static net.openhft.chronicle.map.ChronicleMapBuilder<byte[], byte[]> builder(long maxEntries) {
    return ChronicleMap.of(byte[].class, byte[].class)
        .name("crowdbackup-blob-index")
        .constantKeySizeBySample(new byte[Fingerprint.LENGTH_BYTES])
        .averageValueSize(AVERAGE_VALUE_BYTES)
        .entries(maxEntries)
        // Room for the spread of a hash table and for churn before a put fails outright.
        .maxBloatFactor(4.0);
  }

  /** The descriptor of a map file of {@code mapLength} bytes with CRC32C {@code mapChecksum}. */
  static byte[] meta(long maxEntries, int layoutVersion, long mapLength, int mapChecksum) {
    ByteBuffer b = ByteBuffer.allocate(META_BYTES);
    b.put(META_MAGIC).putInt(META_VERSION).putInt(layoutVersion).putInt(IndexEntryCodec.VERSION)
        .putLong(maxEntries).putLong(mapLength).putInt(mapChecksum);
    b.putInt(crc32c(b.array(), b.position()));
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
      throw undecodable(fingerprint);
    }
    return e;
  }

  /**
   * A value that does not decode: the map holds something this code never wrote (a writer of another
   * version, memory corruption). The store passes index errors on, so the error is a typed one; and the file
   * is not sealed at close, so the next open rebuilds the index from the data files.
   */
  private StoreException undecodable(Fingerprint fp) {
    damaged = true;
    return new StoreException(StoreException.Reason.IO_ERROR, directory.resolve(MAP_FILE).toString(),
        "index value for " + fp + " does not decode: the index file is damaged; it is rebuilt from the data "
            + "files when the store is next opened");
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
        throw undecodable(fp);
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
    // The map writes through to its mapped file. What makes it trustworthy after this clean shutdown is the
    // descriptor close() writes for a flushed index, after the map is closed and its file fsynced.
    flushed = true;
  }

  /**
   * Closes the map; after {@link #flush()} (a clean close of the store) and unless a value failed to decode,
   * also seals its file so that the next open may trust it. Closing twice is safe.
   */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    map.close();
    if (flushed && !damaged) {
      seal(directory, maxEntries);
    }
  }
}
