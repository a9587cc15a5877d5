package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.ChronicleFixture.*;
import static io.crowdbackup.fuzz.DiskFixture.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreTestSupport.Env;
import io.crowdbackup.engine.store.index.IndexEntry;
import io.crowdbackup.engine.store.index.IndexEntryCodec;
import io.crowdbackup.enginejvm.store.ChronicleIndexForge;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Chronicle Map index's files (engine-jvm {@code ChronicleBlobIndex}: the map file and its descriptor
 * under {@code index/}) as a clean open finds them: the store trusts them instead of reading the data
 * files, so bit rot, a torn write or a file of another version in them is untrusted input. Each input
 * damages the files of a cleanly closed store ({@link ChronicleFixture}) and opens it through
 * {@code FileCustodyStore.open} with the Chronicle index.
 *
 * <p>Contract: the data files are intact, so the store must open (a damaged index is rebuilt, never
 * fatal) and then be exactly the store that was closed: {@code list()} and {@code stat} give the same
 * blobs with the same fields (nothing acknowledged missing, nothing invented), every blob with bytes
 * serves exactly its envelope, the delivered blob is still refused as delivered, usage is the same, and
 * the interrupted upload resumes from its durable offset and commits. Only StoreException with a reason
 * escapes (never one wrapping a RuntimeException); the open stays within an allocation budget; each
 * input within the time budget (JUnit timeout, libFuzzer {@code -timeout}); the directory opens again to
 * the same listing.
 */
class ChronicleIndexFuzzTest {
  static final int FLAG_UNCLEAN = 1;
  static final int OP_XOR = 0;
  static final int OP_OVERWRITE = 1;
  static final int OP_TRUNCATE = 2;
  static final int OP_EXTEND = 3;
  static final int OP_DELETE = 4;
  static final int OP_ZERO = 5;
  static final int ANCHOR_KEY = 8;
  private static final int MAX_EDITS = 64;
  /** Every fixture envelope is under 10 KB; serving more means the reader lost its bounds. */
  private static final int MAX_SERVED_BYTES = 64 * 1024;
  private static final long OPEN_BUDGET_BYTES = 64 * Contract.MIB;
  private static final Fingerprint STRANGER = Fingerprint.of(Fixtures.sha256(new byte[] {42}));

  /**
   * {@code flags | edit*}, an edit being {@code u8 op | u32 offset | u8 n | n bytes}. Op bits 0-2: xor the
   * n bytes in, overwrite with them, truncate at the offset, extend by {@code offset & 0xfffff} bytes
   * (zeros, then the n bytes), delete the file, zero {@code u16 from the first two of the n bytes} bytes
   * (4096 if n < 2: a page a power cut lost); bit 3: the offset is a signed 16-bit distance (low half)
   * from the key bytes of indexed blob {@code high half mod 4} instead of a position (mod the length);
   * bits 4-7: which index file (mod their number, sorted by name: the map file, then its descriptor).
   * Flag bit 0 removes the {@code CLEAN} marker (an unclean open: the files must not even be read).
   */
  @FuzzTest
  void openDamagedIndex(byte[] input) throws Exception {
    if (input.length < 1) {
      return;
    }
    Map<String, byte[]> files = new LinkedHashMap<>(DIRECTORY);
    List<String> index = indexFiles();
    ByteBuffer b = ByteBuffer.wrap(input, 1, input.length - 1);
    for (int edits = 0; b.remaining() >= 6 && edits < MAX_EDITS; edits++) {
      int op = b.get() & 0xff;
      int offset = b.getInt();
      byte[] data = new byte[Math.min(b.get() & 0xff, b.remaining())];
      b.get(data);
      String name = index.get((op >>> 4) % index.size());
      byte[] file = files.get(name);
      if (file == null) {
        continue; // deleted by an earlier edit
      }
      files.put(name, edit(name, file, op, offset, data));
    }
    if ((input[0] & FLAG_UNCLEAN) != 0) {
      files.remove("CLEAN");
    }
    run(files);
  }

  /** One edit; returns the new content, or {@code null} for a deleted file. */
  static byte[] edit(String name, byte[] file, int op, int offset, byte[] data) {
    int at;
    if ((op & ANCHOR_KEY) != 0 && name.equals(mapFile())) {
      int key = KEY_OFFSETS[((offset >>> 16) & 0xffff) % KEY_OFFSETS.length];
      at = Math.max(0, Math.min(file.length, Math.max(key, 0) + (short) offset));
    } else {
      at = (int) (Integer.toUnsignedLong(offset) % (file.length + 1L));
    }
    switch (op & 7) {
      case OP_XOR:
      case OP_OVERWRITE: {
        byte[] out = file.clone();
        for (int i = 0; i < data.length && at + i < out.length; i++) {
          out[at + i] = (op & 7) == OP_XOR ? (byte) (out[at + i] ^ data[i]) : data[i];
        }
        return out;
      }
      case OP_TRUNCATE:
        return Arrays.copyOf(file, at);
      case OP_EXTEND: {
        byte[] out = Arrays.copyOf(file, file.length + (offset & 0xfffff) + data.length);
        System.arraycopy(data, 0, out, out.length - data.length, data.length);
        return out;
      }
      case OP_DELETE:
        return null;
      case OP_ZERO: {
        byte[] out = file.clone();
        int n = data.length >= 2 ? ((data[0] & 0xff) << 8) | (data[1] & 0xff) : 4096;
        Arrays.fill(out, at, (int) Math.min(out.length, (long) at + n), (byte) 0);
        return out;
      }
      default:
        return file; // ops 6-7: reserved, no change
    }
  }

  static final int FORGE_REMOVE = 6;
  /** Longest forged value: above any value the store writes (peer 255 + locator 1024 + 47 bytes). */
  private static final int MAX_FORGED_VALUE_BYTES = 1400;

  /**
   * Values behind a valid seal: {@code (u8 target | u16 n | n bytes)*}, at most 8. Target mod 8: 0-3 put the
   * n bytes as the value of indexed blob 0-3 (HELD, DELIVERED, OWN, SECOND), 4 as a value for the
   * interrupted upload's fingerprint, 5 for a fingerprint the store never saw, 6 remove indexed blob
   * {@code n mod 4}'s entry (the n bytes are skipped), 7 nothing. The map is then sealed as a clean close
   * seals it, so the open trusts it: this reaches {@link IndexEntryCodec#decodeValue} and the store's use of
   * what it decodes, which damage to the file no longer does (the seal refuses it).
   *
   * <p>Such values are what a writer put there (a bug, another version, memory corruption during a session),
   * not disk damage, so the store may report what they say. The contract: only typed exceptions; never a
   * wrong byte served; and nothing lost for good: reopened without its clean-shutdown marker (a rebuild
   * from the data files) the store holds and serves every blob it held before, exactly.
   */
  @FuzzTest
  void openForgedValues(byte[] input) throws Exception {
    Map<String, byte[]> values = new LinkedHashMap<>(); // hex key -> value (null: remove)
    ByteBuffer b = ByteBuffer.wrap(input);
    for (int ops = 0; b.remaining() >= 3 && ops < 8; ops++) {
      int target = (b.get() & 0xff) % 8;
      int n = b.getShort() & 0xffff;
      byte[] value = new byte[Math.min(n, b.remaining())];
      b.get(value);
      if (target < 4) {
        values.put(INDEXED.get(target).toHex(), cap(value));
      } else if (target == 4) {
        values.put(PARTIAL.fingerprint.toHex(), cap(value));
      } else if (target == 5) {
        values.put(STRANGER.toHex(), cap(value));
      } else if (target == FORGE_REMOVE) {
        values.put(INDEXED.get(n % INDEXED.size()).toHex(), null);
      }
    }
    Map<String, byte[]> files;
    Path forge = tempDir("chronicle-forge-");
    try {
      write(forge, DIRECTORY);
      Map<byte[], byte[]> raw = new LinkedHashMap<>();
      for (Map.Entry<String, byte[]> v : values.entrySet()) {
        raw.put(Fingerprint.fromHex(v.getKey()).toBytes(), v.getValue());
      }
      ChronicleIndexForge.forge(forge.resolve("index"), MAX_ENTRIES, raw);
      files = snapshot(forge, "LOCK");
    } finally {
      deleteQuietly(forge);
    }
    Path dir = tempDir("chronicle-");
    try {
      Contract.Outcome<FileCustodyStore> opened = openWithinBudget(dir, files);
      if (opened.ok()) {
        try (FileCustodyStore store = opened.value) {
          auditForged(store);
        }
      }
      // Whatever the forged index made the store report, the data files must still hold everything.
      Files.deleteIfExists(dir.resolve("CLEAN"));
      Contract.Outcome<FileCustodyStore> rebuilt = store(() -> FileCustodyStore.open(chronicleConfig(dir)));
      Contract.check(rebuilt.ok(), "the store does not open with a rebuilt index: " + rebuilt);
      try (FileCustodyStore store = rebuilt.value) {
        Contract.check(!store.openedClean(), "opened clean without a CLEAN marker");
        Map<Fingerprint, BlobStat> listed = listing(store);
        for (Map.Entry<Fingerprint, BlobStat> e : LISTING.entrySet()) {
          BlobStat now = listed.get(e.getKey());
          boolean lost = now == null || !now.equals(e.getValue())
              || e.getValue().state().hasBytes() && !Arrays.equals(serve(store, e.getKey()), envelope(e.getKey()).bytes);
          Contract.check(!lost, "a forged index value lost blob " + e.getKey() + " for good: rebuilt from the data "
              + "files it is " + now + ", was " + e.getValue());
        }
      }
    } finally {
      deleteQuietly(dir);
    }
  }

  private static byte[] cap(byte[] value) {
    return value.length <= MAX_FORGED_VALUE_BYTES ? value : Arrays.copyOf(value, MAX_FORGED_VALUE_BYTES);
  }

  /** Every call refused typed or answered; whatever is served is exactly its envelope. */
  private static void auditForged(FileCustodyStore store) throws Exception {
    Contract.Outcome<List<BlobStat>> list = store(store::list);
    if (list.ok()) {
      for (BlobStat s : list.value) {
        serve(store, s.fingerprint());
      }
    }
    for (Fingerprint fp : new Fingerprint[] {HELD.fingerprint, DELIVERED.fingerprint, OWN.fingerprint,
        SECOND.fingerprint, PARTIAL.fingerprint, STRANGER}) {
      store(() -> store.stat(fp));
      store(() -> store.contains(fp));
      serve(store, fp);
    }
    store(store::uploads);
    store(() -> store.dropExpired(NOW_EPOCH_SECOND));
    Contract.Outcome<List<BlobStat>> after = store(store::list);
    if (after.ok()) {
      for (BlobStat s : after.value) {
        serve(store, s.fingerprint());
      }
    }
  }

  private static void run(Map<String, byte[]> files) throws Exception {
    Path dir = tempDir("chronicle-");
    try {
      Contract.Outcome<FileCustodyStore> opened = openWithinBudget(dir, files);
      Contract.check(opened.ok(), "a damaged index made the store fail to open; the index is derived and must "
          + "be rebuilt from the intact data files instead: " + opened);
      Map<Fingerprint, BlobStat> after;
      try (FileCustodyStore store = opened.value) {
        boolean trusted = INDEX.lastTrusted;
        Contract.count(trusted ? "index trusted" : "index rebuilt");
        boolean unchanged = files.containsKey("CLEAN");
        for (String f : indexFiles()) {
          unchanged &= Arrays.equals(files.get(f), DIRECTORY.get(f));
        }
        // The seal: the index trusts its files exactly when they are the ones a clean close left.
        Contract.check(trusted == unchanged, trusted ? "a damaged index file was trusted"
            : "an undamaged index after a clean close was not trusted (a needless rebuild)");
        audit(store);
        after = listing(store);
      }
      Contract.Outcome<FileCustodyStore> again = store(() -> FileCustodyStore.open(chronicleConfig(dir)));
      Contract.check(again.ok(), "the directory recovery left does not open again: " + again);
      try (FileCustodyStore store = again.value) {
        Contract.check(after.equals(listing(store)), "reopening lists " + describe(listing(store))
            + ", before the close " + describe(after));
      }
    } finally {
      deleteQuietly(dir);
    }
  }

  /**
   * Writes {@code files} into {@code dir} and opens the store, under the allocation budget. An open over
   * budget is judged on a second open of a fresh copy (first-use class loading and Chronicle's code
   * generation are not findings), as {@link Contract#withinBudget} does for side-effect-free calls.
   */
  private static Contract.Outcome<FileCustodyStore> openWithinBudget(Path dir, Map<String, byte[]> files)
      throws Exception {
    long used = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
      deleteQuietly(dir);
      write(dir, files);
      long start = Contract.allocatedBytes();
      Contract.Outcome<FileCustodyStore> opened = store(() -> FileCustodyStore.open(chronicleConfig(dir)));
      used = Contract.allocatedBytes() - start;
      if (used <= OPEN_BUDGET_BYTES) {
        return opened;
      }
      if (opened.ok()) {
        opened.value.close();
      }
    }
    throw new AssertionError("contract: opening the store allocated " + used + " bytes, budget "
        + OPEN_BUDGET_BYTES);
  }

  private static Map<Fingerprint, BlobStat> listing(FileCustodyStore store) throws Exception {
    Contract.Outcome<List<BlobStat>> list = store(store::list);
    Contract.check(list.ok(), "list() failed after a successful open: " + list);
    Map<Fingerprint, BlobStat> out = new TreeMap<>();
    for (BlobStat s : list.value) {
      Contract.check(out.put(s.fingerprint(), s) == null, "list() names " + s.fingerprint() + " twice");
    }
    return out;
  }

  /** The store after the open is exactly the store that was closed. */
  private static void audit(FileCustodyStore store) throws Exception {
    Map<Fingerprint, BlobStat> listed = listing(store);
    Contract.check(listed.equals(LISTING), "after damage to its index the store lists " + describe(listed)
        + "; it held " + describe(LISTING));
    for (Map.Entry<Fingerprint, BlobStat> e : LISTING.entrySet()) {
      Fingerprint fp = e.getKey();
      Contract.Outcome<BlobStat> stat = store(() -> store.stat(fp));
      Contract.check(stat.ok() && e.getValue().equals(stat.value), "stat(" + fp + ") gives " + stat + ", was "
          + e.getValue());
      if (e.getValue().state().hasBytes()) {
        Contract.check(Arrays.equals(serve(store, fp), envelope(fp).bytes), "blob " + fp
            + " is not served as its envelope");
      } else {
        Contract.Outcome<ReadableByteChannel> refused = store(() -> store.open(fp));
        Contract.check(reason(refused) == StoreException.Reason.NOT_FOUND, "the delivered blob opens: " + refused);
        Contract.Outcome<Upload> again = store(() -> store.begin(DELIVERED.request().own().build()));
        Contract.check(reason(again) == StoreException.Reason.DELIVERED,
            "the delivered blob can be uploaded again: " + again);
      }
    }
    Contract.Outcome<BlobStat> stranger = store(() -> store.stat(STRANGER));
    Contract.check(stranger.ok() && stranger.value == null, "an unknown fingerprint has a stat: " + stranger);
    Contract.check(USAGE.equals(store.usage()), "usage " + store.usage() + ", was " + USAGE);

    Contract.Outcome<List<UploadInfo>> uploads = store(store::uploads);
    Contract.check(uploads.ok() && uploads.value.size() == 1
        && uploads.value.get(0).request().fingerprint().equals(PARTIAL.fingerprint)
        && uploads.value.get(0).durableOffsetBytes() == UPLOAD.durableOffsetBytes(),
        "uploads " + uploads + ", was [" + UPLOAD + "]");
    Contract.Outcome<BlobStat> committed = store(() -> {
      try (Upload u = store.resume(PARTIAL.fingerprint)) {
        int from = (int) u.durableOffset();
        u.write(ByteBuffer.wrap(PARTIAL.bytes, from, PARTIAL.bytes.length - from));
        return u.commit();
      }
    });
    Contract.check(committed.ok(), "the interrupted upload cannot be finished: " + committed);
    Contract.check(Arrays.equals(serve(store, PARTIAL.fingerprint), PARTIAL.bytes),
        "the finished upload is not served as its envelope");
  }

  private static StoreException.Reason reason(Contract.Outcome<?> o) {
    return o.rejection instanceof StoreException ? ((StoreException) o.rejection).reason() : null;
  }

  private static Env envelope(Fingerprint fp) {
    for (Env e : new Env[] {HELD, DELIVERED, PARTIAL, OWN, SECOND}) {
      if (e.fingerprint.equals(fp)) {
        return e;
      }
    }
    throw new IllegalArgumentException("not a fixture blob: " + fp);
  }

  /** Reads a blob whole; the bytes must hash to the fingerprint. Returns {@code null} if refused. */
  private static byte[] serve(FileCustodyStore store, Fingerprint fp) throws Exception {
    Contract.Outcome<byte[]> served = readWhole(store, fp, MAX_SERVED_BYTES);
    if (!served.ok()) {
      return null;
    }
    Contract.check(fp.equals(fingerprintOf(served.value)), "served bytes under " + fp + " that hash to "
        + fingerprintOf(served.value));
    for (Env known : new Env[] {HELD, DELIVERED, PARTIAL, OWN, SECOND}) {
      Contract.check(!known.fingerprint.equals(fp) || Arrays.equals(known.bytes, served.value),
          "served other bytes for " + fp);
    }
    return served.value;
  }

  // --- seeds ----------------------------------------------------------------------------------------

  /** Where a value starts relative to its key in the map file (key, then a one-byte size). */
  private static final int VALUE_AT = 32 + 1;

  static Map<String, byte[]> seeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    int mapLength = DIRECTORY.get(mapFile()).length;
    int meta = 1 << 4; // the descriptor sorts after the map file
    out.put("seed-intact", edits(0));
    out.put("seed-intact-unclean", edits(FLAG_UNCLEAN));
    out.put("seed-map-missing", edits(0, op(OP_DELETE, 0)));
    out.put("seed-descriptor-missing", edits(0, op(OP_DELETE | meta, 0)));
    out.put("seed-map-torn-at-half", edits(0, op(OP_TRUNCATE, mapLength / 2)));
    out.put("seed-map-torn-at-4k", edits(0, op(OP_TRUNCATE, 4096)));
    out.put("seed-map-empty", edits(0, op(OP_TRUNCATE, 0)));
    out.put("seed-map-extended-64k", edits(0, op(OP_EXTEND, 65536, 1, 2, 3)));
    out.put("seed-map-header-zeroed", edits(0, op(OP_OVERWRITE, 0, new byte[255])));
    out.put("seed-map-header-bit-flip", edits(0, op(OP_XOR, 40, 0x10)));
    out.put("seed-map-header-class-name", edits(0, op(OP_XOR, 0x20, 0x01)));
    out.put("seed-segment-locked", edits(0, op(OP_OVERWRITE, 4096, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)));
    out.put("seed-key-bit-flip", edits(0, op(OP_XOR | ANCHOR_KEY, 0, 0x01)));
    // An entry is its 32 key bytes, a one-byte value size, the value (IndexEntryCodec), a checksum. Flip
    // the low byte of HELD's envelope length; make OWN's state byte 3 (EXPIRED).
    out.put("seed-value-length-bit-flip", edits(0, op(OP_XOR | ANCHOR_KEY, VALUE_AT + 1 + 8 + 8 + 7, 0x01)));
    out.put("seed-value-state-byte", edits(0, op(OP_OVERWRITE | ANCHOR_KEY, (2 << 16) + VALUE_AT + 1 + 40, 3)));
    out.put("seed-value-version-byte", edits(0, op(OP_OVERWRITE | ANCHOR_KEY, (3 << 16) + VALUE_AT, 2)));
    out.put("seed-descriptor-bit-flip", edits(0, op(OP_XOR | meta, 9, 0x01)));
    out.put("seed-descriptor-torn", edits(0, op(OP_TRUNCATE | meta, 12)));
    out.put("seed-entry-page-lost", edits(0, op(OP_ZERO, 4096)));
    out.put("seed-header-page-lost", edits(0, op(OP_ZERO, 0)));
    return out;
  }

  static Map<String, byte[]> forgedSeeds() {
    Map<String, byte[]> raw;
    Path d = null;
    try {
      d = tempDir("chronicle-seeds-");
      write(d, DIRECTORY);
      raw = ChronicleIndexForge.read(d.resolve("index"), MAX_ENTRIES);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      deleteQuietly(d);
    }
    IndexEntry held = IndexEntryCodec.decodeValue(HELD.fingerprint, raw.get(HELD.fingerprint.toHex()));
    IndexEntry delivered = IndexEntryCodec.decodeValue(DELIVERED.fingerprint, raw.get(DELIVERED.fingerprint.toHex()));
    Map<String, byte[]> out = new LinkedHashMap<>();
    out.put("seed-same-values", forged(0, raw.get(HELD.fingerprint.toHex())));
    out.put("seed-held-length-plus-one", forged(0, IndexEntryCodec.encodeValue(with(held, held.blobId(),
        held.groupEpochSecond(), held.envelopeLengthBytes() + 1, held.expiresAtEpochSecond(), held.state()))));
    out.put("seed-held-other-group", forged(0, IndexEntryCodec.encodeValue(with(held, held.blobId(),
        held.groupEpochSecond() + 3600, held.envelopeLengthBytes(), held.expiresAtEpochSecond(), held.state()))));
    out.put("seed-held-other-blob-id", forged(0, IndexEntryCodec.encodeValue(with(held, held.blobId() + 1,
        held.groupEpochSecond(), held.envelopeLengthBytes(), held.expiresAtEpochSecond(), held.state()))));
    out.put("seed-held-expired", forged(0, IndexEntryCodec.encodeValue(with(held, held.blobId(),
        held.groupEpochSecond(), held.envelopeLengthBytes(), NOW_EPOCH_SECOND - 1, held.state()))));
    out.put("seed-delivered-resurrected", forged(1, IndexEntryCodec.encodeValue(with(delivered,
        delivered.blobId(), delivered.groupEpochSecond(), delivered.envelopeLengthBytes(),
        delivered.expiresAtEpochSecond(), io.crowdbackup.api.store.BlobState.HELD))));
    out.put("seed-own-removed", forged(FORGE_REMOVE, new byte[2]));
    out.put("seed-upload-invented", forged(4, IndexEntryCodec.encodeValue(new IndexEntry(PARTIAL.fingerprint, 3,
        held.groupEpochSecond(), PARTIAL.bytes.length, held.expiresAtEpochSecond(), 0,
        io.crowdbackup.api.store.BlobState.HELD, io.crowdbackup.api.store.BlobKind.CUSTODY, "peer-two",
        PARTIAL.locator))));
    out.put("seed-stranger-invented", forged(5, raw.get(SECOND.fingerprint.toHex())));
    byte[] version9 = raw.get(SECOND.fingerprint.toHex()).clone();
    version9[0] = 9;
    out.put("seed-second-version-9", forged(3, version9));
    out.put("seed-second-empty", forged(3, new byte[0]));
    return out;
  }

  private static IndexEntry with(IndexEntry e, long blobId, long group, long length, long expires,
      io.crowdbackup.api.store.BlobState state) {
    return new IndexEntry(e.fingerprint(), blobId, group, length, expires, e.storedAtEpochMillis(), state, e.kind(),
        e.sourcePeer(), e.locator());
  }

  private static byte[] forged(int target, byte[] value) {
    return ByteBuffer.allocate(3 + value.length).put((byte) target).putShort((short) value.length).put(value)
        .array();
  }

  private static byte[] op(int op, int offset, int... data) {
    byte[] bytes = new byte[data.length];
    for (int i = 0; i < data.length; i++) {
      bytes[i] = (byte) data[i];
    }
    return op(op, offset, bytes);
  }

  private static byte[] op(int op, int offset, byte[] data) {
    return ByteBuffer.allocate(6 + data.length).put((byte) op).putInt(offset).put((byte) data.length).put(data)
        .array();
  }

  private static byte[] edits(int flags, byte[]... ops) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(flags);
    for (byte[] op : ops) {
      out.writeBytes(op);
    }
    return out.toByteArray();
  }
}
