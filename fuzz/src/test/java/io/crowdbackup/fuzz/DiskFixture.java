package io.crowdbackup.fuzz;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.inbox.InboxException;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import io.crowdbackup.engine.store.StoreTestSupport;
import io.crowdbackup.engine.store.StoreTestSupport.Env;
import io.crowdbackup.engine.store.index.InMemoryBlobIndex;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Directories as recovery finds them after a crash: a custody store and an inbox, each built once by the
 * engine itself (real blobs, state log, partial upload, delivery ledger) and snapshotted as
 * relative path -> bytes. A target writes the snapshot into a fresh directory with one file replaced by
 * the fuzzer's bytes and opens it through the public entry points, exactly as recovery would.
 */
final class DiskFixture {
  private DiskFixture() {}

  static final long NOW_EPOCH_SECOND = StoreTestSupport.NOW_EPOCH_SECOND;
  static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(NOW_EPOCH_SECOND), ZoneOffset.UTC);

  /** Committed custody blob, moved to FORWARDING (so the state log has an entry for it). */
  static final Env HELD = StoreTestSupport.envelope(101, 5000);
  /** Committed own blob, then DELIVERED: a tombstone in the state log and no file. */
  static final Env DELIVERED = StoreTestSupport.envelope(102, 100, true, NOW_EPOCH_SECOND + 6 * 3600);
  /** An upload interrupted after a checkpoint: partial file and journal. */
  static final Env PARTIAL = StoreTestSupport.envelope(103, 9000);
  static final int PARTIAL_SENT_BYTES = 6000;

  private static final Path TEMP_ROOT = tempRoot();

  static final Map<String, byte[]> STORE = buildStore();

  /** The files of the store snapshot, by kind. */
  static String blobPath() {
    return only(".blob");
  }

  static String stateLogPath() {
    return only("states.log");
  }

  static String journalPath() {
    return only(".pieces");
  }

  static String partPath() {
    return only(".part");
  }

  private static String only(String suffix) {
    String found = null;
    for (String p : STORE.keySet()) {
      if (p.endsWith(suffix)) {
        if (found != null) {
          throw new IllegalStateException("two store files end with " + suffix + ": " + found + ", " + p);
        }
        found = p;
      }
    }
    if (found == null) {
      throw new IllegalStateException("no store file ends with " + suffix + " in " + STORE.keySet());
    }
    return found;
  }

  static StoreConfig config(Path dir) {
    return StoreConfig.newBuilder(dir).indexFactory(InMemoryBlobIndex.FACTORY).clock(CLOCK).build();
  }

  private static Map<String, byte[]> buildStore() {
    Path dir = null;
    try {
      dir = tempDir("store-template");
      try (FileCustodyStore store = FileCustodyStore.open(config(dir))) {
        store.put(HELD.custody("peer-one"), Fixtures.channel(HELD.bytes));
        store.transition(HELD.fingerprint, BlobState.FORWARDING);
        store.put(DELIVERED.request().own().build(), Fixtures.channel(DELIVERED.bytes));
        store.transition(DELIVERED.fingerprint, BlobState.DELIVERED);
        Upload u = store.begin(PARTIAL.custody("peer-two"));
        u.write(ByteBuffer.wrap(PARTIAL.bytes, 0, PARTIAL_SENT_BYTES));
        u.checkpoint();
        u.close();
      }
      return normalizeBlobIds(snapshot(dir, "LOCK"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteQuietly(dir);
    }
  }

  /**
   * The store draws a random blob id per upload; the seeds must be reproducible, so each fingerprint's id
   * is replaced by a fixed one (HELD 1, DELIVERED 2, PARTIAL 3) in every record header and state-log entry,
   * and the checksums are recomputed.
   */
  private static Map<String, byte[]> normalizeBlobIds(Map<String, byte[]> files) {
    Map<Fingerprint, Long> ids = new java.util.HashMap<>();
    ids.put(HELD.fingerprint, 1L);
    ids.put(DELIVERED.fingerprint, 2L);
    ids.put(PARTIAL.fingerprint, 3L);
    return normalizeBlobIds(files, ids);
  }

  /** Replaces each fingerprint's blob id by {@code ids}' in record headers and state-log entries (CRCs fixed). */
  static Map<String, byte[]> normalizeBlobIds(Map<String, byte[]> files, Map<Fingerprint, Long> ids) {
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      byte[] b = f.getValue();
      String name = f.getKey();
      if (name.endsWith(".blob") || name.endsWith(".part") || name.endsWith(".pieces")) {
        Long id = ids.get(Fingerprint.of(java.util.Arrays.copyOfRange(b, 12, 44)));
        ByteBuffer.wrap(b).putLong(44, id);
        fixRecordHeaderCrc(b);
      } else if (name.endsWith("states.log")) {
        for (int at = 16; at + 62 <= b.length; at += 62) {
          Long id = ids.get(Fingerprint.of(java.util.Arrays.copyOfRange(b, at, at + 32)));
          ByteBuffer.wrap(b).putLong(at + 32, id);
          putCrc(b, at + 58, at);
        }
      }
    }
    return files;
  }

  static Map<String, byte[]> snapshot(Path dir, String... skip) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted()::iterator) {
        String rel = dir.relativize(p).toString().replace('\\', '/');
        if (Files.isRegularFile(p) && !java.util.Arrays.asList(skip).contains(rel)
            && !rel.endsWith("/lock")) {
          out.put(rel, Files.readAllBytes(p));
        }
      }
    }
    return out;
  }

  /** Writes {@code files} into {@code dir} (creating parents); a {@code null} value leaves the file out. */
  static void write(Path dir, Map<String, byte[]> files) throws IOException {
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      if (f.getValue() == null) {
        continue;
      }
      Path p = dir.resolve(f.getKey());
      Files.createDirectories(p.getParent());
      Files.write(p, f.getValue());
    }
  }

  private static Path tempRoot() {
    Path shm = Paths.get("/dev/shm");
    try {
      Path base = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Paths.get(System.getProperty("java.io.tmpdir"));
      Path root = Files.createTempDirectory(base, "crowdbackup-fuzz-");
      root.toFile().deleteOnExit(); // empty by then: every input deletes its own directory
      return root;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path tempDir(String prefix) throws IOException {
    return Files.createTempDirectory(TEMP_ROOT, prefix);
  }

  static void deleteQuietly(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // Best effort: the fuzz temp root is under /dev/shm or the JVM's temp dir.
        }
      });
    } catch (IOException ignored) {
      // Same.
    }
  }

  // --- contract for the store and the inbox ------------------------------------------------------------

  /**
   * Runs a store call: a value, or a {@link StoreException} with a reason and a message (or, for bytes that
   * are not the envelope promised, the envelope's {@link EnvelopeException}). The store wraps
   * a RuntimeException from its own code as IO_ERROR when opening; that is a bug hidden behind a typed
   * exception, so it is rethrown as a finding.
   */
  /**
   * Reads a blob whole through {@code store.open}, under the store contract ({@link #store}): a typed
   * refusal is an outcome; serving more than {@code maxBytes} breaks the contract.
   */
  static Contract.Outcome<byte[]> readWhole(FileCustodyStore store, Fingerprint fp, int maxBytes) throws Exception {
    return store(() -> {
      try (java.nio.channels.ReadableByteChannel ch = store.open(fp)) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(8192);
        while (ch.read(buf) >= 0) {
          out.write(buf.array(), 0, buf.position());
          buf.clear();
          Contract.check(out.size() <= maxBytes, "served more than " + maxBytes + " bytes for " + fp);
        }
        return out.toByteArray();
      }
    });
  }

  static <T> Contract.Outcome<T> store(Contract.Call<T> call) throws Exception {
    try {
      T value = call.call();
      Contract.count("store ok");
      return Contract.Outcome.value(value);
    } catch (StoreException e) {
      Contract.count("store " + e.reason());
      requireTyped(e, e.reason());
      if (e.reason() == StoreException.Reason.IO_ERROR && hasRuntimeCause(e)) {
        throw new AssertionError("a RuntimeException/Error escaped the store's own code, wrapped as IO_ERROR", e);
      }
      return Contract.Outcome.rejected(e);
    } catch (EnvelopeException e) {
      Contract.count("store envelope " + e.reason());
      requireTyped(e, e.reason());
      return Contract.Outcome.rejected(e);
    } catch (IOException e) {
      throw new AssertionError("undocumented IOException (not a StoreException) escaped the store", e);
    }
  }

  /**
   * Runs an inbox call: a value, an {@link InboxException} or (for its storage) a {@link StoreException}
   * with a reason, or an EnvelopeException.
   */
  static <T> Contract.Outcome<T> inbox(Contract.Call<T> call) throws Exception {
    try {
      T value = call.call();
      Contract.count("inbox ok");
      return Contract.Outcome.value(value);
    } catch (InboxException | StoreException e) {
      Contract.count("inbox " + e.reason());
      requireTyped(e, e.reason());
      if (hasRuntimeCause(e)) {
        throw new AssertionError("a RuntimeException/Error escaped the inbox's own code, wrapped", e);
      }
      return Contract.Outcome.rejected(e);
    } catch (EnvelopeException e) {
      Contract.count("inbox envelope " + e.reason());
      requireTyped(e, e.reason());
      return Contract.Outcome.rejected(e);
    } catch (IOException e) {
      throw new AssertionError("undocumented IOException (not an InboxException) escaped the inbox", e);
    }
  }

  private static void requireTyped(Exception e, Object reason) {
    if (reason == null) {
      throw new AssertionError("typed exception without a reason", e);
    }
    if (e.getMessage() == null || e.getMessage().isBlank()) {
      throw new AssertionError("rejection without a message", e);
    }
  }

  private static boolean thrownBy(Throwable e, String classSuffix, String method) {
    for (StackTraceElement f : e.getStackTrace()) {
      if (f.getClassName().endsWith(classSuffix) && f.getMethodName().equals(method)) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasRuntimeCause(Throwable e) {
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      if (c instanceof RuntimeException || c instanceof Error) {
        return true;
      }
    }
    return false;
  }

  /** The fingerprint of bytes served, computed by the keyless scanner; {@code null} if they are no envelope. */
  static Fingerprint fingerprintOf(byte[] envelope) throws IOException {
    try {
      return Envelopes.fingerprint(Fixtures.channel(envelope));
    } catch (EnvelopeException e) {
      return null;
    }
  }

  // --- checksum repair: lets mutated fields get past the CRCs, so hostile-but-checksummed records are reached

  static int crc(byte[] b, int off, int len) {
    CRC32 c = new CRC32();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  static void putCrc(byte[] b, int at, int from) {
    if (at >= from && at + 4 <= b.length) {
      ByteBuffer.wrap(b).putInt(at, crc(b, from, at - from));
    }
  }

  /** Record header ({@code .blob}, {@code .part}, {@code .pieces}): CRC-32 at 78 + P over the bytes before it. */
  static void fixRecordHeaderCrc(byte[] b) {
    if (b.length > 78) {
      putCrc(b, 78 + (b[77] & 0xff), 0);
    }
  }

  /** Blob footer: the CRC at size-12 covers the footer from its start (size - footer length) to size-12. */
  static void fixBlobCrcs(byte[] b) {
    fixRecordHeaderCrc(b);
    if (b.length >= 16) {
      long footerLength = ByteBuffer.wrap(b).getInt(b.length - 16) & 0xffff_ffffL;
      long start = b.length - footerLength;
      if (footerLength >= 16 && start >= 0) {
        putCrc(b, b.length - 12, (int) start);
      }
    }
  }
}
