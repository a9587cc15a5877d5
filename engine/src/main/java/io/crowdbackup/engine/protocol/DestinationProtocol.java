package io.crowdbackup.engine.protocol;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.TimeSource;
import io.crowdbackup.engine.envelope.EnvelopeScanner;
import java.io.Closeable;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * The destination server's protocol core (docs/protocol.md, "Destination server"). Takes envelopes by the
 * same tus upload as a holder, staged in a folder as {@code <fingerprint>-<length>.part} (fsynced at the
 * end of every PATCH, so {@code Upload-Offset} is what is on disk). Every piece of a body goes through the
 * keyless {@link EnvelopeScanner} before it is staged, so a header or framing that is not an envelope's ends
 * the upload at that piece, and the fingerprint is known when the last byte arrives; then the staged
 * envelope goes to the {@link DeliverySink}, which checks every chunk's tag before it keeps anything, and
 * the last PATCH is answered with the signed receipt ({@value #RECEIPT_HEADER}, base64).
 * A fingerprint already delivered is refused at creation with the stored receipt, byte for byte. Answers
 * "delivered?" for one fingerprint or a batch. Thread-safe; one PATCH per upload at a time.
 */
public final class DestinationProtocol implements Closeable {
  /** The response header that carries a receipt (base64 of its 143 bytes). */
  public static final String RECEIPT_HEADER = "CrowdBackup-Receipt";
  private static final String DELIVERIES = "/v1/deliveries";
  private static final String QUERY = "/v1/deliveries/query";
  private static final String PART = ".part";

  private final DeliverySink sink;
  private final Path staging;
  private final UploadIds ids;
  private final long maxEnvelopeBytes;
  private final BiConsumer<String, Throwable> onError;
  private final Map<Fingerprint, ReentrantLock> locks = new ConcurrentHashMap<>();
  /**
   * The keyless check of each unfinished upload, as far as its staged bytes go (one piece 0 and a few
   * counters each). Missing after a restart or a discarded PATCH: rebuilt from the staged bytes.
   */
  private final Map<Fingerprint, EnvelopeScanner> scanners = new ConcurrentHashMap<>();
  /**
   * Each staged file's size at its last fsync: what an answer may promise. A HEAD during a PATCH, or after
   * one that failed midway, would otherwise report bytes written but not yet on disk. Missing after a
   * restart: the size on disk then is all there is.
   */
  private final Map<Fingerprint, Long> durableSizes = new ConcurrentHashMap<>();
  private final Fsync fsync;
  private final Object stagingBudget = new Object();
  private final long maxStagedUploads;
  private final long maxStagedBytes;
  private final long abandonAfterMillis;
  private final TimeSource time;

  private DestinationProtocol(Builder b) {
    this.sink = b.sink;
    this.staging = b.staging;
    this.ids = Exchanges.uploadIds(b.uploadIdSecret);
    this.maxEnvelopeBytes = b.maxEnvelopeBytes;
    this.maxStagedUploads = b.maxStagedUploads;
    this.maxStagedBytes = b.maxStagedBytes;
    this.abandonAfterMillis = b.abandonAfter.toMillis();
    this.time = b.time;
    this.onError = b.onError != null ? b.onError : (what, e) -> { };
    this.fsync = b.fsync;
  }

  /** How a staged file is made durable; a test substitutes one that watches or holds the fsync. */
  interface Fsync {
    void force(FileChannel ch, Path part) throws IOException;
  }

  public static Builder newBuilder(DeliverySink sink, Path stagingDirectory) {
    return new Builder(sink, stagingDirectory);
  }

  /** Answers one request. Never throws for anything a peer sends; a failure of this side is a 503. */
  public ProtocolResponse handle(ProtocolRequest req) {
    return Exchanges.handle(req, (method, path) -> route(req, method, path), onError, "destination");
  }

  private ProtocolResponse route(ProtocolRequest req, String method, String path) throws IOException,
      ProtocolException {
    if (path.equals(Exchanges.UPLOADS) || path.startsWith(Exchanges.UPLOADS + "/")) {
      return uploads(req, method, path);
    }
    if (path.equals(QUERY)) {
      return method.equals("POST") ? query(req) : Exchanges.methodNotAllowed(method, path, "POST");
    }
    if (path.startsWith(DELIVERIES + "/")) {
      if (!method.equals("GET") && !method.equals("HEAD")) {
        return Exchanges.methodNotAllowed(method, path, "GET, HEAD");
      }
      Fingerprint fp = OfferMessage.fingerprint(path.substring(DELIVERIES.length() + 1), "delivery path");
      byte[] receipt = sink.receipt(fp);
      return receipt == null ? Exchanges.notFound(fp + " has not been delivered here")
          : ProtocolResponse.status(200).body("application/octet-stream", receipt);
    }
    return Exchanges.notFound("no resource " + Tus.printable(path) + " (this is protocol v1)");
  }

  private ProtocolResponse query(ProtocolRequest req) throws IOException, ProtocolException {
    byte[] body = Exchanges.readBody(req.body(), DeliveryQuery.LIMITS.maxBytes(), "delivery query JSON");
    List<Fingerprint> asked = DeliveryQuery.decodeRequest(body);
    Map<Fingerprint, byte[]> delivered = new LinkedHashMap<>();
    for (Fingerprint fp : asked) {
      byte[] r = sink.receipt(fp);
      if (r != null) {
        delivered.put(fp, r);
      }
    }
    return ProtocolResponse.status(200).body("application/json", DeliveryQuery.encodeResponse(delivered))
        .header("Cache-Control", Exchanges.NO_STORE);
  }

  // -----------------------------------------------------------------------------------------------------
  // tus

  private ProtocolResponse uploads(ProtocolRequest req, String method, String path) throws IOException,
      ProtocolException {
    if (method.equals("OPTIONS")) {
      return Exchanges.options(maxEnvelopeBytes);
    }
    Tus.requireResumable(req.header(Tus.TUS_RESUMABLE));
    if (path.equals(Exchanges.UPLOADS)) {
      if (!method.equals("POST")) {
        return Exchanges.tus(Exchanges.methodNotAllowed(method, path, "OPTIONS, POST"));
      }
      return Exchanges.tus(withUpload(req, create(req)));
    }
    Fingerprint fp = ids.fingerprintOf(path.substring(Exchanges.UPLOADS.length() + 1));
    if (fp == null) {
      return Exchanges.tus(Exchanges.notFound("no such upload"));
    }
    ReentrantLock lock = acquire(fp, false);
    if (lock == null && method.equals("HEAD")) {
      return Exchanges.tus(head(fp)); // still busy: what is on disk now, which a PATCH may rewind to
    }
    if (lock == null) {
      return Exchanges.tus(Exchanges.busy(fp));
    }
    try {
      switch (method) {
        case "HEAD":
          return Exchanges.tus(head(fp));
        case "PATCH":
          return Exchanges.tus(patch(req, fp));
        case "DELETE":
          Path part = staged(fp);
          if (part == null) {
            return Exchanges.tus(Exchanges.notFound("no upload of " + fp));
          }
          scanners.remove(fp);
          durableSizes.remove(fp);
          Files.deleteIfExists(part);
          return Exchanges.tus(ProtocolResponse.status(204));
        default:
          return Exchanges.tus(Exchanges.methodNotAllowed(method, path, "OPTIONS, HEAD, PATCH, DELETE"));
      }
    } finally {
      locks.remove(fp, lock); // before unlocking: a waiter then sees it is stale (see acquire)
      lock.unlock();
    }
  }

  /**
   * tus creation-with-upload: a creation whose body holds the first bytes goes on as a PATCH of them at
   * offset 0 (answered 201; a PATCH answers only what it fsynced). When another holder's upload of the same
   * envelope stands further on, or holds the lock, the body is ignored and the answer's offset says where to
   * PATCH.
   */
  private ProtocolResponse withUpload(ProtocolRequest req, ProtocolResponse created)
      throws IOException, ProtocolException {
    String location = created.headers().get("Location");
    if (created.status() != 201 || location == null || !Exchanges.carriesUpload(req)
        || !"0".equals(created.headers().get(Tus.UPLOAD_OFFSET))) {
      return created;
    }
    Fingerprint fp = Objects.requireNonNull(ids.fingerprintOf(location.substring(Exchanges.UPLOADS.length() + 1)),
        "the upload just created");
    ReentrantLock lock = acquire(fp, false);
    if (lock == null) {
      return created;
    }
    try {
      return Exchanges.createdWithUpload(created, patch(Exchanges.asPatch(req, 0), fp));
    } finally {
      locks.remove(fp, lock); // before unlocking: a waiter then sees it is stale (see acquire)
      lock.unlock();
    }
  }

  private ProtocolResponse create(ProtocolRequest req) throws IOException, ProtocolException {
    if (req.header("Upload-Defer-Length") != null) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, "Upload-Defer-Length",
          "is not supported: an envelope's length is known");
    }
    long length = Tus.parseNonNegative(Tus.UPLOAD_LENGTH, req.header(Tus.UPLOAD_LENGTH));
    Map<String, String> md = Tus.parseMetadata(req.header(Tus.UPLOAD_METADATA));
    String hex = md.get(OfferMessage.FINGERPRINT);
    if (hex == null) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, Tus.UPLOAD_METADATA,
          "must carry '" + OfferMessage.FINGERPRINT + "'");
    }
    Fingerprint fp = OfferMessage.fingerprint(hex, Tus.UPLOAD_METADATA + " value of 'fingerprint'");
    if (length == 0) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, Tus.UPLOAD_LENGTH, "must be positive");
    }
    byte[] receipt = sink.receipt(fp);
    if (receipt != null) {
      return alreadyDelivered(fp, receipt);
    }
    if (length > maxEnvelopeBytes) {
      return ProtocolResponse.problem(Problem.of(Problem.Type.TOO_LARGE, "the envelope is " + length
          + " bytes, this destination takes at most " + maxEnvelopeBytes).with(Problem.ACCEPTABLE_BYTES,
          maxEnvelopeBytes));
    }
    ReentrantLock lock = Objects.requireNonNull(acquire(fp, true)); // waits, so never null
    try {
      Path part = staged(fp);
      if (part != null && lengthOf(part) != length) {
        return ProtocolResponse.problem(Problem.of(Problem.Type.UPLOAD_IN_PROGRESS, "an upload of " + fp
            + " with another length (" + lengthOf(part) + " bytes) is in progress"));
      }
      if (part == null) {
        synchronized (stagingBudget) {
          ProtocolResponse refused = sweepAndReserve(length);
          if (refused != null) {
            return refused;
          }
          part = staging.resolve(fp.toHex() + "-" + length + PART);
          try (FileChannel ch = FileChannel.open(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            synced(ch, fp, part);
          }
          // The file's name too: without it a power cut could lose a staged file whose bytes were promised.
          io.crowdbackup.engine.inbox.SafeFiles.fsyncDirectory(staging);
        }
      }
      // Another holder may be sending the same envelope: it gets the same URL and continues where it stands.
      String url = Exchanges.UPLOADS + "/" + ids.idOf(fp);
      return ProtocolResponse.status(201).header("Location", url)
          .header(Tus.UPLOAD_OFFSET, Long.toString(durableSize(fp, part)));
    } finally {
      locks.remove(fp, lock); // before unlocking: a waiter then sees it is stale (see acquire)
      lock.unlock();
    }
  }

  private static ProtocolResponse alreadyDelivered(Fingerprint fp, byte[] receipt) {
    String b64 = Base64.getEncoder().encodeToString(receipt);
    return ProtocolResponse.problem(Problem.of(Problem.Type.ALREADY_DELIVERED, fp
        + " was delivered here already; the receipt is the one given the first time").with(Problem.RECEIPT, b64))
        .header(RECEIPT_HEADER, b64);
  }

  private ProtocolResponse head(Fingerprint fp) throws IOException {
    Path part = staged(fp);
    if (part == null) {
      byte[] receipt = sink.receipt(fp);
      ProtocolResponse r = Exchanges.notFound("no upload of " + fp);
      return receipt == null ? r : r.header(RECEIPT_HEADER, Base64.getEncoder().encodeToString(receipt));
    }
    return ProtocolResponse.status(200).header(Tus.UPLOAD_OFFSET, Long.toString(durableSize(fp, part)))
        .header(Tus.UPLOAD_LENGTH, Long.toString(lengthOf(part))).header("Cache-Control", Exchanges.NO_STORE);
  }

  private ProtocolResponse patch(ProtocolRequest req, Fingerprint fp) throws IOException, ProtocolException {
    ProtocolResponse bad = Exchanges.checkOffsetOctetStream(req.header("Content-Type"));
    if (bad != null) {
      return bad;
    }
    long offset = Tus.parseNonNegative(Tus.UPLOAD_OFFSET, req.header(Tus.UPLOAD_OFFSET));
    byte[] checksum = Tus.parseChecksum(req.header(Tus.UPLOAD_CHECKSUM));
    long contentLength = Exchanges.contentLength(req.header("Content-Length"));
    Path part = staged(fp);
    if (part == null) {
      byte[] receipt = sink.receipt(fp);
      return receipt != null ? alreadyDelivered(fp, receipt) : Exchanges.notFound("no upload of " + fp);
    }
    long length = lengthOf(part);
    long size = Files.size(part);
    durableSizes.putIfAbsent(fp, size); // after a restart, what is on disk is all there is
    if (offset < size) {
      // A peer resuming from an offset it was told earlier: cut back to where it continues (the scanner is
      // rebuilt from the staged bytes up to there).
      try (FileChannel ch = FileChannel.open(part, StandardOpenOption.WRITE)) {
        ch.truncate(offset);
        synced(ch, fp, part);
      }
      size = offset;
    }
    if (offset != size) {
      return ProtocolResponse.problem(Problem.of(Problem.Type.OFFSET_MISMATCH, "Upload-Offset is " + offset
          + " but the upload of " + fp + " continues at " + size).with(Problem.UPLOAD_OFFSET, size))
          .header(Tus.UPLOAD_OFFSET, Long.toString(size));
    }
    long remaining = length - offset;
    if (contentLength > remaining) {
      durableSizes.remove(fp);
      Files.deleteIfExists(part);
      return ProtocolResponse.problem(Problem.of(Problem.Type.UPLOAD_TOO_LONG, "Content-Length " + contentLength
          + " at offset " + offset + " goes past the declared " + length + " bytes; the upload was ended"));
    }
    EnvelopeScanner scanner;
    try {
      scanner = scannerAt(fp, part, offset);
    } catch (EnvelopeException e) {
      return rejected(fp, part, e); // staged bytes this side once took: only a changed disk gets here
    }
    BodyReader body = new BodyReader(req, remaining, checksum != null);
    boolean scanned = false; // whether the scanner stands where the staged bytes end
    try (FileChannel out = FileChannel.open(part, StandardOpenOption.WRITE)) {
      out.position(offset);
      for (ByteBuffer piece = body.next(); piece != null; piece = body.next()) {
        // Checked before it is written: a piece that breaks the header or the framing ends the upload at
        // once, while the peer is still sending, rather than after the whole body.
        scanner.update(piece.duplicate());
        while (piece.hasRemaining()) {
          out.write(piece);
        }
      }
      if (body.tooLong()) {
        out.close();
        durableSizes.remove(fp);
        Files.deleteIfExists(part);
        return ProtocolResponse.problem(Problem.of(Problem.Type.UPLOAD_TOO_LONG, "the body goes past the declared "
            + length + " bytes; the upload was ended"));
      }
      if (!body.checksumMatches(checksum)) {
        out.truncate(offset);
        synced(out, fp, part);
        return ProtocolResponse.problem(Problem.of(Problem.Type.CHECKSUM_MISMATCH,
            "Upload-Checksum does not match the body; its bytes were discarded").with(Problem.UPLOAD_OFFSET, offset))
            .header(Tus.UPLOAD_OFFSET, Long.toString(offset));
      }
      synced(out, fp, part); // before the answer: its Upload-Offset is what is on disk
      scanned = true;
    } catch (EnvelopeException e) {
      return rejected(fp, part, e);
    } finally {
      if (!scanned) {
        scanners.remove(fp);
      }
    }
    if (body.readFailure() != null) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, "PATCH body",
          "ended early after " + body.total() + " bytes (" + body.readFailure().getMessage() + ")");
    }
    long now = offset + body.total();
    if (now < length) {
      return ProtocolResponse.status(204).header(Tus.UPLOAD_OFFSET, Long.toString(now));
    }
    scanners.remove(fp);
    byte[] receipt;
    try {
      Fingerprint computed = scanner.finish();
      if (!computed.equals(fp)) {
        throw new EnvelopeException(EnvelopeException.Reason.FINGERPRINT_MISMATCH, "the bytes received hash to "
            + computed + ", not to the fingerprint of the upload");
      }
      try (FileChannel in = FileChannel.open(part, StandardOpenOption.READ)) {
        receipt = sink.deliver(in, fp);
      }
    } catch (EnvelopeException e) {
      return rejected(fp, part, e);
    }
    durableSizes.remove(fp);
    Files.deleteIfExists(part);
    return ProtocolResponse.status(204).header(Tus.UPLOAD_OFFSET, Long.toString(length))
        .header(RECEIPT_HEADER, Base64.getEncoder().encodeToString(receipt));
  }

  /** Ends an upload whose bytes are not an envelope, or not this one: nothing is kept. */
  private ProtocolResponse rejected(Fingerprint fp, Path part, EnvelopeException e) throws IOException {
    scanners.remove(fp);
    durableSizes.remove(fp);
    Files.deleteIfExists(part);
    return ProtocolResponse.problem(Problem.of(e));
  }

  /**
   * Fsyncs a staged file and records its size as what may be promised. Its modification time is set from
   * {@link #time} first, so that the abandonment sweep compares two readings of one clock (also after a
   * restart, and with the clock a test injects) and the fsync makes it durable with the bytes.
   */
  private void synced(FileChannel ch, Fingerprint fp, Path part) throws IOException {
    Files.setLastModifiedTime(part, FileTime.fromMillis(time.epochMillis()));
    fsync.force(ch, part);
    durableSizes.put(fp, ch.size());
  }

  /** What is on disk of a staged upload, as far as an fsync vouched for it. */
  private long durableSize(Fingerprint fp, Path part) throws IOException {
    long size = Files.size(part);
    Long durable = durableSizes.get(fp);
    return durable == null ? size : Math.min(size, durable);
  }

  /**
   * The scanner of {@code fp}'s upload standing at {@code offset}: the one kept from the last PATCH, else
   * (after a restart, a rewind or a discarded PATCH) a new one fed the staged bytes up to {@code offset}.
   */
  private EnvelopeScanner scannerAt(Fingerprint fp, Path part, long offset) throws IOException {
    EnvelopeScanner s = scanners.get(fp);
    if (s != null && s.position() == offset) {
      return s;
    }
    s = new EnvelopeScanner();
    ByteBuffer buf = ByteBuffer.allocate(Exchanges.STREAM_BUFFER_BYTES);
    try (FileChannel in = FileChannel.open(part, StandardOpenOption.READ)) {
      while (s.position() < offset) {
        ((Buffer) buf).clear();
        ((Buffer) buf).limit((int) Math.min(buf.capacity(), offset - s.position()));
        if (in.read(buf) < 0) {
          throw new IOException(part + " holds " + s.position() + " bytes, expected at least " + offset);
        }
        ((Buffer) buf).flip();
        s.update(buf);
      }
    }
    scanners.put(fp, s);
    return s;
  }

  /**
   * Bounds what strangers can make this side stage: removes staged uploads untouched for longer than the
   * abandonment time (none that a request is working on), then checks that one more upload of
   * {@code length} bytes stays within the count and the declared bytes allowed. Called under
   * {@link #stagingBudget}; costs one listing of the staging folder per new upload.
   *
   * @return the refusal, or {@code null} when it fits
   */
  private @Nullable ProtocolResponse sweepAndReserve(long length) throws IOException {
    long now = time.epochMillis();
    long count = 0;
    long bytes = 0;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(staging, "*" + PART)) {
      for (Path p : ds) {
        Fingerprint fp = fingerprintOfPart(p);
        if (fp == null) {
          continue;
        }
        long modified;
        try {
          modified = Files.getLastModifiedTime(p).toMillis();
        } catch (NoSuchFileException gone) {
          continue; // delivered (or abandoned) since the listing: it holds no room any more
        }
        if (!locks.containsKey(fp) && now - modified > abandonAfterMillis) {
          scanners.remove(fp);
          durableSizes.remove(fp);
          Files.deleteIfExists(p);
          continue;
        }
        count++;
        bytes += lengthOf(p);
      }
    }
    if (count + 1 > maxStagedUploads || bytes + length > maxStagedBytes) {
      long free = Math.max(0, maxStagedBytes - bytes);
      return ProtocolResponse.problem(Problem.of(Problem.Type.QUOTA_FULL, "this destination is receiving " + count
          + " uploads of " + bytes + " bytes (at most " + maxStagedUploads + " and " + maxStagedBytes
          + "); retry later").with(Problem.BYTES_FREE, free).with(Problem.ACCEPTABLE_BYTES, free))
          .header("Retry-After", "60");
    }
    return null;
  }

  /** The fingerprint a staged file's name carries, or null for a name this class did not write. */
  private static @Nullable Fingerprint fingerprintOfPart(Path p) {
    String n = p.getFileName().toString();
    if (n.length() < 64 + 2 + PART.length() || n.charAt(64) != '-') {
      return null;
    }
    try {
      lengthOf(p);
      return OfferMessage.fingerprint(n.substring(0, 64), "staged file");
    } catch (ProtocolException | NumberFormatException e) {
      return null;
    }
  }

  /**
   * The lock of one fingerprint's upload, held; {@code null} when {@code wait} is false and it stayed busy
   * for {@link Exchanges#BUSY_WAIT_MILLIS}.
   * Locks leave the map when released, so the map holds only uploads being worked on: a lock found in the
   * map but removed meanwhile is not the current one, and is given up.
   */
  private @Nullable ReentrantLock acquire(Fingerprint fp, boolean wait) throws java.io.InterruptedIOException {
    while (true) {
      ReentrantLock lock = locks.computeIfAbsent(fp, k -> new ReentrantLock());
      if (wait) {
        lock.lock();
      } else if (!Exchanges.lockSoon(lock)) {
        return null;
      }
      if (locks.get(fp) == lock) {
        return lock;
      }
      lock.unlock();
    }
  }

  /** The staged file of {@code fp}, or null. */
  private @Nullable Path staged(Fingerprint fp) throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(staging, fp.toHex() + "-*" + PART)) {
      for (Path p : ds) {
        return p;
      }
    } catch (NoSuchFileException e) {
      return null;
    }
    return null;
  }

  private static long lengthOf(Path part) {
    String n = part.getFileName().toString();
    return Long.parseLong(n.substring(65, n.length() - PART.length()));
  }

  /** Nothing to release: staged uploads are files, resumable after a restart. */
  @Override
  public void close() {}

  /** Fail-fast builder. */
  public static final class Builder {
    private final DeliverySink sink;
    private final Path staging;
    private byte @Nullable [] uploadIdSecret;
    private long maxEnvelopeBytes = 16L << 30;
    private boolean maxSet;
    private long maxStagedUploads = 1000;
    private long maxStagedBytes = 64L << 30;
    private Duration abandonAfter = Duration.ofHours(24);
    private TimeSource time = TimeSource.system();
    private @Nullable BiConsumer<String, Throwable> onError;
    private final java.util.Set<String> set = new java.util.HashSet<>();
    private Fsync fsync = (ch, part) -> ch.force(true);

    private Builder(DeliverySink sink, Path staging) {
      this.sink = Objects.requireNonNull(sink, "sink");
      this.staging = Objects.requireNonNull(staging, "staging");
    }

    /** As {@link HolderProtocol.Builder#uploadIdSecret}. */
    public Builder uploadIdSecret(byte[] secret) {
      this.uploadIdSecret = Exchanges.checkedSecret(uploadIdSecret, secret);
      return this;
    }

    /** The largest envelope taken. Default 16 GiB. */
    public Builder maxEnvelopeBytes(long bytes) {
      if (maxSet) {
        throw new IllegalStateException("maxEnvelopeBytes was already set to " + maxEnvelopeBytes);
      }
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxEnvelopeBytes must be positive but was " + bytes);
      }
      this.maxEnvelopeBytes = bytes;
      this.maxSet = true;
      return this;
    }

    /**
     * Bounds on unfinished uploads, so that strangers cannot fill the disk by starting uploads: at most
     * {@code uploads} at once, their declared lengths together at most {@code bytes}. Defaults 1000 and
     * 64 GiB. Beyond them a creation is refused {@code quota-full} with {@code Retry-After}.
     */
    public Builder maxStaged(long uploads, long bytes) {
      if (uploads < 1 || bytes < 1) {
        throw new IllegalArgumentException("maxStaged must be positive but was " + uploads + " uploads, " + bytes
            + " bytes");
      }
      requireUnset("maxStaged", maxStagedUploads + " uploads, " + maxStagedBytes + " bytes");
      this.maxStagedUploads = uploads;
      this.maxStagedBytes = bytes;
      return this;
    }

    /** An unfinished upload untouched this long is removed (at the next creation). Default 24 h. */
    public Builder abandonAfter(Duration idle) {
      if (Objects.requireNonNull(idle, "idle").isNegative()) {
        throw new IllegalArgumentException("abandonAfter must not be negative but was " + idle);
      }
      requireUnset("abandonAfter", abandonAfter);
      this.abandonAfter = idle;
      return this;
    }

    /**
     * The time that staged uploads' idleness is measured in (see {@link #abandonAfter}). Default
     * {@link TimeSource#system()}; tests and simulations pass their own.
     */
    public Builder time(TimeSource time) {
      Objects.requireNonNull(time, "time");
      requireUnset("time", this.time);
      this.time = time;
      return this;
    }

    /** Fails if {@code name} was given before: one setting never silently replaces another. */
    private void requireUnset(String name, Object current) {
      if (!set.add(name)) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }

    public Builder onError(BiConsumer<String, Throwable> onError) {
      if (this.onError != null) {
        throw new IllegalStateException("onError was already set");
      }
      this.onError = Objects.requireNonNull(onError, "onError");
      return this;
    }

    /** For tests: how staged files are fsynced (default {@link FileChannel#force}). */
    Builder fsync(Fsync fsync) {
      this.fsync = Objects.requireNonNull(fsync, "fsync");
      return this;
    }

    /** Creates the staging folder if needed. */
    public DestinationProtocol build() throws IOException {
      Files.createDirectories(staging);
      return new DestinationProtocol(this);
    }
  }
}
