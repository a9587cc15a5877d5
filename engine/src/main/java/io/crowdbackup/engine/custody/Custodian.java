package io.crowdbackup.engine.custody;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.CustodyStore;
import io.crowdbackup.api.store.QuarantinedBlob;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.envelope.EnvelopeHeaders;
import io.crowdbackup.engine.policy.CustodyClock;
import io.crowdbackup.engine.policy.CustodyPolicy;
import io.crowdbackup.engine.policy.LedgerEntry;
import io.crowdbackup.engine.policy.QuotaLedger;
import io.crowdbackup.engine.policy.RetentionPolicy;
import io.crowdbackup.engine.policy.Throttled;
import io.crowdbackup.engine.receipt.Receipts;
import io.crowdbackup.engine.store.ClockFile;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.SealingUpload;
import io.crowdbackup.engine.store.StoreConfig;
import io.crowdbackup.engine.store.StoreListener;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The holder's custody layer: a {@link CustodyStore} run by a {@link CustodyPolicy}. What a front-end
 * calls to take envelopes from peers, forward them home once, and drop them on proof of delivery or at
 * expiry. See {@code docs/custody.md} for the rules as implemented.
 *
 * <ul>
 *   <li><b>Offers</b> ({@link #accept}) are decided before the first byte: already delivered or held,
 *       retention (with a {@code TTL_TOO_LONG} counter-offer when the source insists on its full expiry),
 *       then a strict quota reservation of the declared length. Each "no" is a machine-readable
 *       {@link Refusal}. The bytes then stream into the store through the per-peer and global ingress
 *       throttle.
 *   <li><b>The ledger follows the store</b>: every change to what the store counts (commit, abort,
 *       abandonment, delivery, expiry, quarantine, delete) reaches the quota ledger through one
 *       {@link StoreListener}, so there is exactly one place where reserved bytes become held or free.
 *       On open the ledger is rebuilt from the store's blobs and resumable uploads, and checked against
 *       the store's own byte accounting: a restart is not a way around the quota.
 *   <li><b>Forward-once</b>: a blob's bytes leave only through {@link #beginForward} towards the locator
 *       in its own header, one forward at a time, egress-throttled. No method hands a custody blob to
 *       anyone else; {@link #ownEnvelopes()} lists what this device offers to peers.
 *   <li><b>Receipts and releases</b> are verified against the key in the blob's own header; a valid one
 *       drops the blob at once and frees its quota, and the fingerprint is remembered until expiry.
 *   <li><b>Time</b> is the policy's {@link CustodyClock}; its high-water mark is kept in a
 *       {@link ClockFile}, so a clock set back while the app was stopped cannot extend retention.
 * </ul>
 *
 * <p>Every custody upload must go through this class: an upload begun on the store directly has no
 * reservation, and the ledger ignores it (counted as an anomaly in the log of {@link #ledgerAnomalies()}).
 * Thread-safe.
 */
public final class Custodian implements Closeable {
  /** How often (custody seconds) admissions refresh the clock file's high-water mark. */
  static final long HIGH_WATER_EVERY_SECONDS = 60;

  private final CustodyStore store;
  private final CustodyPolicy<String> policy;
  private final QuotaLedger<String> ledger;
  private final CustodyClock clock;
  private final @Nullable Path clockFile;
  private final long ingressTimeoutNanos;
  private final long egressTimeoutNanos;
  private final LedgerSync sync;
  private final Set<Fingerprint> accepting = ConcurrentHashMap.newKeySet();
  private final Set<Fingerprint> forwarding = ConcurrentHashMap.newKeySet();
  private final LongAdder droppedByReceipt = new LongAdder();
  private final LongAdder clockFileFailures = new LongAdder();
  private final LongAdder droppedByRelease = new LongAdder();
  private final LongAdder[] receiptRefusals = new LongAdder[ReceiptException.Reason.values().length];
  private final Object highWaterLock = new Object();
  private long persistedHighWaterEpochSecond = Long.MIN_VALUE;
  private volatile boolean closed;

  private Custodian(Builder b, CustodyStore store) {
    this.store = store;
    this.policy = b.policy;
    this.ledger = b.policy.ledger();
    this.clock = b.policy.clock();
    this.clockFile = b.clockFile;
    this.ingressTimeoutNanos = saturatedNanos(b.ingressTimeout);
    this.egressTimeoutNanos = saturatedNanos(b.egressTimeout);
    this.sync = b.sync;
    for (int i = 0; i < receiptRefusals.length; i++) {
      receiptRefusals[i] = new LongAdder();
    }
  }

  /**
   * A builder around {@code policy}. Open the store with {@link Builder#storeListener()} and
   * {@link Builder#storeClock()} in its configuration, then pass it to {@link Builder#store}; or use
   * {@link #open} which does all of it.
   */
  static Builder newBuilder(CustodyPolicy<String> policy) {
    return new Builder(policy);
  }

  /** How long a piece of an upload or a forward waits for bandwidth before {@code ThrottleTimeoutException}. */
  static final Duration DEFAULT_BANDWIDTH_TIMEOUT = HolderConfig.DEFAULT_BANDWIDTH_TIMEOUT;

  /** The throttles count in nanoseconds; a wait beyond what a long holds is no deadline at all. */
  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /**
   * Opens (creating if needed) the holder {@code config} describes: its custody store in
   * {@code DIR/}{@value HolderConfig#BLOBS_DIR}, its clock's high-water mark in
   * {@code DIR/}{@value HolderConfig#CLOCK_FILE}. Rebuilds the quota ledger from the store and returns
   * interrupted forwards to held.
   *
   * @throws CustodyException CLOCK_FILE_DAMAGED if the clock file exists but cannot be trusted (deleting it
   *     restarts custody time from the wall clock)
   * @throws IOException if the folder or the store cannot be opened
   */
  public static Custodian open(HolderConfig config) throws IOException {
    Path dir = config.directory();
    Files.createDirectories(dir);
    Path clockFile = dir.resolve(HolderConfig.CLOCK_FILE);
    long highWater;
    try {
      highWater = ClockFile.read(clockFile);
    } catch (IOException e) {
      if (!Files.exists(clockFile)) {
        throw e;
      }
      throw new CustodyException(CustodyException.Reason.CLOCK_FILE_DAMAGED, String.valueOf(e.getMessage()), e);
    }
    CustodyPolicy.Builder<String> policy = CustodyPolicy.<String>newBuilder()
        .time(config.time(), config.time()::sleepNanos)
        .highWaterEpochSecond(highWater)
        .limitBytes(config.limitBytes())
        .peerSharePercent(config.peerSharePercent())
        .maxRetentionSeconds(config.maxRetention().getSeconds())
        .ingress(config.ingressGlobal(), config.ingressPerPeer())
        .egress(config.egressGlobal(), config.egressPerPeer());
    if (config.maxEnvelopeBytes() > 0) {
      policy.maxEnvelopeBytes(config.maxEnvelopeBytes());
    }
    StoreConfig.Builder store = StoreConfig.newBuilder(dir.resolve(HolderConfig.BLOBS_DIR))
        .abandonedUploadAfterMillis(config.abandonedUploadAfter().toMillis());
    if (config.checkpointEveryBytes() > 0) {
      store.checkpointEveryBytes(config.checkpointEveryBytes());
    }
    return openOnFiles(store, newBuilder(policy.build()).clockFile(clockFile)
        .ingressTimeout(config.ingressTimeout()).egressTimeout(config.egressTimeout()));
  }

  /** Opens a holder on a {@link FileCustodyStore} with {@code policy}, whose high-water mark is already read. */
  static Custodian open(StoreConfig.Builder storeConfig, CustodyPolicy<String> built, Path clockFile)
      throws IOException {
    return openOnFiles(storeConfig, newBuilder(built).clockFile(clockFile));
  }

  /** Opens the store with the clock and listener {@code b} needs, then the holder on it. */
  private static Custodian openOnFiles(StoreConfig.Builder storeConfig, Builder b) throws IOException {
    FileCustodyStore store = FileCustodyStore.open(storeConfig.clock(b.storeClock()).listener(b.storeListener())
        .build());
    try {
      return b.store(store).build();
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /** Reads the clock file's high-water mark into {@code policy}, then opens as above; for the engine's tests. */
  static Custodian open(StoreConfig.Builder storeConfig, CustodyPolicy.Builder<String> policy, Path clockFile)
      throws IOException {
    return open(storeConfig, policy.highWaterEpochSecond(ClockFile.read(clockFile)).build(), clockFile);
  }

  // ---------------------------------------------------------------------------------------------------
  // Offers

  /**
   * Decides an offer and, if it is accepted, opens the upload its bytes go to. Nothing is reserved or
   * stored when it is refused.
   *
   * @throws RefusalException UPLOAD_IN_PROGRESS, ALREADY_DELIVERED, ALREADY_HELD, EXPIRED, TTL_TOO_LONG
   *     (with the counter-offer), MALFORMED, TOO_LARGE, PEER_SHARE_EXCEEDED, QUOTA_FULL (with bytes free
   *     and the largest acceptable), or NOT_ACCEPTING (disk full, closed)
   * @throws IOException if this device failed (the offer is then not reserved either)
   */
  public CustodyUpload accept(Offer offer) throws IOException, RefusalException {
    Objects.requireNonNull(offer, "offer");
    Fingerprint fp = offer.fingerprint();
    if (closed) {
      throw refuse(Refusal.of(Refusal.Reason.NOT_ACCEPTING, "this holder is closed"));
    }
    // One decision per fingerprint at a time: the release after a failed begin below can then never
    // free a reservation that another offer of the same fingerprint made meanwhile.
    if (!accepting.add(fp)) {
      throw refuse(Refusal.of(Refusal.Reason.UPLOAD_IN_PROGRESS, fp + " is being offered by another peer now"));
    }
    try {
      BlobStat known = store.stat(fp);
      if (known != null) {
        if (known.state() == BlobState.DELIVERED) {
          throw refuse(Refusal.of(Refusal.Reason.ALREADY_DELIVERED, fp + " was delivered; remembered until "
              + RetentionPolicy.isoInstant(known.expiresAtEpochSecond())));
        }
        throw refuse(Refusal.of(Refusal.Reason.ALREADY_HELD, fp + " is already held (" + known.state() + ")"));
      }
      UploadInfo inProgress = upload(fp);
      if (inProgress != null) {
        throw refuse(uploadInProgress(inProgress));
      }
      long now = clock.nowEpochSecond();
      long expires = offer.requireFullRetention()
          ? policy.retention().grant(offer.envelopeExpiresAtEpochSecond(), now)
          : policy.retention().custodyExpiresAtEpochSecond(offer.envelopeExpiresAtEpochSecond(), now);
      ledger.reserve(fp, offer.declaredLengthBytes(), offer.sourcePeer());
      Upload upload;
      try {
        upload = store.begin(UploadRequest.newBuilder().fingerprint(fp)
            .declaredLengthBytes(offer.declaredLengthBytes()).custodyFrom(offer.sourcePeer())
            .expiresNoLaterThanEpochSecond(expires).build());
      } catch (StoreException e) {
        ledger.release(fp);
        Refusal r = StoreRefusals.refusalFor(e);
        if (r != null) {
          throw refuse(r, e);
        }
        throw e;
      } catch (IOException | RuntimeException e) {
        ledger.release(fp);
        throw e;
      }
      try {
        refreshHighWater(now, false);
      } catch (IOException e) {
        // The upload has begun and must reach its caller; the mark is refreshed again on the next admission,
        // eviction or close, and a stale mark only errs towards the wall clock.
        clockFileFailures.increment();
      }
      return new CustodyUpload(this, upload, offer.sourcePeer(), expires,
          policy.ingress().forPeer(offer.sourcePeer()), ingressTimeoutNanos);
    } finally {
      accepting.remove(fp);
    }
  }

  /**
   * Reopens a custody upload after a dropped connection or a restart; its reservation was kept (and
   * rebuilt on open). The sender continues from {@link CustodyUpload#durableOffset()}.
   *
   * @throws RefusalException EXPIRED (or MALFORMED) when the bytes already stored fail the store's checks
   *     on reopening, for example because the envelope expired meanwhile; the store removed the upload and
   *     its reservation is freed
   * @throws EnvelopeException FINGERPRINT_MISMATCH, likewise (see {@link CustodyUpload})
   */
  public CustodyUpload resume(Fingerprint fingerprint) throws IOException, RefusalException {
    ensureOpen();
    Upload upload;
    try {
      upload = store.resume(fingerprint);
    } catch (StoreException e) {
      Refusal r = StoreRefusals.refusalForUploadFailure(e);
      if (r == null) {
        throw e;
      }
      throw refuse(r, e);
    } catch (EnvelopeException e) {
      Refusal r = StoreRefusals.refusalFor(e);
      if (r == null) {
        throw e;
      }
      throw refuse(r, e);
    }
    UploadRequest r = upload.request();
    if (r.kind() != BlobKind.CUSTODY) {
      upload.close();
      throw new StoreException(StoreException.Reason.NOT_FOUND, null, "no custody upload of " + fingerprint
          + " (it is one of this device's own)");
    }
    return new CustodyUpload(this, upload, r.sourcePeer(), r.expiresNoLaterThanEpochSecond(),
        policy.ingress().forPeer(r.sourcePeer()), ingressTimeoutNanos);
  }

  /** The upload of {@code fingerprint} in progress or resumable, or null. */
  private @Nullable UploadInfo upload(Fingerprint fingerprint) throws IOException {
    for (UploadInfo u : store.uploads()) {
      if (u.request().fingerprint().equals(fingerprint)) {
        return u;
      }
    }
    return null;
  }

  /**
   * The refusal while another upload of the fingerprint waits. It goes to the offering peer, so it names
   * neither the other upload's peer nor whether it is this device's own.
   */
  private static Refusal uploadInProgress(UploadInfo u) {
    UploadRequest r = u.request();
    return Refusal.of(Refusal.Reason.UPLOAD_IN_PROGRESS, "an upload of " + r.fingerprint() + " is already in "
        + "progress here (" + u.durableOffsetBytes() + " of " + r.declaredLengthBytes() + " bytes); the peer that "
        + "began it resumes it with the same offer, and one left idle is discarded");
  }

  /**
   * One-shot: {@link #accept}, the whole stream, {@link CustodyUpload#commit()}. On any failure the upload
   * is aborted (its reservation freed); use {@link #accept} for a resumable transfer.
   *
   * <p>If a resumable upload of the same envelope from the same peer is waiting (a transfer that was cut
   * off, or a process killed mid-upload), it is resumed: its reservation is kept, the first
   * {@link CustodyUpload#durableOffset()} bytes of {@code in} are skipped, and the rest is appended. Any
   * other upload of the fingerprint in progress is refused {@code UPLOAD_IN_PROGRESS}.
   */
  public BlobStat receive(Offer offer, ReadableByteChannel in) throws IOException, RefusalException {
    CustodyUpload u = resumeMatching(offer);
    if (u != null) {
      skip(in, u.durableOffset());
    } else {
      u = accept(offer);
    }
    boolean done = false;
    try {
      u.transferFrom(in);
      BlobStat s = u.commit();
      done = true;
      return s;
    } finally {
      if (!done) {
        try {
          u.abort();
        } catch (IOException ignored) {
          // The first failure is the one to report; the store removes leftovers on its next open.
        }
      }
    }
  }

  /**
   * The waiting upload that {@code offer} continues (same fingerprint, peer and length), resumed; null if
   * there is none. One whose stored part no longer checks out is discarded, and the offer starts afresh.
   */
  private @Nullable CustodyUpload resumeMatching(Offer offer) throws IOException, RefusalException {
    UploadInfo waiting = upload(offer.fingerprint());
    if (waiting == null) {
      return null;
    }
    UploadRequest r = waiting.request();
    if (r.kind() != BlobKind.CUSTODY || !r.sourcePeer().equals(offer.sourcePeer())
        || r.declaredLengthBytes() != offer.declaredLengthBytes()) {
      throw refuse(uploadInProgress(waiting));
    }
    try {
      return resume(offer.fingerprint());
    } catch (StoreException e) {
      if (e.reason() == StoreException.Reason.DUPLICATE) {
        throw refuse(uploadInProgress(waiting)); // open in another handle right now
      }
      if (e.reason() == StoreException.Reason.CORRUPT) {
        store.abortUpload(offer.fingerprint());
        return null;
      }
      throw e;
    }
  }

  /** Reads and drops the first {@code bytes} of {@code in}: what a resumed upload already holds durably. */
  static void skip(ReadableByteChannel in, long bytes) throws IOException {
    if (bytes == 0) {
      return;
    }
    if (in instanceof java.nio.channels.SeekableByteChannel) {
      java.nio.channels.SeekableByteChannel sc = (java.nio.channels.SeekableByteChannel) in;
      sc.position(sc.position() + bytes);
      return;
    }
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(64 * 1024);
    long left = bytes;
    while (left > 0) {
      ((java.nio.Buffer) buf).clear().limit((int) Math.min(buf.capacity(), left));
      int n = in.read(buf);
      if (n < 0) {
        throw new java.io.EOFException("the stream ended " + left + " bytes before the " + bytes
            + " bytes the resumed upload already holds");
      }
      left -= n;
    }
  }

  /**
   * Discards a resumable upload (custody or own) that is not open in a handle — one a killed process or a
   * peer that walked away left — and frees its reservation.
   *
   * @return whether there was one
   */
  public boolean abortUpload(Fingerprint fingerprint) throws IOException {
    ensureOpen();
    return store.abortUpload(fingerprint);
  }

  /** Uploads in flight or resumable, custody and own, oldest first. */
  public List<UploadInfo> allUploads() throws IOException {
    List<UploadInfo> out = new ArrayList<>(store.uploads());
    out.sort(Comparator.comparingLong(UploadInfo::startedAtEpochMillis));
    return out;
  }

  /** Custody uploads in flight or resumable. */
  public List<UploadInfo> uploads() throws IOException {
    List<UploadInfo> out = new ArrayList<>();
    for (UploadInfo u : store.uploads()) {
      if (u.request().kind() == BlobKind.CUSTODY) {
        out.add(u);
      }
    }
    return out;
  }

  /**
   * Stores one of this device's own envelopes (its outbox). Not counted against the quota given to
   * others and not throttled; the store still checks framing and fingerprint.
   */
  public BlobStat putOwn(Fingerprint fingerprint, long lengthBytes, ReadableByteChannel in) throws IOException {
    ensureOpen();
    UploadInfo waiting = upload(fingerprint);
    if (waiting != null && waiting.request().kind() == BlobKind.OWN) {
      // A put of this envelope was cut off (a killed process): continue it if it is the same envelope and
      // its stored part checks out, else start over.
      Upload u = null;
      if (waiting.request().declaredLengthBytes() == lengthBytes) {
        try {
          u = store.resume(fingerprint);
        } catch (StoreException e) {
          if (e.reason() != StoreException.Reason.CORRUPT) {
            throw e;
          }
        }
      }
      if (u == null) {
        store.abortUpload(fingerprint);
      } else {
        return finishOwn(u, in);
      }
    }
    return store.put(UploadRequest.newBuilder().fingerprint(fingerprint).declaredLengthBytes(lengthBytes).own()
        .build(), in);
  }

  /**
   * Seals {@code plaintextFile} straight into this device's store as one of its own envelopes: the sealer's
   * output is checked and written once, into the file that becomes the blob, and filed under the
   * fingerprint computed on the way (which must match the sealer's). Own envelopes as {@link #putOwn}: no
   * quota, not throttled. Honours the request's compression.
   *
   * <p>{@code transfer} counts the envelope bytes written into the store against the plaintext's length
   * (the envelope adds a header and 21 bytes a chunk; compression can make it smaller), and its
   * {@link Transfer#cancel()} stops the seal. A seal that fails or is cancelled leaves nothing: no file,
   * no reservation. A process killed mid-seal leaves a file that is removed when the store next opens.
   *
   * @param sealer the sealer to use ({@link io.crowdbackup.engine.Envelopes#sealer()} or a parallel one);
   *     left open
   * @return the stored envelope (own, {@code HELD})
   * @throws io.crowdbackup.engine.TransferCancelledException if cancelled
   * @throws StoreException DISK_FULL and other I/O reasons of the store, or DUPLICATE in the impossible
   *     case that a fresh seal's fingerprint is stored already
   */
  public BlobStat sealOwn(EnvelopeSealer sealer, SealRequest request, Path plaintextFile, Transfer transfer)
      throws IOException {
    long total = Files.size(plaintextFile);
    return sealOwn(transfer, total, out -> sealer.seal(request, plaintextFile, out));
  }

  /**
   * As {@link #sealOwn(EnvelopeSealer, SealRequest, Path, Transfer)} for exactly {@code plaintextLengthBytes}
   * bytes read from {@code plaintext}, uncompressed (see {@link EnvelopeSealer#seal(SealRequest,
   * ReadableByteChannel, long, java.nio.channels.WritableByteChannel)}).
   */
  public BlobStat sealOwn(EnvelopeSealer sealer, SealRequest request, ReadableByteChannel plaintext,
      long plaintextLengthBytes, Transfer transfer) throws IOException {
    return sealOwn(transfer, plaintextLengthBytes, out -> sealer.seal(request, plaintext, plaintextLengthBytes, out));
  }

  /**
   * As {@link #sealOwn(EnvelopeSealer, SealRequest, Path, Transfer)} for a plaintext of unknown length (a
   * camera stream, a {@code content://} URI), read to its end, honouring the request's compression. The
   * envelope's header carries its exact length, so the sealer first spools the plaintext, encrypted under
   * a key only it holds, to a file in the store's own spool folder (removed when the seal ends, and at the
   * next open after a crash); the envelope is then written once, into the store. {@code transfer} counts
   * the plaintext read and then the envelope written, against an unknown total (-1).
   */
  public BlobStat sealOwnStream(EnvelopeSealer sealer, SealRequest request, ReadableByteChannel plaintext,
      Transfer transfer) throws IOException {
    ReadableByteChannel counted = transfer.reading(plaintext, -1);
    return sealOwn(transfer, -1, out -> sealer.sealStream(request, counted, fileStore().spoolDirectory(), out));
  }

  /** One way of sealing into {@code out}. */
  private interface SealInto {
    SealResult seal(WritableByteChannel out) throws IOException;
  }

  private BlobStat sealOwn(Transfer transfer, long progressTotal, SealInto sealing) throws IOException {
    ensureOpen();
    SealingUpload upload = fileStore().beginOwnSeal();
    boolean done = false;
    try {
      SealResult sealed = sealing.seal(transfer.writing(upload, progressTotal));
      BlobStat stat = upload.commit(sealed.fingerprint());
      done = true;
      return stat;
    } finally {
      if (!done) {
        try {
          upload.abort();
        } catch (IOException ignored) {
          // The first failure is the one to report; the store removes the file on its next open.
        }
      }
    }
  }

  /** Sealing into the store needs the file store's operation for an envelope whose fingerprint comes last. */
  private FileCustodyStore fileStore() {
    if (!(store instanceof FileCustodyStore)) {
      throw new UnsupportedOperationException("sealing into the store needs a FileCustodyStore, not "
          + store.getClass().getName());
    }
    return (FileCustodyStore) store;
  }

  private static BlobStat finishOwn(Upload u, ReadableByteChannel in) throws IOException {
    boolean done = false;
    try {
      skip(in, u.durableOffset());
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(64 * 1024);
      while (in.read(buf) >= 0) {
        ((java.nio.Buffer) buf).flip();
        u.write(buf);
        ((java.nio.Buffer) buf).clear();
      }
      BlobStat s = u.commit();
      done = true;
      return s;
    } finally {
      if (!done) {
        try {
          u.abort();
        } catch (IOException ignored) {
          // The first failure is the one to report; leftovers are removed on the next open.
        }
      }
    }
  }

  /** This device's own envelopes still held: what it offers to peers. Soonest expiry first. */
  public List<BlobStat> ownEnvelopes() throws IOException {
    List<BlobStat> out = new ArrayList<>();
    for (BlobStat s : store.list()) {
      if (s.kind() == BlobKind.OWN && s.state() == BlobState.HELD) {
        out.add(s);
      }
    }
    out.sort(Comparator.comparingLong(BlobStat::expiresAtEpochSecond));
    return out;
  }

  /**
   * Opens one of this device's own envelopes to hand a replica to a peer. Only {@link BlobKind#OWN}
   * blobs: a custody blob is never handed to another peer.
   */
  public ReadableByteChannel openOwn(Fingerprint fingerprint, String peer) throws IOException {
    ensureOpen();
    BlobStat s = store.stat(fingerprint);
    if (s == null || s.kind() != BlobKind.OWN || !s.state().hasBytes()) {
      throw new StoreException(StoreException.Reason.NOT_FOUND, null, "no own envelope " + fingerprint
          + (s != null && s.kind() == BlobKind.CUSTODY ? " (it is a custody blob: it goes only to its destination)"
              : ""));
    }
    return Throttled.readableChannel(store.open(fingerprint), policy.egress().forPeer(peer), egressTimeoutNanos);
  }

  // ---------------------------------------------------------------------------------------------------
  // Forward-once

  /** Blobs waiting to go to {@code locator}: held (not forwarding, not expired), soonest expiry first. */
  public List<BlobStat> pendingFor(String locator) throws IOException {
    Objects.requireNonNull(locator, "locator");
    long now = clock.nowEpochSecond();
    List<BlobStat> out = new ArrayList<>();
    for (BlobStat s : store.listByLocator(locator)) {
      if (s.state() == BlobState.HELD && s.expiresAtEpochSecond() > now) {
        out.add(s);
      }
    }
    out.sort(Comparator.comparingLong(BlobStat::expiresAtEpochSecond));
    return out;
  }

  /**
   * Every pending blob grouped by destination (or relay) locator, each group soonest expiry first, groups
   * ordered by their soonest expiry.
   */
  public Map<String, List<BlobStat>> pendingByLocator() throws IOException {
    long now = clock.nowEpochSecond();
    Map<String, List<BlobStat>> groups = new TreeMap<>();
    for (BlobStat s : store.list()) {
      if (s.state() == BlobState.HELD && s.expiresAtEpochSecond() > now) {
        groups.computeIfAbsent(s.locator(), k -> new ArrayList<>()).add(s);
      }
    }
    List<Map.Entry<String, List<BlobStat>>> entries = new ArrayList<>(groups.entrySet());
    for (Map.Entry<String, List<BlobStat>> e : entries) {
      e.getValue().sort(Comparator.comparingLong(BlobStat::expiresAtEpochSecond));
    }
    entries.sort(Comparator.comparingLong(e -> e.getValue().get(0).expiresAtEpochSecond()));
    Map<String, List<BlobStat>> out = new LinkedHashMap<>();
    for (Map.Entry<String, List<BlobStat>> e : entries) {
      out.put(e.getKey(), e.getValue());
    }
    return out;
  }

  /**
   * Starts forwarding a blob to {@code locator}, which must be the locator in the blob's own header: the
   * blob moves to FORWARDING (durably) and its verified bytes are streamed out through the egress
   * throttle. Finish with {@link Forward#delivered}, {@link Forward#failed()} or close (= failed).
   *
   * @throws CustodyException WRONG_LOCATOR, ALREADY_FORWARDING; {@link StoreException} PAST_EXPIRY, NOT_FOUND, CLOSED
   */
  public Forward beginForward(Fingerprint fingerprint, String locator) throws IOException {
    ensureOpen();
    Objects.requireNonNull(locator, "locator");
    BlobStat s = store.stat(fingerprint);
    if (s == null || s.state() == BlobState.DELIVERED) {
      throw new StoreException(StoreException.Reason.NOT_FOUND, null, "no blob " + fingerprint + " to forward"
          + (s == null ? "" : " (it was delivered)"));
    }
    if (s.state() == BlobState.EXPIRED || s.expiresAtEpochSecond() <= clock.nowEpochSecond()) {
      throw new StoreException(StoreException.Reason.PAST_EXPIRY, null, "blob " + fingerprint + " expired at "
          + s.expiresAtEpochSecond() + "; it is never served");
    }
    if (!s.locator().equals(locator)) {
      throw new CustodyException(CustodyException.Reason.WRONG_LOCATOR, "blob " + fingerprint + " goes only to '"
          + s.locator() + "', not to '" + locator + "'");
    }
    if (!forwarding.add(fingerprint)) {
      throw new CustodyException(CustodyException.Reason.ALREADY_FORWARDING, "blob " + fingerprint
          + " is being forwarded already");
    }
    boolean ok = false;
    try {
      try {
        store.transition(fingerprint, BlobState.FORWARDING);
      } catch (StoreException e) {
        if (e.reason() == StoreException.Reason.ILLEGAL_STATE_TRANSITION) {
          throw new CustodyException(CustodyException.Reason.ALREADY_FORWARDING, "blob " + fingerprint
              + " is not held: " + e.getMessage());
        }
        if (e.reason() == StoreException.Reason.NOT_FOUND) {
          throw new StoreException(StoreException.Reason.NOT_FOUND, null, e.getMessage());
        }
        throw e;
      }
      ReadableByteChannel ch;
      try {
        ch = store.open(fingerprint);
      } catch (IOException e) {
        returnToHeld(fingerprint);
        if (e instanceof StoreException se && se.reason() == StoreException.Reason.PAST_EXPIRY) {
          throw new StoreException(StoreException.Reason.PAST_EXPIRY, null, se.getMessage());
        }
        throw e;
      }
      Forward f = new Forward(this, s, Throttled.readableChannel(ch, policy.egress().forPeer(locator),
          egressTimeoutNanos));
      ok = true;
      return f;
    } finally {
      if (!ok) {
        forwarding.remove(fingerprint);
      }
    }
  }

  /** A forward failed: back to HELD, if it is still forwarding (a receipt may have dropped it meanwhile). */
  void returnToHeld(Fingerprint fingerprint) throws IOException {
    try {
      BlobStat s = store.stat(fingerprint);
      if (s != null && s.state() == BlobState.FORWARDING) {
        store.transition(fingerprint, BlobState.HELD);
      }
    } catch (StoreException e) {
      if (e.reason() != StoreException.Reason.ILLEGAL_STATE_TRANSITION
          && e.reason() != StoreException.Reason.NOT_FOUND) {
        throw e;
      }
    }
  }

  void forwardFinished(Fingerprint fingerprint) {
    forwarding.remove(fingerprint);
  }

  // ---------------------------------------------------------------------------------------------------
  // Receipts and releases

  /** {@link #acceptReceipt(Fingerprint, byte[])} for the fingerprint the receipt names. */
  public DropOutcome acceptReceipt(byte[] encoded) throws ReceiptException, IOException {
    return drop(null, encoded, Receipt.Kind.RECEIPT);
  }

  /**
   * Verifies a delivery receipt for the blob {@code fingerprint} against the receipt key in that blob's own
   * header; if it verifies the blob is dropped at once (DELIVERED, quota freed) and remembered until its
   * expiry.
   *
   * @throws ReceiptException MALFORMED, VERSION_*, WRONG_KIND (a release), WRONG_FINGERPRINT, WRONG_SIGNER,
   *     BAD_SIGNATURE; the blob stays
   */
  public DropOutcome acceptReceipt(Fingerprint fingerprint, byte[] encoded) throws ReceiptException, IOException {
    return drop(Objects.requireNonNull(fingerprint, "fingerprint"), encoded, Receipt.Kind.RECEIPT);
  }

  /** {@link #acceptRelease(Fingerprint, byte[])} for the fingerprint the release names. */
  public DropOutcome acceptRelease(byte[] encoded) throws ReceiptException, IOException {
    return drop(null, encoded, Receipt.Kind.RELEASE);
  }

  /** As {@link #acceptReceipt(Fingerprint, byte[])} for a source's release, checked against the release key. */
  public DropOutcome acceptRelease(Fingerprint fingerprint, byte[] encoded) throws ReceiptException, IOException {
    return drop(Objects.requireNonNull(fingerprint, "fingerprint"), encoded, Receipt.Kind.RELEASE);
  }

  DropOutcome drop(@Nullable Fingerprint expected, byte[] encoded, Receipt.Kind kind) throws ReceiptException, IOException {
    ensureOpen();
    Receipt r;
    try {
      r = Receipts.decode(encoded);
      if (r.kind() != kind) {
        throw new ReceiptException(ReceiptException.Reason.WRONG_KIND, "got a " + r.kind() + ", required a " + kind);
      }
      if (expected != null && !r.fingerprint().equals(expected)) {
        throw new ReceiptException(ReceiptException.Reason.WRONG_FINGERPRINT,
            "it names " + r.fingerprint() + ", the blob is " + expected);
      }
    } catch (ReceiptException e) {
      receiptRefusals[e.reason().ordinal()].increment();
      throw e;
    }
    Fingerprint fp = r.fingerprint();
    BlobStat s = store.stat(fp);
    if (s == null) {
      return DropOutcome.NOT_HELD;
    }
    if (s.state() == BlobState.DELIVERED) {
      return DropOutcome.ALREADY_DELIVERED;
    }
    if (!s.state().hasBytes()) {
      return DropOutcome.NOT_HELD;
    }
    EnvelopeHeader header;
    try (ReadableByteChannel ch = store.open(fp)) {
      header = EnvelopeHeaders.read(ch);
    } catch (StoreException e) {
      if (e.reason() == StoreException.Reason.NOT_FOUND || e.reason() == StoreException.Reason.PAST_EXPIRY) {
        return outcomeNow(fp);
      }
      throw e;
    }
    try {
      Receipts.verify(r, kind, fp, header);
    } catch (ReceiptException e) {
      receiptRefusals[e.reason().ordinal()].increment();
      throw e;
    }
    try {
      store.transition(fp, BlobState.DELIVERED);
    } catch (StoreException e) {
      if (e.reason() == StoreException.Reason.ILLEGAL_STATE_TRANSITION
          || e.reason() == StoreException.Reason.NOT_FOUND) {
        return outcomeNow(fp); // raced with another receipt, or with eviction
      }
      throw e;
    }
    (kind == Receipt.Kind.RECEIPT ? droppedByReceipt : droppedByRelease).increment();
    return DropOutcome.DROPPED;
  }

  private DropOutcome outcomeNow(Fingerprint fp) throws IOException {
    BlobStat s = store.stat(fp);
    return s != null && s.state() == BlobState.DELIVERED ? DropOutcome.ALREADY_DELIVERED : DropOutcome.NOT_HELD;
  }

  // ---------------------------------------------------------------------------------------------------
  // Expiry, stats, lifecycle

  /**
   * Drops every blob whose custody expiry is at or before custody time now, whole expiry groups at a time
   * (the cost is what expired), freeing their quota; also removes abandoned uploads and their
   * reservations. Refreshes the clock file.
   *
   * @return the number of blobs dropped
   */
  public long evictExpired() throws IOException {
    ensureOpen();
    long now = clock.nowEpochSecond();
    long dropped = store.dropExpired(now);
    refreshHighWater(now, true);
    return dropped;
  }

  /** Custody time now, epoch seconds. */
  public long nowEpochSecond() {
    return clock.nowEpochSecond();
  }

  /** Every blob the store knows (custody and own, every state), for an operator's listing. */
  public List<BlobStat> list() throws IOException {
    return store.list();
  }

  /** Every blob whose header names {@code locator}, in every state. */
  public List<BlobStat> listByLocator(String locator) throws IOException {
    return store.listByLocator(locator);
  }

  /**
   * The operator's own removal of a blob, whatever its state: its quota is freed at once (the ledger
   * follows the store). Not a way for a peer to make a holder drop a blob: that takes a receipt or release.
   *
   * @return whether there was such a blob
   */
  public boolean remove(Fingerprint fingerprint) throws IOException {
    return store.delete(fingerprint);
  }

  /** How long an idle upload waits to be resumed before it is discarded, or null if the store does not say. */
  public java.time.@Nullable Duration abandonedUploadAfter() {
    return store instanceof FileCustodyStore
        ? java.time.Duration.ofMillis(((FileCustodyStore) store).abandonedUploadAfterMillis()) : null;
  }

  /** What the store knows of a blob (delivered ones included), or null. */
  public @Nullable BlobStat stat(Fingerprint fingerprint) throws IOException {
    return store.stat(fingerprint);
  }

  /** Cheap numbers: the ledger's snapshot and counters; no scan of the store. */
  public CustodyStats stats() {
    Map<ReceiptException.Reason, Long> receipts = new EnumMap<>(ReceiptException.Reason.class);
    for (ReceiptException.Reason r : ReceiptException.Reason.values()) {
      receipts.put(r, receiptRefusals[r.ordinal()].sum());
    }
    StoreUsage usage = store.usage();
    return new CustodyStats(ledger.stats(), forwarding.size(), droppedByReceipt.sum(), droppedByRelease.sum(),
        sync.evicted.sum(), sync.evictedBytes.sum(), sync.quarantined.sum(), sync.damagedLogRecords.sum(),
        usage.ownHeldBytes(),
        ledger.usageByPeer(), receipts);
  }

  /** Every file in the store's quarantine, with why it is there, oldest first. */
  public List<QuarantinedBlob> quarantined() throws IOException {
    return store.quarantined();
  }

  /** The latest quarantine of {@code fingerprint}'s blob, or null if it was never quarantined. */
  public @Nullable QuarantinedBlob quarantineOf(Fingerprint fingerprint) throws IOException {
    QuarantinedBlob found = null;
    for (QuarantinedBlob q : store.quarantined()) {
      if (fingerprint.equals(q.fingerprint())) {
        found = q;
      }
    }
    return found;
  }

  /** The store's own byte accounting (custody and own, held and reserved), read under the store's lock. */
  public StoreUsage storeUsage() {
    return store.usage();
  }

  /** The policy (ledger, clock, shapers) this custodian runs; for the engine's own tests. */
  CustodyPolicy<String> policy() {
    return policy;
  }

  /**
   * Store events the ledger could not apply (a custody upload committed without a reservation: someone
   * began it on the store directly). Zero when every custody upload goes through this class.
   */
  public long ledgerAnomalies() {
    return sync.anomalies.sum();
  }

  /** Times an admission could not refresh the clock file (it is retried on the next one). */
  public long clockFileFailures() {
    return clockFileFailures.sum();
  }

  /** Writes the clock's high-water mark and closes the store. Safe twice. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      refreshHighWater(clock.nowEpochSecond(), true);
    } finally {
      store.close();
    }
  }

  RefusalException refuse(Refusal refusal) {
    return policy.refusals().record(refusal).toException();
  }

  /** As {@link #refuse(Refusal)}, keeping the local failure (with its paths) as the exception's cause. */
  RefusalException refuse(Refusal refusal, IOException localCause) {
    return new RefusalException(policy.refusals().record(refusal), localCause);
  }

  private void ensureOpen() throws StoreException {
    if (closed) {
      throw new StoreException(StoreException.Reason.CLOSED, null, "the custodian was closed");
    }
  }

  private void refreshHighWater(long nowEpochSecond, boolean force) throws IOException {
    if (clockFile == null) {
      return;
    }
    synchronized (highWaterLock) {
      if (nowEpochSecond <= persistedHighWaterEpochSecond
          || (!force && nowEpochSecond - persistedHighWaterEpochSecond < HIGH_WATER_EVERY_SECONDS)) {
        return;
      }
      ClockFile.write(clockFile, nowEpochSecond);
      persistedHighWaterEpochSecond = nowEpochSecond;
    }
  }

  /** Rebuilds the ledger from the store and checks it against the store's own accounting. */
  private void recover() throws IOException {
    List<LedgerEntry<String>> entries = new ArrayList<>();
    List<Fingerprint> interrupted = new ArrayList<>();
    for (BlobStat s : store.list()) {
      if (s.state() == BlobState.FORWARDING) {
        interrupted.add(s.fingerprint()); // own blobs too: a killed forward of either kind has failed
      }
      if (s.kind() != BlobKind.CUSTODY || s.state() == BlobState.DELIVERED) {
        continue;
      }
      // EXPIRED here is "past expiry, bytes still on disk until evicted": it still counts.
      entries.add(LedgerEntry.held(s.fingerprint(), s.envelopeLengthBytes(), s.sourcePeer()));
    }
    for (UploadInfo u : store.uploads()) {
      if (u.request().kind() == BlobKind.CUSTODY) {
        entries.add(LedgerEntry.reserved(u.request().fingerprint(), u.request().declaredLengthBytes(),
            u.request().sourcePeer()));
      }
    }
    ledger.rebuild(entries);
    StoreUsage usage = store.usage();
    io.crowdbackup.api.policy.QuotaStats q = ledger.stats();
    if (q.heldBytes() != usage.custodyHeldBytes() || q.reservedBytes() != usage.custodyReservedBytes()) {
      throw new IOException("custody ledger rebuilt to held " + q.heldBytes() + " / reserved " + q.reservedBytes()
          + " bytes but the store counts held " + usage.custodyHeldBytes() + " / reserved "
          + usage.custodyReservedBytes() + " (was the store used by another program meanwhile?)");
    }
    // A forward that a crash or kill interrupted has failed: the blob is held again.
    for (Fingerprint fp : interrupted) {
      returnToHeld(fp);
    }
    refreshHighWater(clock.nowEpochSecond(), true);
  }

  /** Keeps the quota ledger in step with every change the store makes; the single path of releases. */
  static final class LedgerSync implements StoreListener {
    private final QuotaLedger<String> ledger;
    final LongAdder evicted = new LongAdder();
    final LongAdder evictedBytes = new LongAdder();
    final LongAdder quarantined = new LongAdder();
    final LongAdder damagedLogRecords = new LongAdder();
    final LongAdder anomalies = new LongAdder();

    LedgerSync(QuotaLedger<String> ledger) {
      this.ledger = ledger;
    }

    @Override
    public void uploadEnded(UploadInfo upload, UploadEnd how) {
      if (upload.request().kind() != BlobKind.CUSTODY) {
        return;
      }
      Fingerprint fp = upload.request().fingerprint();
      if (how == UploadEnd.COMMITTED) {
        if (ledger.stateOf(fp) == QuotaLedger.State.RESERVED) {
          ledger.commit(fp);
        } else {
          anomalies.increment();
        }
      } else {
        ledger.release(fp);
      }
    }

    @Override
    public void blobRemoved(BlobStat blob, Removal why) {
      if (blob.kind() != BlobKind.CUSTODY) {
        return;
      }
      ledger.release(blob.fingerprint());
      if (why == Removal.EXPIRED) {
        evicted.increment();
        evictedBytes.add(blob.envelopeLengthBytes());
      }
    }

    @Override
    public void quarantined(QuarantinedBlob blob) {
      quarantined.increment(); // own or custody, at open or on read: every one is counted
    }

    @Override
    public void stateLogDamaged(String log, List<String> damage) {
      damagedLogRecords.add(damage.size());
    }
  }

  /** The store sees custody time: expiry checks on read agree with the policy's clock. */
  static final class CustodyTimeClock extends Clock {
    private final CustodyClock clock;

    CustodyTimeClock(CustodyClock clock) {
      this.clock = clock;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      if (ZoneOffset.UTC.equals(zone)) {
        return this;
      }
      throw new UnsupportedOperationException("custody time is UTC only, not " + zone);
    }

    @Override
    public long millis() {
      return clock.nowEpochMillis();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }
  }

  /** Fail-fast builder; {@link #build()} rebuilds the ledger from the store. */
  static final class Builder {
    private final CustodyPolicy<String> policy;
    private final LedgerSync sync;
    private @Nullable CustodyStore store;
    private @Nullable Path clockFile;
    private Duration ingressTimeout = DEFAULT_BANDWIDTH_TIMEOUT;
    private Duration egressTimeout = DEFAULT_BANDWIDTH_TIMEOUT;
    /** Settings given, so that a second one fails instead of silently replacing the first. */
    private final java.util.Set<String> set = new java.util.HashSet<>();

    private Builder(CustodyPolicy<String> policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      this.sync = new LedgerSync(policy.ledger());
    }

    /** The listener the store must be opened with, so the ledger follows it. */
    public StoreListener storeListener() {
      return sync;
    }

    /** The clock the store must be opened with, so it measures expiry in custody time. */
    public Clock storeClock() {
      return new CustodyTimeClock(policy.clock());
    }

    /** The store, opened with {@link #storeListener()} and {@link #storeClock()}. Required. */
    public Builder store(CustodyStore store) {
      if (this.store != null) {
        throw new IllegalStateException("store was already set to " + this.store);
      }
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /** Where the clock's high-water mark is kept ({@link ClockFile}); none unless set (then a clock set back
     * while stopped is believed). */
    public Builder clockFile(Path clockFile) {
      requireUnset("clockFile", this.clockFile);
      this.clockFile = Objects.requireNonNull(clockFile, "clockFile");
      set.add("clockFile");
      return this;
    }

    /** How long a read or write piece may wait for ingress bandwidth. Default 30 s. */
    public Builder ingressTimeout(Duration timeout) {
      requireNotNegative(timeout, "ingressTimeout");
      requireUnset("ingressTimeout", this.ingressTimeout);
      this.ingressTimeout = timeout;
      set.add("ingressTimeout");
      return this;
    }

    /** How long a piece may wait for egress bandwidth. Default 30 s. */
    public Builder egressTimeout(Duration timeout) {
      requireNotNegative(timeout, "egressTimeout");
      requireUnset("egressTimeout", this.egressTimeout);
      this.egressTimeout = timeout;
      set.add("egressTimeout");
      return this;
    }

    private static void requireNotNegative(Duration d, String name) {
      if (Objects.requireNonNull(d, name).isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative but was " + d);
      }
    }

    /** Rebuilds the ledger from the store (blobs and resumable uploads), returns interrupted forwards to held. */
    public Custodian build() throws IOException {
      if (store == null) {
        throw new IllegalStateException("store is required");
      }
      Custodian c = new Custodian(this, store);
      c.recover();
      return c;
    }

    /** Fails if {@code name} was given before: one line of a configuration never undoes another. */
    private void requireUnset(String name, @Nullable Object current) {
      if (set.contains(name)) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }
  }
}
