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
 * <p>Thread-safe. Metadata changes (commit, transitions, deletes, drops, quarantine) run under one lock;
 * uploads write their own files and readers read theirs outside it.
 */
public final class FileCustodyStore implements CustodyStore {
  static final String LOCK_FILE = "LOCK";
  static final String STORE_FILE = "STORE";
  static final String CLEAN_FILE = "CLEAN";
  static final String PARTIAL_DIR = "partial";
  static final String GROUPS_DIR = "groups";
  static final String QUARANTINE_DIR = "quarantine";
  static final String INDEX_DIR = "index";
  static final String STATE_LOG = "states.log";
  static final String BLOB_SUFFIX = ".blob";
  static final String PART_SUFFIX = ".part";
  static final String JOURNAL_SUFFIX = ".pieces";
  static final String WHY_SUFFIX = ".why";
  private static final int MAX_WHY_BYTES = 4096;

  final StoreConfig config;
  final FileOpener opener;
  final Path root;
  final Path partialDir;
  final Path groupsDir;
  final Path quarantineDir;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private BlobIndex index;
  private boolean rebuilding;
  private final SecureRandom random = new SecureRandom();
  /** Uploads in progress, open or resumable; guarded by {@code this}. */
  final Map<Fingerprint, PartialUpload> uploads = new HashMap<>();
  private long custodyHeldBytes;
  private long ownHeldBytes;
  private long blobCount;
  private boolean closed;
  private final boolean openedClean;
  private long quarantinedSinceOpen;
  private long damagedLogRecordsSinceOpen;
  /** One daemon thread for every upload's flush behind; created on first use, guarded by {@code this}. */
  private java.util.concurrent.@Nullable ExecutorService flusher;

  private FileCustodyStore(StoreConfig config, FileChannel lockChannel, FileLock lock, BlobIndex index,
      boolean openedClean) {
    this.config = config;
    this.opener = NoFollowOpener.wrap(config.fileOpener());
    this.root = rootOf(config);
    this.partialDir = root.resolve(PARTIAL_DIR);
    this.groupsDir = root.resolve(GROUPS_DIR);
    this.quarantineDir = root.resolve(QUARANTINE_DIR);
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.index = index;
    this.openedClean = openedClean;
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
      for (String d : new String[] {PARTIAL_DIR, GROUPS_DIR, QUARANTINE_DIR, INDEX_DIR}) {
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
      store.recoverUploads();
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
    synchronized (this) {
      u.lastActivityMillis = nowMillis;
    }
    try {
      Files.setLastModifiedTime(u.journalPath, java.nio.file.attribute.FileTime.fromMillis(nowMillis));
    } catch (IOException | RuntimeException ignored) {
      // Best effort, see above.
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Uploads

  @Override
  public BlobStat put(UploadRequest request, ReadableByteChannel in) throws IOException {
    Upload u = begin(request, true);
    boolean done = false;
    try {
      ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
      while (true) {
        ((Buffer) buf).clear();
        int n = in.read(buf);
        if (n < 0) {
          break;
        }
        ((Buffer) buf).flip();
        u.write(buf);
      }
      BlobStat stat = u.commit();
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
    synchronized (this) {
      ensureOpen();
      IndexEntry e = index.get(fp);
      if (e != null) {
        throw e.state() == BlobState.DELIVERED
            ? new StoreException(Reason.ALREADY_DELIVERED, null, "blob " + fp + " was delivered; it is remembered "
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
      RecordHeader h = new RecordHeader(fp, random.nextLong(), request.declaredLengthBytes(),
          request.expiresNoLaterThanEpochSecond(), config.clock().millis(), request.kind(), request.sourcePeer());
      u = new PartialUpload(h, partialDir.resolve(fp.toHex() + PART_SUFFIX),
          partialDir.resolve(fp.toHex() + JOURNAL_SUFFIX));
      u.attached = true;
      u.lastActivityMillis = h.startedAtEpochMillis;
      uploads.put(fp, u);
      config.listener().uploadStarted(info(u));
    }
    try {
      return UploadImpl.create(this, u, oneShot);
    } catch (IOException | RuntimeException e) {
      synchronized (this) {
        try {
          discard(u, StoreListener.UploadEnd.ABORTED);
        } catch (IOException cleanup) {
          e.addSuppressed(cleanup);
        }
      }
      throw e instanceof IOException ? StoreIo.wrap((IOException) e, u.dataPath, "beginning an upload")
          : new StoreException(Reason.IO_ERROR, u.dataPath.toString(), "beginning an upload failed: " + e, e);
    }
  }

  @Override
  public Upload resume(Fingerprint fingerprint) throws IOException {
    PartialUpload u;
    synchronized (this) {
      ensureOpen();
      u = uploads.get(fingerprint);
      if (u == null) {
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
      synchronized (this) {
        u.attached = false;
      }
      throw e instanceof IOException ? StoreIo.wrap((IOException) e, u.dataPath, "resuming an upload")
          : new StoreException(Reason.IO_ERROR, u.dataPath.toString(), "resuming an upload failed: " + e, e);
    }
  }

  @Override
  public synchronized List<UploadInfo> uploads() throws IOException {
    ensureOpen();
    List<UploadInfo> out = new ArrayList<>();
    for (PartialUpload u : uploads.values()) {
      out.add(info(u));
    }
    return out;
  }

  @Override
  public boolean abortUpload(Fingerprint fingerprint) throws IOException {
    synchronized (this) {
      ensureOpen();
      PartialUpload u = uploads.get(fingerprint);
      if (u == null) {
        return false;
      }
      if (u.attached) {
        throw new StoreException(Reason.DUPLICATE, u.dataPath.toString(), "the upload of " + fingerprint
            + " is open in a handle; abort it through that handle");
      }
      try {
        discard(u, StoreListener.UploadEnd.ABORTED);
      } catch (IOException e) {
        throw StoreIo.wrap(e, u.dataPath, "removing the aborted upload");
      }
    }
    StoreIo.fsyncDirectory(opener, partialDir);
    return true;
  }

  /** For tests of the abort race: runs right after an upload left the list of uploads. */
  volatile @Nullable Runnable afterUploadForgotten;

  /**
   * Removes an upload's files, then forgets it, all under the lock: a begin of the same fingerprint then
   * never meets its leftovers. The caller fsyncs the partial directory (outside the lock).
   */
  private void discard(PartialUpload u, StoreListener.UploadEnd how) throws IOException {
    Files.deleteIfExists(u.dataPath);
    Files.deleteIfExists(u.journalPath);
    if (uploads.remove(u.header.fingerprint, u)) {
      config.listener().uploadEnded(info(u), how);
    }
    Runnable hook = afterUploadForgotten;
    if (hook != null) {
      hook.run();
    }
  }

  /** Called by an upload once its file is complete, fsynced and checked: make it visible. */
  synchronized BlobStat publish(PartialUpload u, long expiresAtEpochSecond, String locator) throws IOException {
    ensureOpen();
    long span = config.expiryGroupSeconds();
    long groupStart = Math.floorDiv(expiresAtEpochSecond, span) * span;
    Path group = groupsDir.resolve(Long.toString(groupStart));
    Path target = group.resolve(u.header.fingerprint.toHex() + BLOB_SUFFIX);
    boolean moved = false;
    try {
      NoFollowOpener.requireNotLink(group);
      if (!Files.isDirectory(group)) {
        Files.createDirectories(group);
        StoreIo.fsyncDirectory(opener, groupsDir);
      }
      Files.move(u.dataPath, target, StandardCopyOption.ATOMIC_MOVE);
      moved = true;
      StoreIo.fsyncDirectory(opener, group);
    } catch (IOException e) {
      if (moved) {
        // The rename happened but is not known to be durable: undo it, so that nothing unacknowledged is
        // visible, and leave the upload resumable.
        try {
          Files.move(target, u.dataPath, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException undo) {
          if (uploads.remove(u.header.fingerprint) != null) {
            config.listener().uploadEnded(info(u), StoreListener.UploadEnd.ABORTED);
          }
          Files.deleteIfExists(target);
          Files.deleteIfExists(u.journalPath);
        }
      }
      throw StoreIo.wrap(e, target, "committing the blob (nothing was stored)");
    }
    uploads.remove(u.header.fingerprint);
    config.listener().uploadEnded(info(u), StoreListener.UploadEnd.COMMITTED);
    try {
      Files.deleteIfExists(u.journalPath);
    } catch (IOException ignored) {
      // Harmless: a journal without its data file is removed on the next open.
    }
    IndexEntry e = new IndexEntry(u.header.fingerprint, u.header.blobId, groupStart, u.header.declaredLengthBytes,
        expiresAtEpochSecond, u.header.startedAtEpochMillis, BlobState.HELD, u.header.kind, u.header.sourcePeer,
        locator);
    addToIndex(e);
    BlobStat stat = e.toStat(nowEpochSecond());
    config.listener().blobAdded(stat);
    return stat;
  }

  /**
   * Starts an fsync of {@code data} on the store's flush-behind thread ({@link StoreConfig#flushBehindBytes}).
   * The caller must wait for the result before it fsyncs the file itself or closes it: on Linux an fsync
   * error is reported once per open file, so a failure seen here is the only report of it.
   */
  synchronized java.util.concurrent.Future<Void> flushBehind(FileChannel data) throws StoreException {
    ensureOpen();
    if (flusher == null) {
      flusher = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "crowdbackup-flush-behind " + root.getFileName());
        t.setDaemon(true);
        return t;
      });
    }
    return flusher.submit(() -> {
      data.force(false);
      return null;
    });
  }

  /** An upload's handle aborted it: its files go, then it is forgotten (see {@link #discard}). */
  void abortFromHandle(PartialUpload u) throws IOException {
    synchronized (this) {
      discard(u, StoreListener.UploadEnd.ABORTED);
    }
    StoreIo.fsyncDirectory(opener, partialDir);
  }

  private static UploadInfo info(PartialUpload u) {
    return new UploadInfo(u.header.toRequest(), u.durableOffset, u.header.startedAtEpochMillis,
        u.lastActivityMillis);
  }

  private void removed(IndexEntry e, StoreListener.Removal why) {
    if (e.state().hasBytes()) {
      config.listener().blobRemoved(e.toStat(nowEpochSecond()), why);
    }
  }

  synchronized void detach(PartialUpload u) {
    u.attached = false;
  }

  // ---------------------------------------------------------------------------------------------------
  // Reads

  @Override
  public ReadableByteChannel open(Fingerprint fingerprint) throws IOException {
    IndexEntry e;
    synchronized (this) {
      ensureOpen();
      e = servable(fingerprint);
    }
    try {
      return BlobReader.open(this, e);
    } catch (BlobReader.IndexDisagrees wrong) {
      // The index is derived and wrong about this blob (a bug or memory corruption; a damaged persisted
      // index is caught at open): rebuild it from the data files and answer from the rebuilt one, once.
      synchronized (this) {
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
      throw new StoreException(Reason.EXPIRED, blobPath(e).toString(),
          "blob " + fingerprint + " expired at " + RetentionPolicy.isoInstant(e.expiresAtEpochSecond())
              + "; it is never served");
    }
    return e;
  }

  @Override
  public synchronized @Nullable BlobStat stat(Fingerprint fingerprint) throws IOException {
    ensureOpen();
    IndexEntry e = index.get(fingerprint);
    return e == null ? null : e.toStat(nowEpochSecond());
  }

  @Override
  public synchronized boolean contains(Fingerprint fingerprint) throws IOException {
    ensureOpen();
    IndexEntry e = index.get(fingerprint);
    return e != null && e.state().hasBytes() && e.expiresAtEpochSecond() > nowEpochSecond();
  }

  @Override
  public synchronized List<BlobStat> list() throws IOException {
    ensureOpen();
    long now = nowEpochSecond();
    List<BlobStat> out = new ArrayList<>();
    index.forEach(e -> out.add(e.toStat(now)));
    return out;
  }

  @Override
  public synchronized List<BlobStat> listByLocator(String locator) throws IOException {
    ensureOpen();
    long now = nowEpochSecond();
    List<BlobStat> out = new ArrayList<>();
    index.forEach(e -> {
      if (e.locator().equals(locator)) {
        out.add(e.toStat(now));
      }
    });
    out.sort(Comparator.comparingLong(BlobStat::expiresAtEpochSecond));
    return out;
  }

  @Override
  public synchronized List<BlobStat> listByState(BlobState state) throws IOException {
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

  // ---------------------------------------------------------------------------------------------------
  // State changes

  @Override
  public synchronized BlobStat transition(Fingerprint fingerprint, BlobState next) throws IOException {
    ensureOpen();
    IndexEntry e = index.get(fingerprint);
    if (e == null) {
      throw new StoreException(Reason.NOT_FOUND, null, "no blob " + fingerprint);
    }
    if (!e.state().canMoveTo(next)) {
      throw new StoreException(Reason.ILLEGAL_STATE_TRANSITION, null,
          "blob " + fingerprint + " is " + e.state() + " and cannot become " + next);
    }
    Path file = blobPath(e);
    if (next == BlobState.EXPIRED) {
      // Expiring one blob early is removing it; its group would drop it anyway.
      deleteBlobFile(e);
      removeFromIndex(e);
      removed(e, StoreListener.Removal.EXPIRED);
      return e.withState(BlobState.EXPIRED).toStat(nowEpochSecond());
    }
    try {
      StateLog.append(opener, file.resolveSibling(STATE_LOG), new StateLog.Entry(fingerprint, e.blobId(),
          next.ordinal(), e.kind().ordinal(), e.envelopeLengthBytes(), e.expiresAtEpochSecond()));
    } catch (IOException ex) {
      throw StoreIo.wrap(ex, file.resolveSibling(STATE_LOG), "recording the state change to " + next);
    }
    IndexEntry updated = next == BlobState.DELIVERED ? tombstone(e.fingerprint(), e.blobId(), e.groupEpochSecond(),
        e.envelopeLengthBytes(), e.expiresAtEpochSecond(), e.kind()) : e.withState(next);
    if (next == BlobState.DELIVERED) {
      // The log entry is durable: from here on the blob is delivered even if removing the file fails.
      removeFromIndex(e);
      indexPut(updated);
      removed(e, StoreListener.Removal.DELIVERED);
      deleteBlobFile(e);
    } else {
      indexPut(updated);
    }
    return updated.toStat(nowEpochSecond());
  }

  @Override
  public synchronized boolean delete(Fingerprint fingerprint) throws IOException {
    ensureOpen();
    IndexEntry e = index.get(fingerprint);
    if (e == null) {
      return false;
    }
    if (e.state().hasBytes()) {
      deleteBlobFile(e);
    } else {
      Path log = groupsDir.resolve(Long.toString(e.groupEpochSecond())).resolve(STATE_LOG);
      try {
        StateLog.append(opener, log, new StateLog.Entry(fingerprint, e.blobId(), STATE_CODE_DELETED,
            e.kind().ordinal(), e.envelopeLengthBytes(), e.expiresAtEpochSecond()));
      } catch (IOException ex) {
        throw StoreIo.wrap(ex, log, "recording the delete");
      }
    }
    removeFromIndex(e);
    removed(e, StoreListener.Removal.DELETED);
    return true;
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

  private void deleteBlobFile(IndexEntry e) throws StoreException {
    Path file = blobPath(e);
    try {
      Files.deleteIfExists(file);
      StoreIo.fsyncDirectory(opener, StoreIo.parentOf(file));
    } catch (IOException ex) {
      throw StoreIo.wrap(ex, file, "removing the blob file");
    }
  }

  @Override
  public synchronized long dropExpired(long nowEpochSecond) throws IOException {
    ensureOpen();
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
      try {
        dropped += dropFromGroup(group, groupStart, whole, nowEpochSecond);
      } catch (IOException e) {
        throw StoreIo.wrap(e, group, "dropping expired blobs");
      }
    }
    dropAbandonedUploads();
    return dropped;
  }

  /**
   * Drops what expired in one group. Even in a group whose whole window has passed, each blob's own
   * expiry is checked against the index (one lookup per file listed, still the cost of what expired), so
   * a store reopened with a narrower {@code expiryGroupSeconds} never drops a blob early.
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
      IndexEntry indexed = index.get(fp);
      IndexEntry e = indexed != null && indexed.groupEpochSecond() == groupStart ? indexed : null; // ours, or null
      if (e != null && e.expiresAtEpochSecond() > nowEpochSecond) {
        keptAny = true;
        continue;
      }
      if (e == null && !whole) {
        continue;
      }
      if (e != null && !whole && e.state().hasBytes() && outlives(p, nowEpochSecond)) {
        // The index says expired, the file's own footer says not: the index is derived and wrong (the
        // reasoning of fuzz finding F11). Keep the file and rebuild the index from the data files.
        recreateIndex(new IOException("the index says blob " + fp + " expired at " + e.expiresAtEpochSecond()
            + ", its file " + p + " says later"));
        keptAny = true;
        continue;
      }
      if (e != null) {
        removeFromIndex(e);
        if (e.state().hasBytes()) {
          removed(e, StoreListener.Removal.EXPIRED);
          dropped++;
        }
      }
      Files.deleteIfExists(p);
    }
    // Tombstones of this group: remembered only until their expiry.
    for (StateLog.Entry t : StateLog.read(opener, group.resolve(STATE_LOG))) {
      IndexEntry e = index.get(t.fingerprint);
      if (e != null && e.state() == BlobState.DELIVERED && e.groupEpochSecond() == groupStart) {
        if (e.expiresAtEpochSecond() <= nowEpochSecond) {
          index.remove(t.fingerprint);
        } else {
          keptAny = true;
        }
      }
    }
    if (whole && !keptAny) {
      Files.deleteIfExists(group.resolve(STATE_LOG));
      for (Path leftover : listDirectory(group)) {
        Files.deleteIfExists(leftover);
      }
      Files.deleteIfExists(group);
      StoreIo.fsyncDirectory(opener, groupsDir);
    } else {
      StoreIo.fsyncDirectory(opener, group);
    }
    return dropped;
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
    for (PartialUpload u : uploads.values()) {
      if (!u.attached && now - u.lastActivityMillis > config.abandonedUploadAfterMillis()) {
        stale.add(u);
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
  synchronized StoreException quarantine(IndexEntry e, String why) {
    Path file = blobPath(e);
    try {
      IndexEntry current = index.get(e.fingerprint());
      if (current != null && current.blobId() == e.blobId() && current.state().hasBytes()) {
        removeFromIndex(current);
        removed(current, StoreListener.Removal.QUARANTINED);
      }
    } catch (IOException ignored) {
      // The index is derived; a failed removal only means a rebuild finds the file gone.
    }
    Path moved = quarantineFile(file, why);
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
    quarantinedSinceOpen++;
    config.listener().quarantined(new QuarantinedBlob(fingerprintNamed(file.getFileName().toString()),
        target.getFileName().toString(), now, why));
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
    damagedLogRecordsSinceOpen += damage.size();
    config.listener().stateLogDamaged(log.toString(), java.util.Collections.unmodifiableList(damage));
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
  public synchronized long quarantinedSinceOpen() {
    return quarantinedSinceOpen;
  }

  /** Damaged state-log entries (and headers) recovery found since this store was opened. */
  public synchronized long damagedLogRecordsSinceOpen() {
    return damagedLogRecordsSinceOpen;
  }

  // ---------------------------------------------------------------------------------------------------
  // Accounting and shutdown

  @Override
  public synchronized StoreUsage usage() {
    long custodyReserved = 0;
    long ownReserved = 0;
    for (PartialUpload u : uploads.values()) {
      if (u.header.kind == BlobKind.CUSTODY) {
        custodyReserved += u.header.declaredLengthBytes;
      } else {
        ownReserved += u.header.declaredLengthBytes;
      }
    }
    return new StoreUsage(custodyHeldBytes, ownHeldBytes, custodyReserved, ownReserved, blobCount, uploads.size());
  }

  private void addToIndex(IndexEntry e) throws IOException {
    try {
      index.put(e);
    } catch (IOException ex) {
      recreateIndex(ex); // the rebuild reads e's file and counts it
      return;
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
  public synchronized void close() throws IOException {
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
    IOException failure = null;
    try {
      index.flush();
      index.close();
      CleanMarker.write(opener, root, config.indexFactory().name(), custodyHeldBytes, ownHeldBytes, blobCount);
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

  /** An upload in progress: its files and what is durable of it. Guarded by the store's lock. */
  static final class PartialUpload {
    final RecordHeader header;
    final Path dataPath;
    final Path journalPath;
    long durableOffset;
    long lastActivityMillis;
    boolean attached;

    PartialUpload(RecordHeader header, Path dataPath, Path journalPath) {
      this.header = header;
      this.dataPath = dataPath;
      this.journalPath = journalPath;
    }
  }
}
