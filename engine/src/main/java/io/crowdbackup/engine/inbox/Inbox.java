package io.crowdbackup.engine.inbox;

import io.crowdbackup.api.ContentKind;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.policy.TimeSource;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.envelope.EnvelopeScanner;
import io.crowdbackup.engine.envelope.StreamingOpener;
import io.crowdbackup.engine.inbox.InboxException.Reason;
import io.crowdbackup.engine.receipt.Receipts;
import io.crowdbackup.engine.store.FileOpener;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A destination's (or relay's) inbox folder: takes envelopes, keeps the first copy of each, and answers
 * every delivery, first or repeated, with the same signed receipt.
 *
 * <p><b>Destination mode</b> opens each envelope with the destination key and publishes its plaintext in
 * the folder under the sender's file name, {@linkplain FileNames#sanitize sanitised}, never replacing a
 * file: a clash becomes {@code "name (2).ext"}. <b>Relay mode</b> opens the outer layer (content kind
 * {@link ContentKind#RELAYED_ENVELOPE}), checks the inner envelope's header and framing keylessly while it
 * streams past, and queues the inner envelope's bytes, unchanged, as {@code <inner fingerprint>.cbe} in the
 * folder (the relay's outbox) for forwarding; the receipt is the relay's, for the outer envelope.
 *
 * <p><b>Crash safety.</b> The plaintext goes to a temporary file in the same folder and is published only
 * after the opener returned normally (every chunk, the metadata, the plaintext hash and the fingerprint
 * verified) and the data was fsynced. The delivered-ledger ({@code .crowdbackup-inbox/delivered.ledger},
 * see {@link DeliveryLedger}) gets a PENDING record, carrying the chosen name, the file's length and
 * SHA-256 and the signed receipt, before the publish, and a DONE record after the folder entry is fsynced.
 * On open, leftover temporary files are deleted, a torn last ledger record is cut off, and each PENDING
 * without an outcome is settled by looking at its file: present with the recorded length and SHA-256 means
 * the publish happened (DONE is appended, and a re-delivery gets the recorded receipt); anything else means
 * it did not (ABORTED; a re-delivery writes it afresh). So a kill at any instant leaves either no file or
 * a complete verified one, and a re-delivery after the kill is recognised.
 *
 * <p>One process owns a folder at a time (an OS lock on {@code .crowdbackup-inbox/lock}). Deliveries may
 * run concurrently; decryption runs in parallel and publishing is serialised. Expired envelopes are still
 * accepted: expiry tells holders when to give up, and a late copy is still the owner's file.
 */
public final class Inbox implements Closeable {
  /** What the inbox does with the envelopes it takes. */
  public enum Mode {
    /** Open envelopes of kind {@link ContentKind#FILE} and publish their plaintext. */
    DESTINATION,
    /** Unwrap envelopes of kind {@link ContentKind#RELAYED_ENVELOPE} and queue the inner envelope. */
    RELAY
  }

  /** The steps of a delivery, in order: where a test may simulate a crash. */
  enum Step {
    TEMP_WRITTEN,
    PENDING_APPENDED,
    PUBLISHED,
    FOLDER_SYNCED,
    DONE_APPENDED
  }

  /** Test hook called after each step; a thrown {@link Error} models a kill (nothing is cleaned up). */
  interface StepHook {
    void after(Step step) throws IOException;
  }

  /** What opening the folder found and repaired. */
  public static final class Recovery {
    private final int tempFilesRemoved;
    private final long tornLedgerBytes;
    private final int pendingCompleted;
    private final int pendingAborted;

    Recovery(int tempFilesRemoved, long tornLedgerBytes, int pendingCompleted, int pendingAborted) {
      this.tempFilesRemoved = tempFilesRemoved;
      this.tornLedgerBytes = tornLedgerBytes;
      this.pendingCompleted = pendingCompleted;
      this.pendingAborted = pendingAborted;
    }

    public int tempFilesRemoved() {
      return tempFilesRemoved;
    }

    public long tornLedgerBytes() {
      return tornLedgerBytes;
    }

    /** Publishes a crash interrupted after the file was in place: now recorded as delivered. */
    public int pendingCompleted() {
      return pendingCompleted;
    }

    /** Publishes a crash interrupted before the file was in place: forgotten, a re-delivery redoes them. */
    public int pendingAborted() {
      return pendingAborted;
    }

    /** Whether there was anything to repair. */
    public boolean clean() {
      return tempFilesRemoved == 0 && tornLedgerBytes == 0 && pendingCompleted == 0 && pendingAborted == 0;
    }

    @Override
    public String toString() {
      return "Recovery{tempFilesRemoved=" + tempFilesRemoved + ", tornLedgerBytes=" + tornLedgerBytes
          + ", pendingCompleted=" + pendingCompleted + ", pendingAborted=" + pendingAborted + "}";
    }
  }

  /** The hidden folder, inside the inbox folder, that holds the ledger and the lock. */
  public static final String STATE_DIR = ".crowdbackup-inbox";
  static final String ENVELOPE_SUFFIX = ".cbe";
  private static final int BUFFER_BYTES = 64 * 1024;

  private final Path dir;
  private final Mode mode;
  private final DestinationKeyPair keys;
  private final StreamingOpener opener;
  private final TimeSource time;
  private final StepHook hook;
  private final FileOpener fileOpener;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final DeliveryLedger ledger;
  private final Recovery recovery;
  private final Object publishLock = new Object();
  private volatile boolean closed;
  /** Set when a ledger or folder write failed mid-delivery: the in-memory state may be ahead of the disk. */
  private volatile @Nullable IOException failure;

  private Inbox(Builder b, FileChannel lockChannel, FileLock lock, DeliveryLedger ledger, int tempsRemoved)
      throws IOException {
    // open() checked that the required values were set.
    this.dir = Objects.requireNonNull(b.dir, "dir");
    this.mode = b.mode;
    this.keys = Objects.requireNonNull(b.keys, "keys");
    this.opener = new StreamingOpener(keys, b.openingThreads);
    this.time = b.time;
    this.hook = b.hook;
    this.fileOpener = b.fileOpener;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.ledger = ledger;
    int completed = 0;
    int aborted = 0;
    for (DeliveryLedger.Entry e : ledger.unresolved()) {
      if (isPublished(e)) {
        ledger.appendDone(e.fingerprint);
        completed++;
      } else {
        ledger.appendAborted(e.fingerprint);
        aborted++;
      }
    }
    this.recovery = new Recovery(tempsRemoved, ledger.tornBytesDiscarded(), completed, aborted);
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** The folder files are published in (the outbox, in relay mode). */
  public Path directory() {
    return dir;
  }

  public Mode mode() {
    return mode;
  }

  /** What opening the folder found and repaired. */
  public Recovery recovery() {
    return recovery;
  }

  /** How many envelopes this folder has delivered (or relayed), across restarts. */
  public int deliveredCount() {
    synchronized (publishLock) {
      return ledger.deliveredCount();
    }
  }

  /** The receipt given for a fingerprint, or {@code null} if it was never delivered here. */
  public @Nullable Receipt receiptFor(Fingerprint fingerprint) throws IOException {
    synchronized (publishLock) {
      DeliveryLedger.Entry e = ledger.delivered(fingerprint);
      return e == null ? null : decodeReceipt(e);
    }
  }

  /**
   * Delivers an envelope file. Reads it twice: a keyless pass checks its framing and computes its
   * fingerprint, so a duplicate is answered without decrypting or writing anything; then it is opened.
   */
  public Delivery deliver(Path envelopeFile) throws IOException {
    return deliver(envelopeFile, null);
  }

  /**
   * As {@link #deliver(Path)}, reporting progress over both passes (the total is twice the file's size) and
   * stopping when {@code transfer} is cancelled: a cancelled delivery publishes nothing and leaves no
   * temporary file.
   */
  public Delivery deliver(Path envelopeFile, @Nullable Transfer transfer) throws IOException {
    ensureOpen();
    long size = Files.size(envelopeFile);
    Transfer t = transfer == null ? Transfer.create() : transfer;
    Fingerprint fingerprint;
    try (FileChannel in = FileChannel.open(envelopeFile, StandardOpenOption.READ)) {
      fingerprint = EnvelopeScanner.scan(t.reading(in, 2 * size));
    }
    Delivery dup = duplicate(fingerprint);
    if (dup != null) {
      return dup;
    }
    try (FileChannel in = FileChannel.open(envelopeFile, StandardOpenOption.READ)) {
      return openAndPublish(t.reading(in, 2 * size), fingerprint);
    }
  }

  /**
   * Delivers an envelope read from a stream, in one pass. With {@code expected} set (say, the fingerprint
   * a holder offered), an already-delivered envelope is recognised before anything is written: the stream
   * is only hashed, keylessly, to confirm it. Without it, a duplicate is recognised once opened, and its
   * temporary file is removed.
   *
   * @throws EnvelopeException the envelope was rejected ({@code FINGERPRINT_MISMATCH} if it is not
   *     {@code expected}); nothing was published
   * @throws StoreException the inbox could not write or record the delivery (DISK_FULL, IO_ERROR, CLOSED);
   *     nothing was published
   * @throws InboxException NAMES_EXHAUSTED, LEDGER_CORRUPT; nothing was published
   */
  public Delivery deliver(ReadableByteChannel envelope, @Nullable Fingerprint expected) throws IOException {
    ensureOpen();
    Objects.requireNonNull(envelope, "envelope");
    Delivery dup = expected == null ? null : duplicate(expected);
    if (dup != null) {
      Fingerprint actual = EnvelopeScanner.scan(envelope);
      if (!actual.equals(expected)) {
        throw new EnvelopeException(EnvelopeException.Reason.FINGERPRINT_MISMATCH,
            "fingerprint is " + actual + ", expected " + expected);
      }
      return dup;
    }
    return openAndPublish(envelope, expected);
  }

  private @Nullable Delivery duplicate(Fingerprint fingerprint) throws IOException {
    synchronized (publishLock) {
      DeliveryLedger.Entry e = ledger.delivered(fingerprint);
      if (e == null) {
        return null;
      }
      return new Delivery(Delivery.Outcome.DUPLICATE, fingerprint, decodeReceipt(e), dir.resolve(e.name), null,
          null, null);
    }
  }

  private Delivery openAndPublish(ReadableByteChannel envelope, @Nullable Fingerprint expected) throws IOException {
    Path temp;
    try {
      temp = AtomicFiles.createTemp(dir);
    } catch (IOException e) {
      throw InboxException.io(dir, "cannot create a temporary file for the delivery: " + e, e);
    }
    try {
      OpenResult opened;
      RelayTee tee = null;
      byte[] publishedSha256;
      long publishedLength;
      try (FileChannel out = openTemp(temp)) {
        GuardedSink sink = new GuardedSink(out, dir);
        WritableByteChannel target = sink;
        if (mode == Mode.RELAY) {
          tee = new RelayTee(sink);
          target = tee;
        }
        opened = opener.open(envelope, target, expected);
        ContentKind wanted = mode == Mode.RELAY ? ContentKind.RELAYED_ENVELOPE : ContentKind.FILE;
        if (opened.metadata().contentKind() != wanted) {
          throw new EnvelopeException(EnvelopeException.Reason.WRONG_CONTENT_KIND, "envelope " + opened.fingerprint()
              + " holds a " + opened.metadata().contentKind() + ", a " + mode.name().toLowerCase(java.util.Locale.ROOT)
              + " inbox takes " + wanted);
        }
        if (tee != null) {
          tee.finish();
          io.crowdbackup.engine.envelope.RelayLayers.checkOuterAgainstInner(opened.header(), tee.header);
        }
        // In both modes the published bytes are the outer envelope's plaintext, whose SHA-256 the opener
        // computed while writing it: no second hash.
        publishedSha256 = opened.plaintextSha256();
        publishedLength = sink.written;
        sink.force();
      }
      hook.after(Step.TEMP_WRITTEN);
      return publish(temp, opened, tee, publishedLength, publishedSha256);
    } catch (IOException | RuntimeException e) {
      // A rejection or failure leaves nothing: the temporary file goes too. (An Error, which is how tests
      // model a kill, skips this on purpose; the next open removes the file.)
      AtomicFiles.deleteQuietly(temp, e);
      throw e;
    }
  }

  private Delivery publish(Path temp, OpenResult opened, @Nullable RelayTee tee, long length, byte[] sha256)
      throws IOException {
    Fingerprint fp = opened.fingerprint();
    synchronized (publishLock) {
      ensureOpen();
      try {
        return publishLocked(temp, opened, tee, length, sha256, fp);
      } catch (StoreException e) {
        // Like a failed fsync in a database: after a failed ledger append, folder sync or publish, what is on
        // disk may differ from what this instance believes. Fail stop; reopening settles it from the disk.
        if (e.reason() == StoreException.Reason.IO_ERROR || e.reason() == StoreException.Reason.DISK_FULL) {
          failure = e;
        }
        throw e;
      }
    }
  }

  private Delivery publishLocked(Path temp, OpenResult opened, @Nullable RelayTee tee, long length, byte[] sha256,
      Fingerprint fp) throws IOException {
    Delivery dup = duplicate(fp);
    if (dup != null) {
      Files.delete(temp);
      return dup;
    }
    Receipt receipt = Receipts.signReceipt(keys, fp, time.epochSecond());
    byte[] receiptBytes = Receipts.encode(receipt);
    long expires = opened.header().expiresAtEpochSecond();
    Path published;
    if (tee != null) {
      String name = tee.fingerprint.toHex() + ENVELOPE_SUFFIX;
      published = dir.resolve(name);
      ledger.appendPending(new DeliveryLedger.Entry(fp, true, length, sha256, expires, receiptBytes, name));
      hook.after(Step.PENDING_APPENDED);
      if (!publishNoReplace(temp, published)) {
        // Same inner fingerprint, same bytes: it is already queued (by another outer envelope, say).
        Files.delete(temp);
      }
    } else {
      String sanitized = FileNames.sanitize(opened.metadata().name());
      published = null;
      for (int n = 1; published == null; n++) {
        if (n > FileNames.MAX_CLASH_SUFFIX) {
          throw new InboxException(Reason.NAMES_EXHAUSTED, dir.resolve(sanitized),
              "every name up to \"" + FileNames.candidate(sanitized, FileNames.MAX_CLASH_SUFFIX) + "\" is taken");
        }
        String name = FileNames.candidate(sanitized, n);
        Path candidate = dir.resolve(name);
        if (Files.exists(candidate, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        ledger.appendPending(new DeliveryLedger.Entry(fp, false, length, sha256, expires, receiptBytes, name));
        hook.after(Step.PENDING_APPENDED);
        if (publishNoReplace(temp, candidate)) {
          published = candidate;
        } else {
          // Someone outside the inbox created that name since the check: record it and try the next.
          ledger.appendAborted(fp);
        }
      }
    }
    hook.after(Step.PUBLISHED);
    try {
      AtomicFiles.fsyncDirectory(dir);
    } catch (IOException e) {
      throw InboxException.io(dir, "cannot sync the folder after publishing " + published, e);
    }
    hook.after(Step.FOLDER_SYNCED);
    ledger.appendDone(fp);
    hook.after(Step.DONE_APPENDED);
    if (tee != null) {
      return new Delivery(Delivery.Outcome.RELAYED, fp, receipt, published, opened.metadata(), tee.fingerprint,
          tee.header.locator());
    }
    return new Delivery(Delivery.Outcome.DELIVERED, fp, receipt, published, opened.metadata(), null, null);
  }

  private boolean publishNoReplace(Path temp, Path target) throws IOException {
    try {
      return AtomicFiles.publishNoReplace(temp, target);
    } catch (IOException e) {
      throw InboxException.io(target, "cannot publish the delivered file: " + e, e);
    }
  }

  /** Whether a PENDING record's file is in place, whole: the recorded length and SHA-256. */
  private boolean isPublished(DeliveryLedger.Entry e) throws IOException {
    Path p = dir.resolve(e.name);
    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.size(p) != e.publishedLengthBytes) {
      return false;
    }
    MessageDigest sha = sha256();
    try (InputStream in = Files.newInputStream(p)) {
      byte[] buf = new byte[BUFFER_BYTES];
      for (int n; (n = in.read(buf)) >= 0; ) {
        sha.update(buf, 0, n);
      }
    }
    return MessageDigest.isEqual(sha.digest(), e.publishedSha256);
  }

  private Receipt decodeReceipt(DeliveryLedger.Entry e) throws InboxException {
    try {
      return Receipts.decode(e.receipt);
    } catch (ReceiptException ex) {
      throw new InboxException(Reason.LEDGER_CORRUPT, ledger.path(),
          "the receipt recorded for " + e.fingerprint + " does not decode: " + ex.getMessage());
    }
  }

  private void ensureOpen() throws StoreException {
    if (closed) {
      throw new StoreException(StoreException.Reason.CLOSED, dir.toString(), "the inbox is closed");
    }
    IOException f = failure;
    if (f != null) {
      throw new StoreException(StoreException.Reason.IO_ERROR, dir.toString(), "inbox: an earlier write of the "
          + "ledger or folder failed (" + f.getMessage()
          + "); close and reopen the inbox, which settles the interrupted delivery", f);
    }
  }

  /**
   * Releases the folder lock. Deliveries in flight fail with {@link StoreException.Reason#CLOSED} before
   * publishing.
   */
  @Override
  public void close() throws IOException {
    synchronized (publishLock) {
      if (closed) {
        return;
      }
      closed = true;
      opener.close(); // its threads stop once the deliveries in flight are done with them
      try {
        ledger.close();
      } finally {
        try {
          lock.release();
        } finally {
          lockChannel.close();
        }
      }
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private FileChannel openTemp(Path temp) throws IOException {
    try {
      return fileOpener.open(temp, java.util.Set.of(StandardOpenOption.WRITE));
    } catch (IOException e) {
      throw InboxException.io(dir, "cannot open the delivery's temporary file: " + e, e);
    }
  }

  /**
   * The temporary file as the opener's output: write failures become {@link StoreException}s naming the
   * inbox folder (the temporary file's name means nothing to the user, and it is removed).
   */
  private static final class GuardedSink implements WritableByteChannel {
    private final FileChannel out;
    private final Path dir;
    long written;

    GuardedSink(FileChannel out, Path dir) {
      this.out = out;
      this.dir = dir;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = src.remaining();
      try {
        while (src.hasRemaining()) {
          out.write(src);
        }
      } catch (IOException e) {
        throw InboxException.io(dir, "writing a delivery failed after " + written + " bytes: " + e, e);
      }
      written += n;
      return n;
    }

    void force() throws StoreException {
      try {
        out.force(true);
      } catch (IOException e) {
        throw InboxException.io(dir, "fsync of a delivery failed: " + e, e);
      }
    }

    @Override
    public boolean isOpen() {
      return out.isOpen();
    }

    @Override
    public void close() {
      // The caller owns the file channel.
    }
  }

  /**
   * A relay's view of the plaintext, which is the inner envelope: passes it through to the temporary file,
   * and checks its header and framing and computes its fingerprint keylessly on the way. A framing error
   * is held until the outer envelope has been verified, so that an outer envelope of the wrong kind is
   * reported as such rather than as a malformed inner one.
   */
  private static final class RelayTee implements WritableByteChannel {
    private final WritableByteChannel out;
    private final EnvelopeScanner scanner = new EnvelopeScanner();
    private @Nullable EnvelopeException scanError;
    // Set by finish(), which runs before anything reads them (or throws).
    @SuppressWarnings("NullAway.Init") Fingerprint fingerprint;
    @SuppressWarnings("NullAway.Init") EnvelopeHeader header;

    RelayTee(WritableByteChannel out) {
      this.out = out;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      ByteBuffer view = src.duplicate();
      int n = out.write(src);
      ((Buffer) view).limit(view.position() + n);
      if (scanError == null) {
        try {
          scanner.update(view);
        } catch (EnvelopeException e) {
          scanError = e;
        }
      }
      return n;
    }

    void finish() throws EnvelopeException {
      try {
        if (scanError != null) {
          throw scanError;
        }
        fingerprint = scanner.finish();
        header = Objects.requireNonNull(scanner.header(), "header of a finished scan");
      } catch (EnvelopeException e) {
        String message = e.getMessage();
        String prefix = e.reason() + ": ";
        throw new EnvelopeException(e.reason(), "inner envelope: "
            + (message.startsWith(prefix) ? message.substring(prefix.length()) : message), e);
      }
    }


    @Override
    public boolean isOpen() {
      return out.isOpen();
    }

    @Override
    public void close() {
      // The caller owns the output.
    }
  }

  /**
   * Opens an inbox folder. Named {@code open()} rather than {@code build()} because it does I/O: it takes
   * the folder's lock and recovers from a crash (see the class comment).
   */
  public static final class Builder {
    private @Nullable Path dir;
    private @Nullable DestinationKeyPair keys;
    private Mode mode = Mode.DESTINATION;
    private TimeSource time = TimeSource.system();
    private StepHook hook = step -> { };
    private FileOpener fileOpener = FileOpener.DEFAULT;
    private int openingThreads = defaultOpeningThreads();
    /** Settings given, so that a second one fails instead of silently replacing the first. */
    private final java.util.Set<String> set = new java.util.HashSet<>();

    private Builder() {}

    /** The inbox folder (a relay's outbox in relay mode); created if absent. */
    public Builder directory(Path dir) {
      requireUnset("directory", this.dir);
      this.dir = Objects.requireNonNull(dir, "dir");
      set.add("directory");
      return this;
    }

    /** The destination's keys (a relay's own keys in relay mode): they open envelopes and sign receipts. */
    public Builder keys(DestinationKeyPair keys) {
      requireUnset("keys", "(a key pair)");
      this.keys = Objects.requireNonNull(keys, "keys");
      set.add("keys");
      return this;
    }

    /** {@link Mode#DESTINATION} unless set. */
    public Builder mode(Mode mode) {
      requireUnset("mode", this.mode);
      this.mode = Objects.requireNonNull(mode, "mode");
      set.add("mode");
      return this;
    }

    /** Where receipt timestamps come from; {@link TimeSource#system()} unless set. */
    public Builder time(TimeSource time) {
      requireUnset("time", this.time);
      this.time = Objects.requireNonNull(time, "time");
      set.add("time");
      return this;
    }

    /**
     * Threads that verify and decrypt an envelope's chunks while the delivery writes the plaintext, shared by
     * all concurrent deliveries of this inbox; 1 opens on the delivering thread alone. Unless set, the
     * number of processors (at most 256). Each delivery buffers at most {@code 2 × threads + 1} chunks,
     * fewer when the heap is short.
     *
     * @throws IllegalArgumentException unless 1..256
     */
    public Builder openingThreads(int threads) {
      requireUnset("openingThreads", this.openingThreads);
      if (threads < 1 || threads > 256) {
        throw new IllegalArgumentException("openingThreads must be 1..256, was " + threads);
      }
      this.openingThreads = threads;
      set.add("openingThreads");
      return this;
    }

    /** One thread per processor, as the JVM counts them (a container's CPU limit included). */
    public static int defaultOpeningThreads() {
      return Math.max(1, Math.min(256, Runtime.getRuntime().availableProcessors()));
    }

    Builder stepHook(StepHook hook) {
      this.hook = Objects.requireNonNull(hook, "hook");
      return this;
    }

    /** How delivery files are opened for writing: a fault seam for tests (a full disk). */
    Builder fileOpener(FileOpener opener) {
      this.fileOpener = Objects.requireNonNull(opener, "opener");
      return this;
    }

    /** Opens the folder: creates it if absent, takes its lock, removes leftovers, settles the ledger. */
    public Inbox open() throws IOException {
      if (dir == null) {
        throw new IllegalStateException("directory was not set");
      }
      if (keys == null) {
        throw new IllegalStateException("keys were not set");
      }
      Path state = dir.resolve(STATE_DIR);
      try {
        Files.createDirectories(state);
      } catch (IOException e) {
        throw InboxException.io(dir, "cannot create the inbox folder: " + e, e);
      }
      Path lockPath = state.resolve("lock");
      FileChannel lockChannel = FileChannel.open(lockPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        lockChannel.close();
        throw new StoreException(StoreException.Reason.LOCKED_BY_OTHER_PROCESS, dir.toString(),
            "another inbox (in this or another process) has this folder open");
      }
      DeliveryLedger ledger = null;
      try {
        int temps = AtomicFiles.deleteTemps(dir);
        ledger = DeliveryLedger.open(state.resolve(DeliveryLedger.FILE_NAME));
        return new Inbox(this, lockChannel, lock, ledger, temps);
      } catch (IOException | RuntimeException e) {
        if (ledger != null) {
          ledger.close();
        }
        lock.release();
        lockChannel.close();
        throw e;
      }
    }

    /** Fails if {@code name} was given before: one line of a configuration never undoes another. */
    private void requireUnset(String name, @Nullable Object current) {
      if (set.contains(name)) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }
  }
}
