package io.crowdbackup.engine.protocol;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.policy.PeerUsage;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.CustodyStats;
import io.crowdbackup.engine.custody.CustodyUpload;
import io.crowdbackup.engine.custody.DropOutcome;
import io.crowdbackup.engine.custody.Offer;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * The holder service's protocol core (docs/protocol.md, "Holder service"), bound to a {@link Custodian}
 * and to nothing HTTP-specific: a binding hands it {@link ProtocolRequest}s and sends back the
 * {@link ProtocolResponse}s. Offers and tus creations go to {@link Custodian#accept}; PATCH bodies stream
 * through one fixed buffer into the {@link CustodyUpload}; the last PATCH returns only after the store
 * verified the fingerprint and committed the blob. {@code Upload-Offset}, in a HEAD and in a PATCH's answer,
 * is only what the store made durable. Thread-safe; one PATCH per upload at a time (another gets 423).
 */
public final class HolderProtocol implements Closeable {
  private static final String OFFERS = "/v1/offers";
  private static final String RECEIPTS = "/v1/receipts";
  private static final String RELEASES = "/v1/releases";
  private static final String STATUS = "/v1/status";
  /** The largest PATCH body that may carry {@code Upload-Checksum}: it is checked before it is stored. */
  public static final int MAX_CHECKSUMMED_PATCH_BYTES = 1 << 20;
  private static final int CHECKSUM_BUDGET_BYTES = 32 << 20;

  private final Custodian custodian;
  private final UploadIds ids;
  private final PeerIdentity identity;
  private final BiConsumer<String, Throwable> onError;
  private final Map<Fingerprint, Session> sessions = new ConcurrentHashMap<>();
  /** Bytes of checksummed PATCH bodies held in memory at once, across all uploads. */
  private final java.util.concurrent.Semaphore checksumBudget = new java.util.concurrent.Semaphore(
      CHECKSUM_BUDGET_BYTES);

  /** One upload's handle between PATCHes, and the lock that keeps PATCHes of it apart. */
  private static final class Session {
    final ReentrantLock lock = new ReentrantLock();
    @Nullable CustodyUpload upload;
    volatile long durableOffset = -1;
    volatile long lengthBytes;
    volatile long expiresAtEpochSecond;

    void track(CustodyUpload u) {
      upload = u;
      durableOffset = u.durableOffset();
      lengthBytes = u.declaredLengthBytes();
      expiresAtEpochSecond = u.custodyExpiresAtEpochSecond();
    }
  }

  private HolderProtocol(Builder b) {
    this.custodian = b.custodian;
    this.ids = Exchanges.uploadIds(b.uploadIdSecret);
    this.identity = b.identity != null ? b.identity : PeerIdentity.BY_ADDRESS;
    this.onError = b.onError != null ? b.onError : (what, e) -> { };
  }

  public static Builder newBuilder(Custodian custodian) {
    return new Builder(custodian);
  }

  /** Answers one request. Never throws for anything a peer sends; a failure of this device is a 503. */
  public ProtocolResponse handle(ProtocolRequest req) {
    return Exchanges.handle(req, (method, path) -> route(req, method, path), onError, "holder");
  }

  private ProtocolResponse route(ProtocolRequest req, String method, String path) throws IOException,
      ProtocolException {
    if (path.equals(Exchanges.UPLOADS) || path.startsWith(Exchanges.UPLOADS + "/")) {
      return uploads(req, method, path);
    }
    switch (path) {
      case OFFERS:
        return method.equals("POST") ? offer(req) : Exchanges.methodNotAllowed(method, path, "POST");
      case RECEIPTS:
        return method.equals("POST") ? drop(req, false) : Exchanges.methodNotAllowed(method, path, "POST");
      case RELEASES:
        return method.equals("POST") ? drop(req, true) : Exchanges.methodNotAllowed(method, path, "POST");
      case STATUS:
        return method.equals("GET") ? status(req) : Exchanges.methodNotAllowed(method, path, "GET");
      default:
        return Exchanges.notFound("no resource " + Tus.printable(path) + " (this is protocol v1)");
    }
  }

  // -----------------------------------------------------------------------------------------------------
  // Offers and tus creation

  private ProtocolResponse offer(ProtocolRequest req) throws IOException, ProtocolException {
    byte[] body = Exchanges.readBody(req.body(), OfferMessage.LIMITS.maxBytes(), "offer JSON");
    return accept(req, OfferMessage.decode(body), false);
  }

  private ProtocolResponse accept(ProtocolRequest req, OfferMessage m, boolean tus) throws IOException,
      ProtocolException {
    String peer = identity.of(req.remoteAddress(), m.peer());
    Offer offer;
    try {
      offer = Offer.newBuilder().fingerprint(m.fingerprint()).declaredLengthBytes(m.lengthBytes())
          .envelopeExpiresAtEpochSecond(m.expiresAtEpochSecond()).sourcePeer(peer)
          .requireFullRetention(m.requireFullRetention()).build();
    } catch (IllegalArgumentException e) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, "offer", String.valueOf(e.getMessage()));
    }
    Session s = new Session();
    s.lock.lock();
    try {
      CustodyUpload u;
      try {
        u = custodian.accept(offer);
      } catch (RefusalException e) {
        if (e.reason() == Refusal.Reason.ALREADY_HELD || e.reason() == Refusal.Reason.UPLOAD_IN_PROGRESS) {
          ProtocolResponse again = ownUnfinishedUpload(m, peer, tus);
          if (again != null) {
            return again;
          }
        }
        return answer(ProtocolResponse.problem(Problem.of(e.refusal())), tus);
      }
      s.track(u);
      Session old = sessions.put(m.fingerprint(), s);
      if (old != null) {
        closeQuietly(old); // a stale handle of an upload the store had already ended
      }
      return created(m.fingerprint(), 0, u.custodyExpiresAtEpochSecond(), tus);
    } finally {
      s.lock.unlock();
    }
  }

  /**
   * A source that lost its state (killed, or a creation whose answer was lost) offers again: if the store
   * has an unfinished upload of this fingerprint from the same peer with the same length, it gets the same
   * upload URL and continues from the durable offset.
   */
  private @Nullable ProtocolResponse ownUnfinishedUpload(OfferMessage m, String peer, boolean tus) throws IOException {
    for (UploadInfo u : custodian.uploads()) {
      if (u.request().fingerprint().equals(m.fingerprint()) && u.request().kind() == BlobKind.CUSTODY
          && peer.equals(u.request().sourcePeer()) && u.request().declaredLengthBytes() == m.lengthBytes()) {
        Session s = sessions.get(m.fingerprint());
        long offset = s != null && s.durableOffset >= 0 ? s.durableOffset : u.durableOffsetBytes();
        return created(m.fingerprint(), offset, u.request().expiresNoLaterThanEpochSecond(), tus);
      }
    }
    return null;
  }

  private ProtocolResponse created(Fingerprint fp, long offset, long expires, boolean tus) {
    String url = Exchanges.UPLOADS + "/" + ids.idOf(fp);
    ProtocolResponse r = tus ? ProtocolResponse.status(201)
        : ProtocolResponse.json(201, Json.object().put("uploadUrl", url).put("uploadOffset", offset)
            .put("custodyExpiresAtEpochSecond", expires));
    r.header("Location", url).header(Tus.UPLOAD_OFFSET, Long.toString(offset))
        .header(Tus.UPLOAD_EXPIRES, Tus.formatHttpDate(expires));
    return answer(r, tus);
  }

  private static ProtocolResponse answer(ProtocolResponse r, boolean tus) {
    return tus ? Exchanges.tus(r) : r;
  }

  // -----------------------------------------------------------------------------------------------------
  // tus

  private ProtocolResponse uploads(ProtocolRequest req, String method, String path) throws IOException,
      ProtocolException {
    boolean collection = path.equals(Exchanges.UPLOADS);
    if (method.equals("OPTIONS")) {
      return Exchanges.options(custodian.stats().limitBytes());
    }
    Tus.requireResumable(req.header(Tus.TUS_RESUMABLE));
    if (collection) {
      if (!method.equals("POST")) {
        return Exchanges.tus(Exchanges.methodNotAllowed(method, path, "OPTIONS, POST"));
      }
      if (req.header("Upload-Defer-Length") != null) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, "Upload-Defer-Length",
            "is not supported: an offer states its exact length");
      }
      long length = Tus.parseNonNegative(Tus.UPLOAD_LENGTH, req.header(Tus.UPLOAD_LENGTH));
      OfferMessage m = OfferMessage.fromTus(Tus.parseMetadata(req.header(Tus.UPLOAD_METADATA)), length);
      return withUpload(req, m.fingerprint(), accept(req, m, true));
    }
    Fingerprint fp = ids.fingerprintOf(path.substring(Exchanges.UPLOADS.length() + 1));
    if (fp == null) {
      return Exchanges.tus(Exchanges.notFound("no such upload"));
    }
    switch (method) {
      case "HEAD":
        return Exchanges.tus(head(fp));
      case "PATCH":
        return Exchanges.tus(patch(req, fp));
      case "DELETE":
        return Exchanges.tus(terminate(fp));
      default:
        return Exchanges.tus(Exchanges.methodNotAllowed(method, path, "OPTIONS, HEAD, PATCH, DELETE"));
    }
  }

  /**
   * tus creation-with-upload: a creation whose body holds the first bytes goes on as a PATCH of them at
   * offset 0, answered 201 with the durable offset (what the last checkpoint made durable, or the whole
   * length once committed). A creation that finds the peer's unfinished upload further on ignores the body:
   * its answer's offset tells the peer where to PATCH.
   */
  private ProtocolResponse withUpload(ProtocolRequest req, Fingerprint fp, ProtocolResponse created)
      throws IOException, ProtocolException {
    if (created.status() != 201 || !Exchanges.carriesUpload(req)
        || !"0".equals(created.headers().get(Tus.UPLOAD_OFFSET))) {
      return created;
    }
    // The PATCH answers with what its checkpoint made durable (or the whole length once committed).
    return Exchanges.tus(Exchanges.createdWithUpload(created, patch(Exchanges.asPatch(req, 0), fp)));
  }

  private ProtocolResponse head(Fingerprint fp) throws IOException {
    Session s = sessions.get(fp);
    if (s != null) {
      // A peer that lost its connection asks at once: let the dead PATCH end (it makes what arrived
      // durable) so that the answer is where a PATCH will be able to continue.
      if (!Exchanges.lockSoon(s.lock)) {
        return s.durableOffset >= 0 ? offsetAnswer(200, s.durableOffset, s.lengthBytes, s.expiresAtEpochSecond)
            : Exchanges.busy(fp);
      }
      try {
        if (s.durableOffset >= 0) {
          return offsetAnswer(200, s.durableOffset, s.lengthBytes, s.expiresAtEpochSecond);
        }
      } finally {
        s.lock.unlock();
      }
    }
    BlobStat b = custodian.stat(fp);
    if (b != null && b.kind() == BlobKind.CUSTODY && b.state().hasBytes()) {
      return offsetAnswer(200, b.envelopeLengthBytes(), b.envelopeLengthBytes(), b.expiresAtEpochSecond());
    }
    for (UploadInfo u : custodian.uploads()) {
      if (u.request().fingerprint().equals(fp)) {
        return offsetAnswer(200, u.durableOffsetBytes(), u.request().declaredLengthBytes(),
            u.request().expiresNoLaterThanEpochSecond());
      }
    }
    return Exchanges.notFound("no upload of " + fp + " (never begun, ended, or abandoned)");
  }

  private static ProtocolResponse offsetAnswer(int status, long offset, long length, long expires) {
    ProtocolResponse r = ProtocolResponse.status(status).header(Tus.UPLOAD_OFFSET, Long.toString(offset))
        .header("Cache-Control", Exchanges.NO_STORE);
    if (length > 0) {
      r.header(Tus.UPLOAD_LENGTH, Long.toString(length));
    }
    if (expires > 0) {
      r.header(Tus.UPLOAD_EXPIRES, Tus.formatHttpDate(expires));
    }
    return r;
  }

  private ProtocolResponse patch(ProtocolRequest req, Fingerprint fp) throws IOException, ProtocolException {
    ProtocolResponse bad = Exchanges.checkOffsetOctetStream(req.header("Content-Type"));
    if (bad != null) {
      return bad;
    }
    long offset = Tus.parseNonNegative(Tus.UPLOAD_OFFSET, req.header(Tus.UPLOAD_OFFSET));
    byte[] checksum = Tus.parseChecksum(req.header(Tus.UPLOAD_CHECKSUM));
    long contentLength = Exchanges.contentLength(req.header("Content-Length"));
    Session s = sessions.computeIfAbsent(fp, k -> new Session());
    if (!Exchanges.lockSoon(s.lock)) {
      return Exchanges.busy(fp);
    }
    try {
      if (sessions.get(fp) != s) {
        return ProtocolResponse.problem(Problem.of(Problem.Type.UPLOAD_BUSY, "the upload of " + fp
            + " changed meanwhile; retry"));
      }
      if (s.upload == null) {
        BlobStat b = custodian.stat(fp);
        if (b != null && b.kind() == BlobKind.CUSTODY && b.state().hasBytes()) {
          sessions.remove(fp, s);
          // The upload is complete: a repeat of the last PATCH (its answer was lost) is answered again.
          return offset == b.envelopeLengthBytes() && contentLength <= 0
              ? offsetAnswer(204, offset, 0, b.expiresAtEpochSecond())
              : offsetMismatch(offset, b.envelopeLengthBytes(), fp);
        }
        ProtocolResponse r = reopen(s, fp);
        if (r != null) {
          return r;
        }
      }
      CustodyUpload u = Objects.requireNonNull(s.upload, "upload"); // reopen() set it or answered
      if (offset != u.offset()) {
        if (offset != u.durableOffset()) {
          return offsetMismatch(offset, u.durableOffset(), fp);
        }
        // The peer continues from the durable offset (it asked HEAD after a drop): cut back to it.
        closeQuietly(s);
        ProtocolResponse r = reopen(s, fp);
        if (r != null) {
          return r;
        }
        u = Objects.requireNonNull(s.upload, "upload");
        if (u.offset() != offset) {
          // Reopening keeps every whole piece the store had written (and makes it durable): the peer is
          // behind that; HEAD now says where to continue.
          return offsetMismatch(offset, u.offset(), fp);
        }
      }
      long remaining = u.declaredLengthBytes() - offset;
      if (contentLength > remaining) {
        return tooLong(s, fp, "Content-Length " + contentLength + " at offset " + offset + " goes past the declared "
            + u.declaredLengthBytes() + " bytes");
      }
      if (checksum != null) {
        ProtocolResponse r = checkedPatch(req, s, fp, u, remaining, checksum);
        if (r != null) {
          return r;
        }
      } else {
        BodyReader body = new BodyReader(req, remaining, false);
        try {
          for (ByteBuffer piece = body.next(); piece != null; piece = body.next()) {
            u.write(piece);
          }
        } catch (RefusalException e) {
          forget(s, fp);
          return ProtocolResponse.problem(Problem.of(e.refusal()));
        } catch (EnvelopeException e) {
          forget(s, fp);
          return ProtocolResponse.problem(Problem.of(e));
        } catch (IOException e) {
          return deviceFailed(s, fp, e);
        }
        if (body.tooLong()) {
          return tooLong(s, fp, "the body goes past the declared " + u.declaredLengthBytes() + " bytes");
        }
        if (body.readFailure() != null) {
          // The peer went away or idled out: keep what arrived, as durable as it gets, for a resume.
          try {
            s.durableOffset = u.checkpoint();
          } finally {
            closeQuietly(s);
          }
          throw new ProtocolException(ProtocolException.Reason.MALFORMED, "PATCH body",
              "ended early after " + body.total() + " bytes (" + body.readFailure().getMessage() + ")");
        }
      }
      if (u.offset() == u.declaredLengthBytes()) {
        BlobStat b;
        try {
          b = u.commit();
        } catch (RefusalException e) {
          forget(s, fp);
          return ProtocolResponse.problem(Problem.of(e.refusal()));
        } catch (EnvelopeException e) {
          forget(s, fp);
          return ProtocolResponse.problem(Problem.of(e));
        }
        forget(s, fp);
        return offsetAnswer(204, b.envelopeLengthBytes(), 0, b.expiresAtEpochSecond());
      }
      // The answer is what the checkpoint made durable (every byte, partial piece included): a client
      // continues from it, so it must survive a crash now (docs/protocol.md §2.3).
      s.durableOffset = u.checkpoint();
      return offsetAnswer(204, s.durableOffset, 0, u.custodyExpiresAtEpochSecond());
    } finally {
      s.lock.unlock();
    }
  }

  /** Opens the store's upload for this session; an answer when that is impossible. */
  private @Nullable ProtocolResponse reopen(Session s, Fingerprint fp) throws IOException {
    try {
      s.track(custodian.resume(fp));
      return null;
    } catch (RefusalException e) {
      sessions.remove(fp, s);
      return ProtocolResponse.problem(Problem.of(e.refusal()));
    } catch (EnvelopeException e) {
      sessions.remove(fp, s);
      return ProtocolResponse.problem(Problem.of(e));
    } catch (StoreException e) {
      if (e.reason() == StoreException.Reason.NOT_FOUND) {
        sessions.remove(fp, s);
        return Exchanges.notFound("no upload of " + fp + " (never begun, ended, or abandoned)");
      }
      throw e;
    }
  }

  private static ProtocolResponse offsetMismatch(long given, long expected, Fingerprint fp) {
    return ProtocolResponse.problem(Problem.of(Problem.Type.OFFSET_MISMATCH, "Upload-Offset is " + given
        + " but the upload of " + fp + " continues at " + expected).with(Problem.UPLOAD_OFFSET, expected))
        .header(Tus.UPLOAD_OFFSET, Long.toString(expected));
  }

  private ProtocolResponse tooLong(Session s, Fingerprint fp, String detail) throws IOException {
    abort(s, fp);
    return ProtocolResponse.problem(Problem.of(Problem.Type.UPLOAD_TOO_LONG, detail
        + "; the upload was ended and nothing kept"));
  }

  /**
   * A PATCH with {@code Upload-Checksum}: its body is held in memory (at most
   * {@value #MAX_CHECKSUMMED_PATCH_BYTES} bytes, within a global budget) and checked before any of it
   * reaches the upload, so a mismatch (460) leaves the upload exactly as it was, as tus asks.
   *
   * @return an answer when the PATCH ends here, {@code null} when its bytes were written
   */
  private @Nullable ProtocolResponse checkedPatch(ProtocolRequest req, Session s, Fingerprint fp, CustodyUpload u,
      long remaining, byte[] checksum) throws IOException, ProtocolException {
    int budget = (int) Math.min(remaining, MAX_CHECKSUMMED_PATCH_BYTES);
    if (!checksumBudget.tryAcquire(budget)) {
      return Exchanges.unavailable("too many checksummed PATCHes in flight; retry, or send smaller ones");
    }
    try {
      BodyReader body = new BodyReader(req, remaining, true);
      java.io.ByteArrayOutputStream held = new java.io.ByteArrayOutputStream(Math.min(budget, 64 * 1024));
      for (ByteBuffer piece = body.next(); piece != null; piece = body.next()) {
        if (held.size() + piece.remaining() > budget) {
          throw new ProtocolException(ProtocolException.Reason.TOO_LARGE, "PATCH body",
              "a PATCH with Upload-Checksum may carry at most " + MAX_CHECKSUMMED_PATCH_BYTES + " bytes");
        }
        byte[] copy = new byte[piece.remaining()];
        piece.get(copy);
        held.write(copy, 0, copy.length);
      }
      if (body.tooLong()) {
        return tooLong(s, fp, "the body goes past the declared " + u.declaredLengthBytes() + " bytes");
      }
      if (body.readFailure() != null) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, "PATCH body",
            "ended early after " + body.total() + " bytes; nothing of it was kept");
      }
      if (!body.checksumMatches(checksum)) {
        return ProtocolResponse.problem(Problem.of(Problem.Type.CHECKSUM_MISMATCH,
            "Upload-Checksum does not match the body; its bytes were discarded")
            .with(Problem.UPLOAD_OFFSET, u.offset())).header(Tus.UPLOAD_OFFSET, Long.toString(u.offset()));
      }
      try {
        u.write(ByteBuffer.wrap(held.toByteArray()));
      } catch (RefusalException e) {
        forget(s, fp);
        return ProtocolResponse.problem(Problem.of(e.refusal()));
      } catch (EnvelopeException e) {
        forget(s, fp);
        return ProtocolResponse.problem(Problem.of(e));
      } catch (IOException e) {
        return deviceFailed(s, fp, e);
      }
      return null;
    } finally {
      checksumBudget.release(budget);
    }
  }

  /** This device failed (disk, bandwidth wait): the upload stays resumable from its durable offset. */
  private ProtocolResponse deviceFailed(Session s, Fingerprint fp, IOException e) {
    onError.accept("PATCH " + fp, e);
    closeQuietly(s);
    return Exchanges.unavailable("this holder could not store the bytes; resume from the durable offset later");
  }

  private ProtocolResponse terminate(Fingerprint fp) throws IOException {
    Session s = sessions.computeIfAbsent(fp, k -> new Session());
    if (!Exchanges.lockSoon(s.lock)) {
      return Exchanges.busy(fp);
    }
    try {
      if (s.upload == null) {
        ProtocolResponse r = reopen(s, fp);
        if (r != null) {
          return r;
        }
      }
      abort(s, fp);
      return ProtocolResponse.status(204);
    } finally {
      s.lock.unlock();
    }
  }

  /** Ends the upload: nothing kept, its reservation freed. */
  private void abort(Session s, Fingerprint fp) throws IOException {
    try {
      if (s.upload != null) {
        s.upload.abort();
      }
    } finally {
      forget(s, fp);
    }
  }

  private void forget(Session s, Fingerprint fp) {
    closeQuietly(s);
    sessions.remove(fp, s);
  }

  private void closeQuietly(Session s) {
    CustodyUpload u = s.upload;
    s.upload = null;
    s.durableOffset = -1;
    if (u != null) {
      try {
        u.close();
      } catch (IOException e) {
        onError.accept("closing the upload of " + u.fingerprint(), e);
      }
    }
  }

  // -----------------------------------------------------------------------------------------------------
  // Receipts, releases, status

  private ProtocolResponse drop(ProtocolRequest req, boolean release) throws IOException, ProtocolException {
    String what = release ? "release" : "receipt";
    byte[] bytes = Exchanges.readBody(req.body(), Receipts.ENCODED_BYTES, what + " body");
    DropOutcome outcome;
    try {
      outcome = release ? custodian.acceptRelease(bytes) : custodian.acceptReceipt(bytes);
    } catch (ReceiptException e) {
      return ProtocolResponse.problem(Problem.of(Problem.Type.RECEIPT_REFUSED, "the " + what + " was refused: "
          + Problem.peerSafe(e.getMessage()) + "; the blob stays").with(Problem.RECEIPT_REASON, e.reason().name()));
    }
    return ProtocolResponse.json(200, Json.object().put("outcome", outcome.name()));
  }

  private ProtocolResponse status(ProtocolRequest req) {
    CustodyStats st = custodian.stats();
    String you = identity.of(req.remoteAddress(), null);
    Map<String, PeerUsage> byPeer = st.usageByPeer();
    PeerUsage yours = byPeer.get(you);
    Json.Writer w = Json.object().put("limitBytes", st.limitBytes()).put("heldBytes", st.heldBytes())
        .put("reservedBytes", st.reservedBytes()).put("freeBytes", st.freeBytes()).put("heldCount", st.heldCount())
        .put("reservedCount", st.reservedCount()).put("peerCount", byPeer.size()).put("you", you)
        .put("yourHeldBytes", yours == null ? 0 : yours.heldBytes())
        .put("yourReservedBytes", yours == null ? 0 : yours.reservedBytes());
    if (req.remoteAddress().isLoopbackAddress()) {
      // Who else uses this holder is for its owner only, not for the venue.
      List<Json.Writer> peers = new ArrayList<>();
      for (Map.Entry<String, PeerUsage> e : byPeer.entrySet()) {
        peers.add(Json.object().put("peer", e.getKey()).put("heldBytes", e.getValue().heldBytes())
            .put("reservedBytes", e.getValue().reservedBytes()));
      }
      w.putObjects("peers", peers);
    }
    return ProtocolResponse.json(200, w).header("Cache-Control", Exchanges.NO_STORE);
  }

  /** Closes the open upload handles; the uploads stay resumable. The custodian is the caller's. */
  @Override
  public void close() {
    for (Session s : sessions.values()) {
      s.lock.lock();
      try {
        closeQuietly(s);
      } finally {
        s.lock.unlock();
      }
    }
    sessions.clear();
  }

  /** Fail-fast builder. */
  public static final class Builder {
    private final Custodian custodian;
    private byte @Nullable [] uploadIdSecret;
    private @Nullable PeerIdentity identity;
    private @Nullable BiConsumer<String, Throwable> onError;

    private Builder(Custodian custodian) {
      this.custodian = Objects.requireNonNull(custodian, "custodian");
    }

    /**
     * The secret upload URLs are derived from ({@link UploadIds}); keep it with the store so that upload
     * URLs survive a restart. Default: a fresh random one (URLs then last as long as this object).
     */
    public Builder uploadIdSecret(byte[] secret) {
      this.uploadIdSecret = Exchanges.checkedSecret(uploadIdSecret, secret);
      return this;
    }

    /** Who a peer is, for its share and bandwidth. Default {@link PeerIdentity#BY_ADDRESS}. */
    public Builder peerIdentity(PeerIdentity identity) {
      if (this.identity != null) {
        throw new IllegalStateException("peerIdentity was already set to " + this.identity);
      }
      this.identity = Objects.requireNonNull(identity, "identity");
      return this;
    }

    /** Told of each failure of this device (with its local detail), which peers only see as a 503. */
    public Builder onError(BiConsumer<String, Throwable> onError) {
      if (this.onError != null) {
        throw new IllegalStateException("onError was already set");
      }
      this.onError = Objects.requireNonNull(onError, "onError");
      return this;
    }

    /** Builds the core; the builder is left as it was (defaults are not written back). */
    public HolderProtocol build() {
      return new HolderProtocol(this);
    }
  }
}
