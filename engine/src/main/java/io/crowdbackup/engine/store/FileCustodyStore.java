package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreFormat.*;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.CustodyStore;
import io.crowdbackup.api.store.QuarantinedBlob;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreException.Reason;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.store.StoreFormat.FormatProblem;
import io.crowdbackup.engine.store.StoreFormat.RecordHeader;
import io.crowdbackup.engine.policy.RetentionPolicy;
import io.crowdbackup.engine.store.index.BlobIndex;
import io.crowdbackup.engine.store.index.IndexEntry;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The custody store on a file system: one file per blob, in one directory per expiry group
 * ({@code docs/store-format.md}, {@code docs/decisions/0002-store-layout.md}).
 *
 * <p>Data files are the truth. The index is derived: after a clean close (a valid {@code CLEAN} marker)
 * a persisted index is trusted as it is; otherwise it is thrown away and rebuilt from the blob files'
 * headers and footers and the groups' state logs. Uploads in progress are always recovered from their
 * journals.
 *
 * <p>Thread-safe, with no lock a caller can see or wait on. The in-memory state (index, byte counts,
 * uploads) is guarded by a private monitor that is held only for memory work: never across a rename, an
 * fsync, a group's deletion or a listener callback, so {@code stat}, {@code contains}, {@code list} and
 * {@code usage} never wait for the disk. Changes that need each other's disk work in order (transitions,
 * deletes, drops, quarantine) are serialised by a second private lock; commits take neither across their
 * disk work: they rename into their group and share its directory fsync ({@link DirectorySync}, group
 * commit) under a read lock that only a whole group's deletion excludes. Listener callbacks run after the
 * change, outside every lock, in the order the changes happened ({@link #fireEvents}).
 */
public final class FileCustodyStore implements CustodyStore {
  static final String LOCK_FILE = "LOCK";
  static final String STORE_FILE = "STORE";
  static final String CLEAN_FILE = "CLEAN";
  static final String PARTIAL_DIR = "partial";
  static final String GROUPS_DIR = "groups";
  static final String QUARANTINE_DIR = "quarantine";
  static final String INDEX_DIR = "index";
  /** Where a seal of unknown length spools its plaintext ({@link #spoolDirectory()}); emptied at open. */
  static final String SPOOL_DIR = "spool";
  static final String STATE_LOG = "states.log";
  static final String BLOB_SUFFIX = ".blob";
  static final String PART_SUFFIX = ".part";
  static final String JOURNAL_SUFFIX = ".pieces";
  /** Where a checkpoint inside a piece records the durable bytes past the journaled ones (UploadImpl). */
  static final String TAIL_SUFFIX = ".tail";
  static final String WHY_SUFFIX = ".why";
  private static final int MAX_WHY_BYTES = 4096;

  final StoreConfig config;
  final FileOpener opener;
  final Path root;
  final Path partialDir;
  final Path groupsDir;
  final Path quarantineDir;
  final Path spoolDir;
  private final FileChannel lockChannel;
  private final FileLock lock;
  /** Guards the in-memory state; held for memory work only (see the class comment). */
  final Object mu = new Object();
  /** Read buffers of one-shot puts ({@link UploadImpl#putAll}); one kept per core, puts beyond that allocate. */
  final PutBuffers putBuffers = new PutBuffers(Math.max(2, Runtime.getRuntime().availableProcessors()));
  /**
   * Changes to one fingerprint (transition, delete, quarantine, a drop of its file) hold its stripe, so
   * they never cross each other; changes to different blobs run side by side. Never taken by stat.
   */
  private final java.util.concurrent.locks.ReentrantLock[] blobLocks = new java.util.concurrent.locks.ReentrantLock[64];
  /** One drop at a time. */
  private final java.util.concurrent.locks.ReentrantLock drops = new java.util.concurrent.locks.ReentrantLock();
  /** Appends to one group's state log, one at a time. */
  private final java.util.concurrent.ConcurrentHashMap<Path, Object> stateLogLocks =
      new java.util.concurrent.ConcurrentHashMap<>();
  /**
   * Held shared by commits (while they rename into a group) and by transitions, deletes and quarantine;
   * held exclusively while a whole group is deleted and by close. Taken before a blob's stripe.
   */
  private final java.util.concurrent.locks.ReentrantReadWriteLock groupsLock =
      new java.util.concurrent.locks.ReentrantReadWriteLock();
  /** One group commit of directory fsyncs per directory (commits and deletes in a group share them). */
  private final java.util.concurrent.ConcurrentHashMap<Path, DirectorySync> dirSyncs =
      new java.util.concurrent.ConcurrentHashMap<>();
  /** Listener calls waiting to run, in the order of their changes; guarded by {@link #mu}. */
  private final java.util.ArrayDeque<Runnable> events = new java.util.ArrayDeque<>();
  /** Held while listener calls run, so they run one at a time and in order, outside {@link #mu}. */
  private final Object listenerTurn = new Object();
  /** Whether anyone listens: without a listener no call is queued, so no operation waits for the turn. */
  private final boolean listening;
  /** Listener calls queued so far (counted under {@link #mu}) and run so far (under {@link #listenerTurn}). */
  private final java.util.concurrent.atomic.AtomicLong eventsQueued = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong eventsRun = new java.util.concurrent.atomic.AtomicLong();
  /** Commits between their start and their index entry; close waits for them. Guarded by {@link #mu}. */
  private int publishing;
  private BlobIndex index;
  private boolean rebuilding;
  private final SecureRandom random = new SecureRandom();
  /** Uploads in progress, open or resumable; guarded by {@link #mu}. */
  final Map<Fingerprint, PartialUpload> uploads = new HashMap<>();
  private long custodyHeldBytes;
  private long ownHeldBytes;
  /** Own seals begun without a fingerprint and not yet committed ({@link #beginOwnSeal}); guarded by {@link #mu}. */
  private long sealsInProgress;
  /** Their envelope lengths, once their headers declared them; guarded by {@link #mu}. */
  private long sealsDeclaredBytes;
  private long blobCount;
  private boolean closed;
  private final boolean openedClean;
  private long quarantinedSinceOpen;
  private long damagedLogRecordsSinceOpen;
  /** One daemon thread for every upload's flush behind; created on first use, guarded by {@link #mu}. */
  private java.util.concurrent.@Nullable ExecutorService flusher;
  /** Threads that write a put's bytes while its caller hashes the next ones; guarded by {@link #mu}. */
  private java.util.concurrent.@Nullable ExecutorService writers;

  private FileCustodyStore(StoreConfig config, FileChannel lockChannel, FileLock lock, BlobIndex index,
      boolean openedClean) {
    this.config = config;
    this.opener = NoFollowOpener.wrap(config.fileOpener());
    this.root = rootOf(config);
    this.partialDir = root.resolve(PARTIAL_DIR);
    this.groupsDir = root.resolve(GROUPS_DIR);
    this.quarantineDir = root.resolve(QUARANTINE_DIR);
    this.spoolDir = root.resolve(SPOOL_DIR);
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.index = index;
    this.openedClean = openedClean;
    this.listening = config.listener() != StoreListener.NONE;
    for (int i = 0; i < blobLocks.length; i++) {
      blobLocks[i] = new java.util.concurrent.locks.ReentrantLock();
    }
  }

  private java.util.concurrent.locks.ReentrantLock blobLock(Fingerprint fp) {
    return blobLocks[(fp.hashCode() & 0x7fff_ffff) % blobLocks.length];
  }

  /** Appends to a group's state log (its fsync included), one append per log at a time. */
  private void appendState(Path log, StateLog.Entry entry) throws IOException {
    synchronized (stateLogLocks.computeIfAbsent(log, k -> new Object())) {
      StateLog.append(opener, log, entry);
    }
  }

  /**
   * Opens (creating if needed) the store in {@code config.directory()}, taking its OS file lock.
   *
   * @throws StoreException {@link Reason#LOCKED_BY_OTHER_PROCESS} if another process holds it,
   *     {@link Reason#UNSUPPORTED_FORMAT} if it was written by another store version
   */
  public static FileCustodyStore open(StoreConfig config) throws IOException {
    try {
      Files.createDirectories(config.directory());
    } catch (IOException e) {
      throw StoreIo.wrap(e, config.directory(), "creating the store directory");
    }
    Path root = rootOf(config);
    FileOpener opener = NoFollowOpener.wrap(config.fileOpener());
    Path lockPath = root.resolve(LOCK_FILE);
    FileChannel lockChannel;
    FileLock lock;
    try {
      lockChannel = FileChannel.open(lockPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          java.nio.file.LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      NoFollowOpener.requireNotLink(lockPath);
      throw StoreIo.wrap(e, lockPath, "opening the lock file");
    }
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException e) {
      closeQuietly(lockChannel);
      throw StoreIo.wrap(e, lockPath, "locking the store");
    }
    if (lock == null) {
      closeQuietly(lockChannel);
      throw new StoreException(Reason.LOCKED_BY_OTHER_PROCESS, lockPath.toString(),
          "another process (or another store instance in this process) has this store open; close it first, "
              + "or give this one its own directory");
    }
    BlobIndex index = null;
    try {
      for (String d : new String[] {PARTIAL_DIR, GROUPS_DIR, QUARANTINE_DIR, INDEX_DIR, SPOOL_DIR}) {
        NoFollowOpener.requireNotLink(root.resolve(d));
        Files.createDirectories(root.resolve(d));
      }
      checkDescriptor(opener, root);
      CleanMarker marker = CleanMarker.readAndRemove(opener, root, config.indexFactory().name());
      index = config.indexFactory().open(root.resolve(INDEX_DIR), marker != null);
      FileCustodyStore store = new FileCustodyStore(config, lockChannel, lock, index, marker != null);
      if (marker != null && index.isPopulated()) {
        store.custodyHeldBytes = marker.custodyHeldBytes;
        store.ownHeldBytes = marker.ownHeldBytes;
        store.blobCount = marker.blobCount;
      } else {
        index.clear();
        store.rebuildFromDataFiles();
      }
      for (Path p : listDirectory(store.spoolDir)) {
        Files.deleteIfExists(p); // a killed seal's spool: unreadable (its key died with it) and owned by no one
      }
      store.recoverUploads();
      store.fireEvents();
      return store;
    } catch (IOException | RuntimeException e) {
      if (index != null) {
        closeQuietly(index);
      }
      try {
        lock.release();
      } catch (IOException ignored) {
        // Closing the channel releases it anyway.
      }
      closeQuietly(lockChannel);
      if (e instanceof java.nio.file.DirectoryIteratorException) {
        // getCause() is the IOException the constructor required.
        throw StoreIo.wrap(Objects.requireNonNull(((java.nio.file.DirectoryIteratorException) e).getCause()), root,
            "opening the store");
      }
      if (e instanceof RuntimeException) {
        throw (RuntimeException) e; // a bug, not a disk problem: do not dress it up as an I/O error
      }
      throw StoreIo.wrap((IOException) e, root, "opening the store");
    }
  }

  /** How long an upload may stay idle (no durable progress) before it is discarded; {@link StoreConfig}. */
  public long abandonedUploadAfterMillis() {
    return config.abandonedUploadAfterMillis();
  }

  /**
   * The store's folder. The folder the user named may itself be a link (their choice); the store works in
   * what it points at, and from there on follows no link ({@link NoFollowOpener}).
   */
  private static Path rootOf(StoreConfig config) {
    Path dir = config.directory();
    if (Files.isSymbolicLink(dir)) {
      try {
        return dir.toRealPath();
      } catch (IOException e) {
        return dir; // opening its files then fails with the error that names it
      }
    }
    return dir;
  }

  /**
   * Whether the last close was clean (a valid {@code CLEAN} marker). The index and byte counts were then
   * taken as they were if the index came up populated; an index that cannot prove itself (the portable one
   * never persists; a Chronicle file whose seal does not match) is rebuilt from the data files even so.
   */
  public boolean openedClean() {
    return openedClean;
  }

  private static void checkDescriptor(FileOpener opener, Path root) throws IOException {
    Path p = root.resolve(STORE_FILE);
    byte[] expected = descriptor();
    if (!Files.exists(p)) {
      Path tmp = root.resolve(STORE_FILE + ".tmp");
      try (FileChannel ch = opener.open(tmp, EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING))) {
        StoreIo.writeFully(ch, ByteBuffer.wrap(expected), 0);
        ch.force(true);
      }
      Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE);
      StoreIo.fsyncDirectory(opener, root);
      return;
    }
    byte[] actual = StoreIo.readAtMost(opener, p, expected.length + 1);
    if (actual.length != expected.length || !java.util.Arrays.equals(java.util.Arrays.copyOf(actual, 8), STORE_MAGIC)
        || getU32(actual, 12) != crc(actual, 0, 12)) {
      throw new StoreException(Reason.UNSUPPORTED_FORMAT, p.toString(),
          "not a CrowdBackup store descriptor (or it is damaged); is this the right directory?");
    }
    int version = ((actual[8] & 0xff) << 8) | (actual[9] & 0xff);
    if (version != VERSION) {
      throw new StoreException(Reason.UNSUPPORTED_FORMAT, p.toString(),
          "store format version " + version + ", this code reads version " + VERSION + "; use a matching release");
    }
  }

  private static byte[] descriptor() {
    ByteBuffer b = ByteBuffer.allocate(16);
    b.put(STORE_MAGIC).putShort((short) VERSION).putShort((short) 0);
    b.putInt(crc(b.array(), 0, 12));
    return b.array();
  }

  // ---------------------------------------------------------------------------------------------------
  // Recovery

  private void rebuildFromDataFiles() throws IOException {
    rebuilding = true;
    try {
      rebuildGroups();
    } finally {
      rebuilding = false;
    }
  }

  /**
   * The index failed to take a change that is already durable in the data files (say, a Chronicle Map
   * that filled up under delete-and-refill churn): throw it away and rebuild it from the data files, which
   * already hold the change. Only if a fresh index fails as well does the caller see the error.
   */
  private void recreateIndex(IOException cause) throws IOException {
    if (rebuilding) {
      throw cause;
    }
    closeQuietly(index);
    try {
      index = config.indexFactory().open(root.resolve(INDEX_DIR), false);
      index.clear();
      rebuildFromDataFiles();
    } catch (IOException e) {
      e.addSuppressed(cause);
      throw StoreIo.wrap(e, root.resolve(INDEX_DIR), "rebuilding the index after it failed (" + cause.getMessage()
          + ")");
    }
  }

  /** Puts an entry whose change is already durable on disk; an index failure triggers a rebuild. */
  private void indexPut(IndexEntry e) throws IOException {
    try {
      index.put(e);
    } catch (IOException ex) {
      recreateIndex(ex);
    }
  }

  private void rebuildGroups() throws IOException {
    custodyHeldBytes = 0;
    ownHeldBytes = 0;
    blobCount = 0;
    for (Path group : listDirectory(groupsDir)) {
      long groupStart;
      try {
        groupStart = Long.parseLong(group.getFileName().toString());
      } catch (NumberFormatException e) {
        continue; // Not ours; leave it alone.
      }
      recoverGroup(group, groupStart);
    }
  }

  private void recoverGroup(Path group, long groupStart) throws IOException {
    Map<Fingerprint, BlobFile> files = new HashMap<>();
    Map<Fingerprint, Path> paths = new HashMap<>();
    for (Path p : listDirectory(group)) {
      String name = p.getFileName().toString();
      if (!name.endsWith(BLOB_SUFFIX)) {
        continue;
      }
      BlobFile bf;
      try (FileChannel ch = opener.open(p, EnumSet.of(StandardOpenOption.READ))) {
        bf = BlobFile.read(ch);
      } catch (FormatProblem e) {
        quarantineFile(p, StoreFormat.why(e));
        continue;
      } catch (java.io.EOFException e) {
        quarantineFile(p, StoreFormat.why(e));
        continue;
      }
      if (!name.equals(bf.header.fingerprint.toHex() + BLOB_SUFFIX)) {
        quarantineFile(p, "file name does not match the fingerprint in its header");
        continue;
      }
      files.put(bf.header.fingerprint, bf);
      paths.put(bf.header.fingerprint, p);
    }
    Map<Fingerprint, BlobState> states = new HashMap<>();
    Map<Fingerprint, StateLog.Entry> tombstones = new HashMap<>();
    Path logPath = group.resolve(STATE_LOG);
    StateLog.Contents contents = StateLog.readAll(opener, logPath);
    List<StateLog.Entry> log = contents.entries;
    if (contents.damaged()) {
      keepDamagedLog(logPath, contents.damage);
      StateLog.rewrite(opener, logPath, log);
    } else if (contents.tornTailBytes > 0) {
      StateLog.cutTornTail(opener, logPath);
    }
    for (StateLog.Entry e : log) {
      BlobFile bf = files.get(e.fingerprint);
      if (e.stateCode == BlobState.DELIVERED.ordinal()) {
        tombstones.put(e.fingerprint, e);
        if (bf != null && bf.header.blobId == e.blobId) {
          states.put(e.fingerprint, BlobState.DELIVERED);
        }
      } else if (e.stateCode == STATE_CODE_DELETED) {
        StateLog.Entry t = tombstones.get(e.fingerprint);
        if (t != null && t.blobId == e.blobId) {
          tombstones.remove(e.fingerprint);
        }
      } else if (e.stateCode < BlobState.values().length && bf != null && bf.header.blobId == e.blobId) {
        states.put(e.fingerprint, BlobState.values()[e.stateCode]);
      }
    }
    for (Map.Entry<Fingerprint, BlobFile> f : files.entrySet()) {
      BlobFile bf = f.getValue();
      BlobState state = states.getOrDefault(f.getKey(), BlobState.HELD);
      if (state == BlobState.DELIVERED) {
        // The delivery was logged but the crash came before the file was removed: finish it.
        Files.deleteIfExists(paths.get(f.getKey()));
        continue;
      }
      IndexEntry existing = index.get(f.getKey());
      if (existing != null) {
        // The same fingerprint in two groups: only after a delete that was never acknowledged. Keep the
        // newer generation.
        if (existing.storedAtEpochMillis() >= bf.header.startedAtEpochMillis) {
          Files.deleteIfExists(paths.get(f.getKey()));
          continue;
        }
        removeFromIndex(existing);
        Files.deleteIfExists(blobPath(existing));
      }
      IndexEntry e = new IndexEntry(f.getKey(), bf.header.blobId, groupStart, bf.header.declaredLengthBytes,
          bf.expiresAtEpochSecond, bf.header.startedAtEpochMillis, state, bf.header.kind, bf.header.sourcePeer,
          bf.locator);
      addToIndex(e);
    }
    for (StateLog.Entry t : tombstones.values()) {
      if (index.get(t.fingerprint) == null) {
        indexPut(tombstone(t.fingerprint, t.blobId, groupStart, t.envelopeLengthBytes, t.expiresAtEpochSecond,
            BlobKind.values()[Math.min(t.kindCode, 1)]));
      }
    }
    StoreIo.fsyncDirectory(opener, group);
  }

  private void recoverUploads() throws IOException {
    long nowMillis = config.clock().millis();
    for (Path p : listDirectory(partialDir)) {
      String name = p.getFileName().toString();
      if (name.endsWith(JOURNAL_SUFFIX)) {
        Path part = partialDir.resolve(name.substring(0, name.length() - JOURNAL_SUFFIX.length()) + PART_SUFFIX);
        if (!Files.exists(part)) {
          Files.deleteIfExists(p); // Begin crashed before its data file, or commit moved it away.
        }
        continue;
      }
      if (name.endsWith(TAIL_SUFFIX)) {
        continue; // removed below if its upload is not kept
      }
      if (!name.endsWith(PART_SUFFIX)) {
        continue;
      }
      Path journal = partialDir.resolve(name.substring(0, name.length() - PART_SUFFIX.length()) + JOURNAL_SUFFIX);
      RecordHeader h;
      RecordHeader dataHeader;
      try (FileChannel jc = opener.open(journal, EnumSet.of(StandardOpenOption.READ));
          FileChannel dc = opener.open(p, EnumSet.of(StandardOpenOption.READ))) {
        h = BlobFile.readHeader(jc, JOURNAL_MAGIC);
        dataHeader = BlobFile.readHeader(dc, BLOB_MAGIC);
      } catch (IOException | FormatProblem e) {
        // No journal, or a header that does not decode: nothing proves what the data file holds.
        h = null;
        dataHeader = null;
      }
      // The journal describes the data file only if both headers are the same record and the files are
      // named for its fingerprint. Anything else (fuzz finding F6: a journal header of another length)
      // would make resume write envelope bytes at the wrong offset. Start such an upload over.
      if (h == null || dataHeader == null || !h.sameRecordAs(dataHeader)
          || !name.equals(h.fingerprint.toHex() + PART_SUFFIX)) {
        Files.deleteIfExists(p);
        Files.deleteIfExists(journal);
        continue;
      }
      IndexEntry existing = index.get(h.fingerprint);
      if (existing != null || uploads.containsKey(h.fingerprint)) {
        Files.deleteIfExists(p);
        Files.deleteIfExists(journal);
        continue;
      }
      PartialUpload u = new PartialUpload(h, p, journal);
      u.durableOffset = UploadImpl.durableOffsetOf(this, u);
      if (u.durableOffset == 0) {
        // Never checkpointed: it promised nothing, and what a crash left of it must not hold a reservation
        // (a killed one-shot put, which checkpoints only every 4,096 pieces, ends here).
        Files.deleteIfExists(p);
        Files.deleteIfExists(journal);
        continue;
      }
      // Idle time counts across restarts: each command of a CLI is a fresh open, so a window that
      // restarted at open would keep a killed upload's reservation for ever.
      u.lastActivityMillis = lastProgressMillis(journal, nowMillis);
      if (nowMillis - u.lastActivityMillis > config.abandonedUploadAfterMillis()) {
        Files.deleteIfExists(p);
        Files.deleteIfExists(journal);
        continue;
      }
      uploads.put(h.fingerprint, u);
    }
    for (Path p : listDirectory(partialDir)) {
      String name = p.getFileName().toString();
      if (name.endsWith(TAIL_SUFFIX) && !Files.exists(partialDir.resolve(
          name.substring(0, name.length() - TAIL_SUFFIX.length()) + PART_SUFFIX))) {
        Files.deleteIfExists(p); // its upload was removed above, or by a process killed while removing it
      }
    }
    StoreIo.fsyncDirectory(opener, partialDir);
  }

  /**
   * When an upload last made progress durable, in store time: each checkpoint stamps it on the journal's
   * modification time ({@link #recordProgress}). A stamp later than now (a clock set back) counts as now.
   */
  private static long lastProgressMillis(Path journal, long nowMillis) {
    try {
      return Math.min(nowMillis, Files.getLastModifiedTime(journal, java.nio.file.LinkOption.NOFOLLOW_LINKS)
          .toMillis());
    } catch (IOException e) {
      return nowMillis; // unreadable: give the sender its full window rather than drop its upload early
    }
  }

  /**
   * Records that {@code u} made progress durable at {@code nowMillis} (store time, so custody time under a
   * custodian): in memory, and on the journal's modification time so that it survives a restart. The
   * stamp is best effort: without it the file system's own time of the journal write stands in, which is
   * the wall clock the custody clock follows.
   */
  void recordProgress(PartialUpload u, long nowMillis) {
    synchronized (mu) {
      u.lastActivityMillis = nowMillis;
    }
    try {
      Files.setLastModifiedTime(u.journalPath, java.nio.file.attribute.FileTime.fromMillis(nowMillis));
    } catch (IOException | RuntimeException ignored) {
      // Best effort, see above.
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Listener calls, outside the locks

  /** Queues a listener call; runs under {@link #mu}, so calls queue in the order the changes happened. */
  private void emit(Runnable call) {
    if (listening) {
      events.add(call);
      eventsQueued.incrementAndGet();
    }
  }

  /**
   * Runs the queued listener calls, outside {@link #mu}: one thread at a time, in order. Every public
   * operation calls it before it returns, so a caller has been heard by the listener when its change
   * returns (another thread may have made the call for it). It runs the calls queued up to its own, not
   * those queued after (their operations run them), and returns at once if another thread has run them
   * already: under many writers every operation taking the turn made them queue behind each other. The
   * first exception a call this thread runs throws is passed on after the rest have run.
   */
  void fireEvents() {
    long mine = eventsQueued.get(); // every call this thread queued is counted in it
    if (eventsRun.get() >= mine) {
      return;
    }
    RuntimeException first = null;
    synchronized (listenerTurn) {
      while (eventsRun.get() < mine) {
        Runnable call;
        synchronized (mu) {
          call = events.poll();
        }
        if (call == null) {
          break;
        }
        try {
          call.run();
        } catch (RuntimeException e) {
          if (first == null) {
            first = e;
          }
        } finally {
          eventsRun.incrementAndGet(); // after the call: a reader that sees the count knows it ran
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Uploads

  @Override
  public BlobStat put(UploadRequest request, ReadableByteChannel in) throws IOException {
    UploadImpl u = (UploadImpl) begin(request, true);
    boolean done = false;
    try {
      BlobStat stat = u.putAll(in);
      done = true;
      return stat;
    } finally {
      if (!done) {
        try {
          u.abort();
        } catch (IOException ignored) {
          // The original failure is the one to report; a leftover partial is removed on the next open.
        }
      }
    }
  }

  @Override
  public Upload begin(UploadRequest request) throws IOException {
    return begin(request, false);
  }

  private Upload begin(UploadRequest request, boolean oneShot) throws IOException {
    Fingerprint fp = request.fingerprint();
    PartialUpload u;
    long blobId = random.nextLong(); // outside the monitor: SecureRandom has a lock (and a file) of its own
    synchronized (mu) {
      ensureOpen();
      IndexEntry e = index.get(fp);
      if (e != null) {
        throw e.state() == BlobState.DELIVERED
            ? new StoreException(Reason.DELIVERED, null, "blob " + fp + " was delivered; it is remembered "
                + "until " + RetentionPolicy.isoInstant(e.expiresAtEpochSecond()) + " so it is not taken again")
            : new StoreException(Reason.DUPLICATE, blobPath(e).toString(), "blob " + fp + " is already stored");
      }
      PartialUpload inProgress = uploads.get(fp);
      if (inProgress != null) {
        throw new StoreException(Reason.DUPLICATE, partialDir.toString(), "an upload of " + fp + " is already in "
            + "progress (" + inProgress.durableOffset + " of " + inProgress.header.declaredLengthBytes + " bytes durable"
            + (inProgress.attached ? ", open in another handle" : "") + "); resume it (resume) or discard it "
            + "(abortUpload); left idle, it is discarded " + config.abandonedUploadAfterMillis() / 60_000
            + " min after its last progress");
      }
      RecordHeader h = new RecordHeader(fp, blobId, request.declaredLengthBytes(),
          request.expiresNoLaterThanEpochSecond(), config.clock().millis(), request.kind(), request.sourcePeer());
      u = new PartialUpload(h, partialDir.resolve(fp.toHex() + PART_SUFFIX),
          partialDir.resolve(fp.toHex() + JOURNAL_SUFFIX));
      u.attached = true;
      u.lastActivityMillis = h.startedAtEpochMillis;
      uploads.put(fp, u);
      UploadInfo started = info(u);
      emit(() -> config.listener().uploadStarted(started));
    }
    try {
      return UploadImpl.create(this, u, oneShot);
    } catch (IOException | RuntimeException e) {
      try {
        discard(u, StoreListener.UploadEnd.ABORTED);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e instanceof IOException ? StoreIo.wrap((IOException) e, u.dataPath, "beginning an upload")
          : new StoreException(Reason.IO_ERROR, u.dataPath.toString(), "beginning an upload failed: " + e, e);
    } finally {
      fireEvents();
    }
  }

  /**
   * Begins one of this device's own envelopes whose fingerprint (and length) is not known yet: a sealer
   * writes into it, and {@link SealingUpload#commit} files it under the fingerprint its bytes hash to.
   * Not resumable: a crash before the commit leaves a data file without journal, which the next open
   * removes. Counted in {@link #usage()} as an own upload from the start (its length once the envelope's
   * header has declared it), never listed in {@link #uploads()} (it has no fingerprint to list).
   */
  public SealingUpload beginOwnSeal() throws IOException {
    long startedAtMillis;
    synchronized (mu) {
      ensureOpen();
      sealsInProgress++;
      startedAtMillis = config.clock().millis();
    }
    Path data = partialDir.resolve(SealingUpload.FILE_PREFIX + Long.toHexString(random.nextLong()) + PART_SUFFIX);
    try {
      return SealingUpload.create(this, data, startedAtMillis);
    } catch (IOException | RuntimeException e) {
      sealEnded(-1);
      throw e instanceof IOException ? StoreIo.wrap((IOException) e, data, "beginning a seal into the store")
          : new StoreException(Reason.IO_ERROR, data.toString(), "beginning a seal failed: " + e, e);
    }
  }

  /** Where a seal of a plaintext of unknown length spools it: inside the store, emptied at every open. */
  public Path spoolDirectory() {
    return spoolDir;
  }

  /** A seal's header declared its envelope length: counted as reserved from now on. */
  void sealDeclared(long envelopeLengthBytes) {
    synchronized (mu) {
      sealsDeclaredBytes += envelopeLengthBytes;
    }
  }

  /** A seal ended uncommitted, or became an ordinary upload; {@code declaredBytes} -1 if it never declared one. */
  void sealEnded(long declaredBytes) {
    synchronized (mu) {
      sealsInProgress--;
      if (declaredBytes > 0) {
        sealsDeclaredBytes -= declaredBytes;
      }
    }
  }

  /**
   * A finished seal becomes an ordinary own upload under its fingerprint, ready to {@link #publish}: checked
   * against what the store holds, remembers and has in progress, exactly as {@link #begin} checks.
   */
  PartialUpload registerSeal(Fingerprint fp, long envelopeLengthBytes, long startedAtMillis, Path dataPath)
      throws IOException {
    PartialUpload u;
    try {
      synchronized (mu) {
        ensureOpen();
        IndexEntry e = index.get(fp);
        if (e != null || uploads.containsKey(fp)) {
          throw new StoreException(e != null && e.state() == BlobState.DELIVERED ? Reason.DELIVERED
              : Reason.DUPLICATE, dataPath.toString(), "the sealed envelope's fingerprint " + fp + " is already "
              + (e == null ? "being uploaded" : e.state() == BlobState.DELIVERED ? "remembered as delivered"
                  : "stored") + "; nothing was stored");
        }
        RecordHeader h = new RecordHeader(fp, random.nextLong(), envelopeLengthBytes, Long.MAX_VALUE, startedAtMillis,
            BlobKind.OWN, "");
        // Never opened: a seal has no journal, and publish leaves the journal of a one-shot upload alone.
        u = new PartialUpload(h, dataPath, partialDir.resolve(dataPath.getFileName() + JOURNAL_SUFFIX));
        u.attached = true;
        u.lastActivityMillis = config.clock().millis();
        uploads.put(fp, u);
        sealEnded(envelopeLengthBytes); // counted from here on as the upload just listed
        UploadInfo started = info(u);
        emit(() -> config.listener().uploadStarted(started));
      }
    } finally {
      fireEvents();
    }
    return u;
  }

  @Override
  public Upload resume(Fingerprint fingerprint) throws IOException {
    PartialUpload u;
    synchronized (mu) {
      ensureOpen();
      u = uploads.get(fingerprint);
      if (u == null || u.discarding) {
        throw new StoreException(Reason.NOT_FOUND, partialDir.toString(),
            "no upload of " + fingerprint + " to resume (never begun, committed, aborted or abandoned)");
      }
      if (u.attached) {
        throw new StoreException(Reason.DUPLICATE, u.dataPath.toString(),
            "the upload of " + fingerprint + " is open in another handle; close that first");
      }
      u.attached = true;
    }
    try {
      return UploadImpl.reopen(this, u);
    } catch (IOException | RuntimeException e) {
      synchronized (mu) {
        u.attached = false;
      }
      throw e instanceof IOException ? StoreIo.wrap((IOException) e, u.dataPath, "resuming an upload")
          : new StoreException(Reason.IO_ERROR, u.dataPath.toString(), "resuming an upload failed: " + e, e);
    }
  }

  @Override
  public List<UploadInfo> uploads() throws IOException {
    synchronized (mu) {
      ensureOpen();
      List<UploadInfo> out = new ArrayList<>();
      for (PartialUpload u : uploads.values()) {
        out.add(info(u));
      }
      return out;
    }
  }

  @Override
  public boolean abortUpload(Fingerprint fingerprint) throws IOException {
    PartialUpload u;
    synchronized (mu) {
      ensureOpen();
      u = uploads.get(fingerprint);
      if (u == null || u.discarding) {
        return false;
      }
      if (u.attached) {
        throw new StoreException(Reason.DUPLICATE, u.dataPath.toString(), "the upload of " + fingerprint
            + " is open in a handle; abort it through that handle");
      }
    }
    try {
      discard(u, StoreListener.UploadEnd.ABORTED);
    } catch (IOException e) {
      throw StoreIo.wrap(e, u.dataPath, "removing the aborted upload");
    } finally {
      fireEvents();
    }
    StoreIo.fsyncDirectory(opener, partialDir);
    return true;
  }

  /** For tests of the abort race: runs right after an upload left the list of uploads. */
  volatile @Nullable Runnable afterUploadForgotten;

  /**
   * Removes an upload's files, then forgets it. While its files are deleted (outside the lock) the upload
   * stays listed, marked as being discarded, so a begin of the same fingerprint is refused rather than
   * meeting its leftovers. The caller fsyncs the partial directory and fires the listener calls.
   */
  private void discard(PartialUpload u, StoreListener.UploadEnd how) throws IOException {
    synchronized (mu) {
      u.discarding = true;
    }
    try {
      Files.deleteIfExists(u.dataPath);
      Files.deleteIfExists(u.journalPath);
      Files.deleteIfExists(u.tailPath);
    } catch (IOException e) {
      synchronized (mu) {
        u.discarding = false; // still listed: the next drop or open removes it
      }
      throw e;
    }
    synchronized (mu) {
      if (uploads.remove(u.header.fingerprint, u)) {
        UploadInfo ended = info(u);
        emit(() -> config.listener().uploadEnded(ended, how));
      }
    }
    Runnable hook = afterUploadForgotten;
    if (hook != null) {
      hook.run();
    }
  }

  /**
   * Called by an upload once its file is complete, fsynced and checked: make it visible. The rename and
   * the directory fsync run outside {@link #mu}; the fsync is shared with every other commit and delete in
   * the same group that is waiting for one ({@link DirectorySync}). Until its index entry is added the blob
   * is not visible, and its fingerprint stays listed as an upload, so no begin of it can start.
   */
  BlobStat publish(PartialUpload u, long expiresAtEpochSecond, String locator, boolean oneShot)
      throws IOException {
    synchronized (mu) {
      ensureOpen();
      publishing++;
    }
    try {
      return publishOpen(u, expiresAtEpochSecond, locator, oneShot);
    } finally {
      synchronized (mu) {
        publishing--;
        mu.notifyAll();
      }
      fireEvents();
    }
  }

  private BlobStat publishOpen(PartialUpload u, long expiresAtEpochSecond, String locator, boolean oneShot)
      throws IOException {
    long span = config.expiryGroupSeconds();
    long groupStart = Math.floorDiv(expiresAtEpochSecond, span) * span;
    Path group = groupsDir.resolve(Long.toString(groupStart));
    Path target = group.resolve(u.header.fingerprint.toHex() + BLOB_SUFFIX);
    boolean moved = false;
    groupsLock.readLock().lock();
    try {
      if (!NoFollowOpener.isDirectoryNotLink(group)) {
        Files.createDirectories(group);
        StoreIo.fsyncDirectory(opener, groupsDir);
      }
      Files.move(u.dataPath, target, StandardCopyOption.ATOMIC_MOVE);
      moved = true;
      syncDirectory(group);
    } catch (IOException e) {
      if (moved) {
        // The rename happened but is not known to be durable: undo it, so that nothing unacknowledged is
        // visible, and leave the upload resumable.
        try {
          Files.move(target, u.dataPath, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException undo) {
          Files.deleteIfExists(target);
          Files.deleteIfExists(u.journalPath);
          synchronized (mu) {
            if (uploads.remove(u.header.fingerprint, u)) {
              UploadInfo ended = info(u);
              emit(() -> config.listener().uploadEnded(ended, StoreListener.UploadEnd.ABORTED));
            }
          }
        }
      }
      throw StoreIo.wrap(e, target, "committing the blob (nothing was stored)");
    } finally {
      groupsLock.readLock().unlock();
    }
    IndexEntry e = new IndexEntry(u.header.fingerprint, u.header.blobId, groupStart, u.header.declaredLengthBytes,
        expiresAtEpochSecond, u.header.startedAtEpochMillis, BlobState.HELD, u.header.kind, u.header.sourcePeer,
        locator);
    BlobStat stat;
    synchronized (mu) {
      uploads.remove(u.header.fingerprint, u);
      UploadInfo ended = info(u);
      emit(() -> config.listener().uploadEnded(ended, StoreListener.UploadEnd.COMMITTED));
      addToIndex(e);
      stat = e.toStat(nowEpochSecond());
      emit(() -> config.listener().blobAdded(stat));
    }
    if (!oneShot) {
      try {
        Files.deleteIfExists(u.journalPath);
        Files.deleteIfExists(u.tailPath);
      } catch (IOException ignored) {
        // Harmless: a journal or tail without its data file is removed on the next open.
      }
    }
    return stat;
  }

  /** Makes {@code dir}'s entries durable, sharing the fsync with whoever else in it is waiting for one. */
  private void syncDirectory(Path dir) throws IOException {
    dirSyncs.computeIfAbsent(dir, d -> new DirectorySync(opener, d)).sync();
  }

  /**
   * Runs an upload's fsyncs on the store's flush-behind thread: a flush behind
   * ({@link StoreConfig#flushBehindBytes}) or a checkpoint behind. The caller must wait for the result before
   * it fsyncs the file itself or closes it: on Linux an fsync error is reported once per open file, so a
   * failure seen here is the only report of it.
   */
  java.util.concurrent.Future<Void> flushBehind(java.util.concurrent.Callable<Void> fsyncs) throws StoreException {
    synchronized (mu) {
      ensureOpen();
      if (flusher == null) {
        flusher = daemonThreads("crowdbackup-flush-behind ", false);
      }
      return flusher.submit(fsyncs);
    }
  }

  /** Runs a put's writer ({@link UploadImpl#putAll}) on one of the store's writer threads. */
  java.util.concurrent.Future<Void> startWriter(java.util.concurrent.Callable<Void> writer) throws StoreException {
    synchronized (mu) {
      ensureOpen();
      if (writers == null) {
        writers = daemonThreads("crowdbackup-writer ", true);
      }
      return writers.submit(writer);
    }
  }

  private java.util.concurrent.ExecutorService daemonThreads(String name, boolean many) {
    java.util.concurrent.ThreadFactory f = r -> {
      Thread t = new Thread(r, name + root.getFileName());
      t.setDaemon(true);
      return t;
    };
    return many ? java.util.concurrent.Executors.newCachedThreadPool(f)
        : java.util.concurrent.Executors.newSingleThreadExecutor(f);
  }

  /** An upload's handle aborted it: its files go, then it is forgotten (see {@link #discard}). */
  void abortFromHandle(PartialUpload u) throws IOException {
    try {
      discard(u, StoreListener.UploadEnd.ABORTED);
    } finally {
      fireEvents();
    }
    StoreIo.fsyncDirectory(opener, partialDir);
  }

  private static UploadInfo info(PartialUpload u) {
    return new UploadInfo(u.header.toRequest(), u.durableOffset, u.header.startedAtEpochMillis,
        u.lastActivityMillis);
  }

  /** Queues the listener's {@code blobRemoved}; under {@link #mu}. */
  private void removed(IndexEntry e, StoreListener.Removal why) {
    if (e.state().hasBytes()) {
      BlobStat stat = e.toStat(nowEpochSecond());
      emit(() -> config.listener().blobRemoved(stat, why));
    }
  }

  void detach(PartialUpload u) {
    synchronized (mu) {
      u.attached = false;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Reads

  @Override
  public ReadableByteChannel open(Fingerprint fingerprint) throws IOException {
    IndexEntry e;
    synchronized (mu) {
      ensureOpen();
      e = servable(fingerprint);
    }
    try {
      return BlobReader.open(this, e);
    } catch (BlobReader.IndexDisagrees wrong) {
      // The index is derived and wrong about this blob (a bug or memory corruption; a damaged persisted
      // index is caught at open): rebuild it from the data files and answer from the rebuilt one, once.
      synchronized (mu) {
        ensureOpen();
        IndexEntry now = index.get(fingerprint);
        if (e.equals(now)) {
          recreateIndex(wrong);
        }
        e = servable(fingerprint);
      }
      try {
        return BlobReader.open(this, e);
      } catch (BlobReader.IndexDisagrees again) {
        throw new StoreException(Reason.IO_ERROR, again.path.toString(), again.getMessage()
            + ", even after the index was rebuilt from the data files; this is a bug, please report it", again);
      }
    } finally {
      fireEvents(); // a rebuild may have quarantined files
    }
  }

  @Override
  public void verify(Fingerprint fingerprint) throws IOException {
    try (ReadableByteChannel ch = open(fingerprint)) {
      ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
      while (ch.read(buf) >= 0) {
        ((Buffer) buf).clear();
      }
    }
  }

  private IndexEntry servable(Fingerprint fingerprint) throws IOException {
    IndexEntry e = index.get(fingerprint);
    if (e == null || !e.state().hasBytes()) {
      throw new StoreException(Reason.NOT_FOUND, null, "no stored blob " + fingerprint
          + (e == null ? "" : " (it was " + e.state().name().toLowerCase(java.util.Locale.ROOT) + ")"));
    }
    if (e.expiresAtEpochSecond() <= nowEpochSecond()) {
      throw new StoreException(Reason.PAST_EXPIRY, blobPath(e).toString(),
          "blob " + fingerprint + " expired at " + RetentionPolicy.isoInstant(e.expiresAtEpochSecond())
              + "; it is never served");
    }
    return e;
  }

  @Override
  public @Nullable BlobStat stat(Fingerprint fingerprint) throws IOException {
    synchronized (mu) {
      ensureOpen();
      IndexEntry e = index.get(fingerprint);
      return e == null ? null : e.toStat(nowEpochSecond());
    }
  }

  @Override
  public boolean contains(Fingerprint fingerprint) throws IOException {
    synchronized (mu) {
      ensureOpen();
      IndexEntry e = index.get(fingerprint);
      return e != null && e.state().hasBytes() && e.expiresAtEpochSecond() > nowEpochSecond();
    }
  }

  @Override
  public List<BlobStat> list() throws IOException {
    synchronized (mu) {
      ensureOpen();
      long now = nowEpochSecond();
      List<BlobStat> out = new ArrayList<>();
      index.forEach(e -> out.add(e.toStat(now)));
      return out;
    }
  }

  @Override
  public List<BlobStat> listByLocator(String locator) throws IOException {
    List<BlobStat> out = new ArrayList<>();
    synchronized (mu) {
      ensureOpen();
      long now = nowEpochSecond();
      index.forEach(e -> {
        if (e.locator().equals(locator)) {
          out.add(e.toStat(now));
        }
      });
    }
    out.sort(Comparator.comparingLong(BlobStat::expiresAtEpochSecond));
    return out;
  }

  @Override
  public List<BlobStat> listByState(BlobState state) throws IOException {
    synchronized (mu) {
      ensureOpen();
      long now = nowEpochSecond();
      List<BlobStat> out = new ArrayList<>();
      index.forEach(e -> {
        BlobStat s = e.toStat(now);
        if (s.state() == state) {
          out.add(s);
        }
      });
      return out;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // State changes: one blob's changes are serialised by its stripe of {@link #blobLocks}; their disk work
  // runs outside {@link #mu}.

  /**
   * The index entry of {@code fingerprint} if it is still the one {@code e} names (same upload); under
   * {@link #mu}. A change decided on {@code e} applies only to that generation of the blob.
   */
  private boolean stillIndexed(IndexEntry e) throws IOException {
    IndexEntry now = index.get(e.fingerprint());
    return now != null && now.blobId() == e.blobId() && now.groupEpochSecond() == e.groupEpochSecond();
  }

  @Override
  public BlobStat transition(Fingerprint fingerprint, BlobState next) throws IOException {
    groupsLock.readLock().lock();
    blobLock(fingerprint).lock();
    try {
      return transitionLocked(fingerprint, next);
    } finally {
      blobLock(fingerprint).unlock();
      groupsLock.readLock().unlock();
      fireEvents();
    }
  }

  private BlobStat transitionLocked(Fingerprint fingerprint, BlobState next) throws IOException {
    IndexEntry e;
    synchronized (mu) {
      ensureOpen();
      e = index.get(fingerprint);
      if (e == null) {
        throw new StoreException(Reason.NOT_FOUND, null, "no blob " + fingerprint);
      }
      if (!e.state().canMoveTo(next)) {
        throw new StoreException(Reason.ILLEGAL_STATE_TRANSITION, null,
            "blob " + fingerprint + " is " + e.state() + " and cannot become " + next);
      }
    }
    // Only this thread changes the entry now (its stripe); a commit of the same fingerprint cannot start
    // while it is indexed.
    Path file = blobPath(e);
    if (next == BlobState.EXPIRED) {
      // Expiring one blob early is removing it; its group would drop it anyway.
      deleteBlobFile(e);
      synchronized (mu) {
        removeFromIndex(e);
        removed(e, StoreListener.Removal.EXPIRED);
        return e.withState(BlobState.EXPIRED).toStat(nowEpochSecond());
      }
    }
    try {
      appendState(file.resolveSibling(STATE_LOG), new StateLog.Entry(fingerprint, e.blobId(),
          next.ordinal(), e.kind().ordinal(), e.envelopeLengthBytes(), e.expiresAtEpochSecond()));
    } catch (IOException ex) {
      throw StoreIo.wrap(ex, file.resolveSibling(STATE_LOG), "recording the state change to " + next);
    }
    IndexEntry updated = next == BlobState.DELIVERED ? tombstone(e.fingerprint(), e.blobId(), e.groupEpochSecond(),
        e.envelopeLengthBytes(), e.expiresAtEpochSecond(), e.kind()) : e.withState(next);
    BlobStat stat;
    synchronized (mu) {
      if (next == BlobState.DELIVERED) {
        // The log entry is durable: from here on the blob is delivered even if removing the file fails.
        removeFromIndex(e);
        indexPut(updated);
        removed(e, StoreListener.Removal.DELIVERED);
      } else {
        indexPut(updated);
      }
      stat = updated.toStat(nowEpochSecond());
    }
    if (next == BlobState.DELIVERED) {
      deleteBlobFile(e); // the tombstone keeps a begin of it out meanwhile
    }
    return stat;
  }

  @Override
  public boolean delete(Fingerprint fingerprint) throws IOException {
    groupsLock.readLock().lock();
    blobLock(fingerprint).lock();
    try {
      IndexEntry e;
      synchronized (mu) {
        ensureOpen();
        e = index.get(fingerprint);
        if (e == null) {
          return false;
        }
      }
      // The file goes first, the entry after: while it is indexed, no commit of the same fingerprint can
      // start and put a new file where this one is being deleted.
      if (e.state().hasBytes()) {
        deleteBlobFile(e);
      } else {
        Path log = groupsDir.resolve(Long.toString(e.groupEpochSecond())).resolve(STATE_LOG);
        try {
          appendState(log, new StateLog.Entry(fingerprint, e.blobId(), STATE_CODE_DELETED,
              e.kind().ordinal(), e.envelopeLengthBytes(), e.expiresAtEpochSecond()));
        } catch (IOException ex) {
          throw StoreIo.wrap(ex, log, "recording the delete");
        }
      }
      synchronized (mu) {
        if (stillIndexed(e)) {
          removeFromIndex(e);
          removed(e, StoreListener.Removal.DELETED);
        }
      }
      return true;
    } finally {
      blobLock(fingerprint).unlock();
      groupsLock.readLock().unlock();
      fireEvents();
    }
  }
  /**
   * What is remembered of a delivered blob until its expiry: enough to refuse it again and to count it.
   * Its peer, locator and upload time are not kept (the state log entry that proves the delivery is fixed
   * size), so they read as "" and 0 whether or not the index was rebuilt.
   */
  private static IndexEntry tombstone(Fingerprint fp, long blobId, long groupStart, long length, long expires,
      BlobKind kind) {
    return new IndexEntry(fp, blobId, groupStart, length, expires, 0, BlobState.DELIVERED, kind, "", "");
  }

  /** Deletes a blob's file and makes that durable (the directory fsync shared with the group's commits). */
  private void deleteBlobFile(IndexEntry e) throws StoreException {
    Path file = blobPath(e);
    try {
      Files.deleteIfExists(file);
      syncDirectory(StoreIo.parentOf(file));
    } catch (IOException ex) {
      throw StoreIo.wrap(ex, file, "removing the blob file");
    }
  }

  @Override
  public long dropExpired(long nowEpochSecond) throws IOException {
    drops.lock();
    try {
      synchronized (mu) {
        ensureOpen();
      }
      long dropped = 0;
      long span = config.expiryGroupSeconds();
      for (Path group : listDirectory(groupsDir)) {
        long groupStart;
        try {
          groupStart = Long.parseLong(group.getFileName().toString());
        } catch (NumberFormatException e) {
          continue;
        }
        if (groupStart > nowEpochSecond) {
          continue; // Nothing in it has expired: not even listed.
        }
        boolean whole = groupStart + span <= nowEpochSecond;
        // A group that may be deleted whole is dropped with commits into it held off (a commit between
        // its rename and its index entry would otherwise look like a stray file); other groups are
        // dropped beside commits.
        java.util.concurrent.locks.Lock held = whole ? groupsLock.writeLock() : null;
        if (held != null) {
          held.lock();
        }
        try {
          dropped += dropFromGroup(group, groupStart, whole, nowEpochSecond);
        } catch (IOException e) {
          throw StoreIo.wrap(e, group, "dropping expired blobs");
        } finally {
          if (held != null) {
            held.unlock();
          }
        }
      }
      dropAbandonedUploads();
      return dropped;
    } finally {
      drops.unlock();
      fireEvents();
    }
  }

  /**
   * Drops what expired in one group. Even in a group whose whole window has passed, each blob's own
   * expiry is checked against the index (one lookup per file listed, still the cost of what expired), so
   * a store reopened with a narrower {@code expiryGroupSeconds} never drops a blob early. Index work runs
   * under {@link #mu}, file work outside it.
   */
  private long dropFromGroup(Path group, long groupStart, boolean whole, long nowEpochSecond) throws IOException {
    long dropped = 0;
    boolean keptAny = false;
    for (Path p : listDirectory(group)) {
      String name = p.getFileName().toString();
      if (!name.endsWith(BLOB_SUFFIX)) {
        continue;
      }
      Fingerprint fp;
      try {
        fp = Fingerprint.fromHex(name.substring(0, name.length() - BLOB_SUFFIX.length()));
      } catch (IllegalArgumentException ex) {
        continue;
      }
      java.util.concurrent.locks.ReentrantLock blob = blobLock(fp);
      blob.lock();
      try {
        int outcome = dropFile(p, fp, groupStart, whole, nowEpochSecond);
        if (outcome > 0) {
          dropped++;
        }
        if (outcome < 0) {
          keptAny = true;
        }
      } finally {
        blob.unlock();
      }
    }
    // Tombstones of this group: remembered only until their expiry.
    for (StateLog.Entry t : StateLog.read(opener, group.resolve(STATE_LOG))) {
      synchronized (mu) {
        IndexEntry e = index.get(t.fingerprint);
        if (e != null && e.state() == BlobState.DELIVERED && e.groupEpochSecond() == groupStart) {
          if (e.expiresAtEpochSecond() <= nowEpochSecond) {
            index.remove(t.fingerprint);
          } else {
            keptAny = true;
          }
        }
      }
    }
    if (whole && !keptAny) {
      Files.deleteIfExists(group.resolve(STATE_LOG));
      for (Path leftover : listDirectory(group)) {
        Files.deleteIfExists(leftover);
      }
      Files.deleteIfExists(group);
      dirSyncs.remove(group);
      stateLogLocks.remove(group.resolve(STATE_LOG));
      StoreIo.fsyncDirectory(opener, groupsDir);
    } else {
      syncDirectory(group);
    }
    return dropped;
  }

  /**
   * One blob file of a group being dropped, under its fingerprint's stripe: 1 if an expired blob was
   * dropped, -1 if the file stays, 0 otherwise (a stray file removed, or not ours to judge).
   */
  private int dropFile(Path p, Fingerprint fp, long groupStart, boolean whole, long nowEpochSecond)
      throws IOException {
    IndexEntry indexed;
    synchronized (mu) {
      indexed = index.get(fp);
    }
    IndexEntry e = indexed != null && indexed.groupEpochSecond() == groupStart ? indexed : null; // ours, or null
    if (e != null && e.expiresAtEpochSecond() > nowEpochSecond) {
      return -1;
    }
    if (e == null && !whole) {
      return 0; // perhaps a commit between its rename and its index entry: not ours to judge
    }
    if (e != null && !whole && e.state().hasBytes() && outlives(p, nowEpochSecond)) {
      // The index says expired, the file's own footer says not: the index is derived and wrong (the
      // reasoning of fuzz finding F11). Keep the file and rebuild the index from the data files.
      synchronized (mu) {
        recreateIndex(new IOException("the index says blob " + fp + " expired at " + e.expiresAtEpochSecond()
            + ", its file " + p + " says later"));
      }
      return -1;
    }
    // File first, entry after (as in delete): while it is indexed no commit of it can start.
    Files.deleteIfExists(p);
    if (e != null) {
      synchronized (mu) {
        if (stillIndexed(e)) {
          removeFromIndex(e);
          if (e.state().hasBytes()) {
            removed(e, StoreListener.Removal.EXPIRED);
            return 1;
          }
        }
      }
    }
    return 0;
  }


  /**
   * Whether the blob file's own footer puts its expiry after {@code nowEpochSecond}. Read only for blobs
   * about to be dropped from a group whose window has not passed, so it costs what expires early.
   */
  private boolean outlives(Path file, long nowEpochSecond) {
    try (FileChannel ch = opener.open(file, EnumSet.of(StandardOpenOption.READ))) {
      return BlobFile.read(ch).expiresAtEpochSecond > nowEpochSecond;
    } catch (IOException | FormatProblem e) {
      return false; // a file that fails its own checks proves nothing; it goes as the index says
    }
  }

  private void dropAbandonedUploads() throws IOException {
    long now = config.clock().millis();
    List<PartialUpload> stale = new ArrayList<>();
    synchronized (mu) {
      for (PartialUpload u : uploads.values()) {
        if (!u.attached && !u.discarding && now - u.lastActivityMillis > config.abandonedUploadAfterMillis()) {
          stale.add(u);
        }
      }
    }
    for (PartialUpload u : stale) {
      discard(u, StoreListener.UploadEnd.ABANDONED);
    }
    if (!stale.isEmpty()) {
      StoreIo.fsyncDirectory(opener, partialDir);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Quarantine

  /** Moves a corrupt blob aside and forgets it; the caller then reports {@link Reason#CORRUPT}. */
  StoreException quarantine(IndexEntry e, String why) {
    Path file = blobPath(e);
    Path moved;
    groupsLock.readLock().lock();
    blobLock(e.fingerprint()).lock();
    try {
      synchronized (mu) {
        try {
          IndexEntry current = index.get(e.fingerprint());
          if (current != null && current.blobId() == e.blobId() && current.state().hasBytes()) {
            removeFromIndex(current);
            removed(current, StoreListener.Removal.QUARANTINED);
          }
        } catch (IOException ignored) {
          // The index is derived; a failed removal only means a rebuild finds the file gone.
        }
      }
      moved = quarantineFile(file, why);
    } finally {
      blobLock(e.fingerprint()).unlock();
      groupsLock.readLock().unlock();
      fireEvents();
    }
    return new StoreException(Reason.CORRUPT, file.toString(), "blob " + e.fingerprint() + " failed verification ("
        + why + "); moved to " + moved + " and no longer served. Likely a disk or memory fault: check the device.");
  }

  private Path quarantineFile(Path file, String why) {
    long now = config.clock().millis();
    Path target = quarantineDir.resolve(file.getFileName() + "." + now);
    Path moved;
    try {
      Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
      writeWhy(target, why);
      StoreIo.fsyncDirectory(opener, StoreIo.parentOf(file));
      moved = target;
    } catch (IOException ex) {
      // Could not move it: delete it rather than risk serving it after a restart.
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // Nothing more to do; the index no longer lists it.
      }
      moved = file;
      why = why + " (it could not be moved to quarantine and was deleted: " + ex.getMessage() + ")";
    }
    QuarantinedBlob q = new QuarantinedBlob(fingerprintNamed(file.getFileName().toString()),
        target.getFileName().toString(), now, why);
    synchronized (mu) {
      quarantinedSinceOpen++;
      emit(() -> config.listener().quarantined(q));
    }
    return moved;
  }

  /** Writes the reason beside a quarantined file (best effort: the move itself is what protects readers). */
  private void writeWhy(Path target, String why) throws IOException {
    Path whyFile = quarantineDir.resolve(target.getFileName() + WHY_SUFFIX);
    try (FileChannel ch = opener.open(whyFile, EnumSet.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING))) {
      StoreIo.writeFully(ch, ByteBuffer.wrap(why.getBytes(StandardCharsets.UTF_8)), 0);
      ch.force(true);
    }
    StoreIo.fsyncDirectory(opener, quarantineDir);
  }

  /**
   * Recovery found damage in a state log: a copy goes to quarantine (for a person to look at), the damage
   * is counted and reported, and the caller rewrites the log without it.
   */
  private void keepDamagedLog(Path log, List<String> damage) throws IOException {
    long now = config.clock().millis();
    String why = "state log " + log + " damaged: " + String.join("; ", damage);
    Path copy = quarantineDir.resolve(StoreIo.parentOf(log).getFileName() + "." + STATE_LOG + "." + now);
    Files.copy(log, copy, StandardCopyOption.REPLACE_EXISTING, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    writeWhy(copy, why);
    List<String> parts = java.util.Collections.unmodifiableList(damage);
    synchronized (mu) {
      damagedLogRecordsSinceOpen += damage.size();
      emit(() -> config.listener().stateLogDamaged(log.toString(), parts));
    }
  }

  /** The fingerprint a store file name ({@code <64 hex>.blob…}) names, or null. */
  private static @Nullable Fingerprint fingerprintNamed(String name) {
    if (name.length() < 64) {
      return null;
    }
    try {
      return Fingerprint.fromHex(name.substring(0, 64));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  @Override
  public List<QuarantinedBlob> quarantined() throws IOException {
    ensureOpen();
    List<QuarantinedBlob> out = new ArrayList<>();
    for (Path p : listDirectory(quarantineDir)) {
      String name = p.getFileName().toString();
      if (name.endsWith(WHY_SUFFIX)) {
        continue;
      }
      long at = 0;
      int dot = name.lastIndexOf('.');
      try {
        at = Long.parseLong(name.substring(dot + 1));
      } catch (NumberFormatException | IndexOutOfBoundsException e) {
        // not named by the store; listed with time 0
      }
      String why;
      Path whyFile = quarantineDir.resolve(name + WHY_SUFFIX);
      try {
        // Bounded: the reason file is disk bytes like any other.
        why = new String(StoreIo.readAtMost(opener, whyFile, MAX_WHY_BYTES), StandardCharsets.UTF_8);
      } catch (IOException e) {
        why = "(no reason recorded)";
      }
      out.add(new QuarantinedBlob(fingerprintNamed(name), name, at, why));
    }
    out.sort(Comparator.comparingLong(QuarantinedBlob::quarantinedAtEpochMillis));
    return out;
  }

  /** Files quarantined since this store was opened (at open and on read). */
  public long quarantinedSinceOpen() {
    synchronized (mu) {
      return quarantinedSinceOpen;
    }
  }

  /** Damaged state-log entries (and headers) recovery found since this store was opened. */
  public long damagedLogRecordsSinceOpen() {
    synchronized (mu) {
      return damagedLogRecordsSinceOpen;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Accounting and shutdown

  @Override
  public StoreUsage usage() {
    synchronized (mu) {
      long custodyReserved = 0;
      long ownReserved = 0;
      for (PartialUpload u : uploads.values()) {
        if (u.header.kind == BlobKind.CUSTODY) {
          custodyReserved += u.header.declaredLengthBytes;
        } else {
          ownReserved += u.header.declaredLengthBytes;
        }
      }
      return new StoreUsage(custodyHeldBytes, ownHeldBytes, custodyReserved, ownReserved + sealsDeclaredBytes,
          blobCount, uploads.size() + sealsInProgress);
    }
  }

  private void addToIndex(IndexEntry e) throws IOException {
    // A rebuild (recreateIndex) that ran while this commit was between its rename and here has indexed
    // and counted the file already: count it once.
    IndexEntry before = index.get(e.fingerprint());
    try {
      index.put(e);
    } catch (IOException ex) {
      recreateIndex(ex); // the rebuild reads e's file and counts it
      return;
    }
    if (before != null && before.state().hasBytes()) {
      account(before, -1);
    }
    if (e.state().hasBytes()) {
      account(e, +1);
    }
  }

  private void removeFromIndex(IndexEntry e) throws IOException {
    index.remove(e.fingerprint());
    if (e.state().hasBytes()) {
      account(e, -1);
    }
  }

  private void account(IndexEntry e, int sign) {
    if (e.kind() == BlobKind.CUSTODY) {
      custodyHeldBytes += sign * e.envelopeLengthBytes();
    } else {
      ownHeldBytes += sign * e.envelopeLengthBytes();
    }
    blobCount += sign;
  }

  @Override
  public void close() throws IOException {
    drops.lock(); // no drop is half done
    try {
      closeLocked();
    } finally {
      drops.unlock();
    }
  }

  @SuppressWarnings("LockNotBeforeTry") // lock() then unlock() at once: a barrier, nothing runs between
  private void closeLocked() throws IOException {
    long custody;
    long own;
    long count;
    synchronized (mu) {
      if (closed) {
        return;
      }
      closed = true;
      for (PartialUpload u : uploads.values()) {
        u.attached = false;
      }
      if (flusher != null) {
        flusher.shutdown(); // queued flushes still run; their uploads wait for them before closing files
      }
      if (writers != null) {
        writers.shutdown(); // running writers finish; their puts fail at commit (closed)
      }
      // A commit that renamed its file adds its index entry before the counts are sealed in CLEAN.
      boolean interrupted = false;
      while (publishing > 0) {
        try {
          mu.wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    // Transitions, deletes and quarantines that began before closed was set hold the groups lock shared
    // while they work: wait for them (commits are done, above, so none is waiting to rename).
    groupsLock.writeLock().lock();
    groupsLock.writeLock().unlock();
    synchronized (mu) {
      custody = custodyHeldBytes;
      own = ownHeldBytes;
      count = blobCount;
    }
    IOException failure = null;
    try {
      index.flush();
      index.close();
      CleanMarker.write(opener, root, config.indexFactory().name(), custody, own, count);
    } catch (IOException e) {
      failure = StoreIo.wrap(e, root, "closing the store (it will be rebuilt on the next open)");
      closeQuietly(index);
    } finally {
      try {
        lock.release();
      } catch (IOException ignored) {
        // Closing the channel releases it.
      }
      closeQuietly(lockChannel);
    }
    if (failure != null) {
      throw failure;
    }
  }

  void ensureOpen() throws StoreException {
    if (closed) {
      throw new StoreException(Reason.CLOSED, root.toString(), "the store was closed");
    }
  }

  long nowEpochSecond() {
    return Math.floorDiv(config.clock().millis(), 1000);
  }

  Path blobPath(IndexEntry e) {
    return groupsDir.resolve(Long.toString(e.groupEpochSecond())).resolve(e.fingerprint().toHex() + BLOB_SUFFIX);
  }

  static List<Path> listDirectory(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    NoFollowOpener.requireNotLink(dir); // a linked folder would have the store list, delete and write outside
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        out.add(p);
      }
    }
    Collections.sort(out);
    return out;
  }

  static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // Already failing; the first error is the one reported.
    }
  }

  /** An upload in progress: its files and what is durable of it. Guarded by {@link #mu}. */
  static final class PartialUpload {
    final RecordHeader header;
    final Path dataPath;
    final Path journalPath;
    final Path tailPath;
    long durableOffset;
    long lastActivityMillis;
    boolean attached;
    /** Its files are being deleted: still listed (so nothing begins over them), no longer resumable. */
    boolean discarding;

    PartialUpload(RecordHeader header, Path dataPath, Path journalPath) {
      this.header = header;
      this.dataPath = dataPath;
      this.journalPath = journalPath;
      String j = journalPath.getFileName().toString();
      this.tailPath = journalPath.resolveSibling(j.substring(0, j.length() - JOURNAL_SUFFIX.length()) + TAIL_SUFFIX);
    }
  }

  /**
   * Group commit of one directory's fsync: a caller whose rename or unlink is done waits for an fsync that
   * began after it; whoever finds none running starts one, which then covers every change made before it
   * began. Under sixteen writers that turns sixteen directory fsyncs into a few. A failed fsync fails
   * every caller it covered (each undoes or reports its change); the next round runs all the same.
   *
   * <p>Callers that arrive while an fsync runs join the one round that follows it, and each waits on its
   * own round's monitor: when the running fsync ends, one of them is woken to run the next (it covers every
   * change made before it began), and the others sleep on until that one ends. Each waiter waits once,
   * where one shared monitor woke every waiter at the end of every round (about 3.3 waits per put and
   * delete under sixteen writers against 2 now, bench/RESULTS-store.md section 1e).
   */
  static final class DirectorySync {
    private final FileOpener opener;
    private final Path dir;
    /** The fsync in flight, and the round that follows it (its callers wait). Guarded by this. */
    private @Nullable Round running;
    private @Nullable Round next;

    /** One fsync of the directory and the callers it answers; its fields are guarded by the round. */
    private static final class Round {
      boolean done;
      /** Set when the round becomes the running one: the first waiter to see it runs the fsync. */
      boolean leaderWanted;
      @Nullable IOException failure;

      /** Waits until this round is done (false) or this caller is to run its fsync (true). */
      synchronized boolean awaitTurn() {
        boolean interrupted = false;
        try {
          while (!done) {
            if (leaderWanted) {
              leaderWanted = false;
              return true;
            }
            try {
              wait();
            } catch (InterruptedException e) {
              interrupted = true; // the fsync runs on and decides; the interrupt is kept for later
            }
          }
          return false;
        } finally {
          if (interrupted) {
            Thread.currentThread().interrupt();
          }
        }
      }

      synchronized void wantLeader() {
        leaderWanted = true;
        notify(); // any one waiter of this round can run it
      }

      synchronized void finish(@Nullable IOException f) {
        done = true;
        failure = f;
        notifyAll();
      }
    }

    DirectorySync(FileOpener opener, Path dir) {
      this.opener = opener;
      this.dir = dir;
    }

    /** Returns once an fsync of the directory that began after this call has succeeded. */
    void sync() throws IOException {
      Round mine;
      boolean lead;
      synchronized (this) {
        if (running == null) {
          mine = new Round();
          running = mine;
          lead = true;
        } else {
          // The fsync in flight began before our change: the round after it covers us.
          if (next == null) {
            next = new Round();
          }
          mine = next;
          lead = false;
        }
      }
      if (!lead && !mine.awaitTurn()) {
        IOException failure = mine.failure; // read after awaitTurn saw done, under the round's monitor
        if (failure != null) {
          throw new IOException("fsync of " + dir + " failed: " + failure.getMessage(), failure);
        }
        return;
      }
      // This round is the running one: every change announced before this point is covered by the fsync.
      IOException failure = null;
      try {
        StoreIo.fsyncDirectory(opener, dir);
      } catch (IOException e) {
        failure = e;
      }
      Round promoted;
      synchronized (this) {
        promoted = next;
        next = null;
        running = promoted;
      }
      mine.finish(failure);
      if (promoted != null) {
        promoted.wantLeader();
      }
      if (failure != null) {
        throw failure;
      }
    }
  }
}
