package io.crowdbackup.server;

import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.protocol.OfferMessage;
import io.crowdbackup.engine.protocol.Problem;
import io.crowdbackup.engine.protocol.ProtocolException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The source's client at a venue (docs/protocol.md §7): offers each envelope to several holders at once
 * (a tus creation is the offer) until {@code replicas} of them hold it durably, at most that many uploads
 * running; moves on at once from a refusal to the next holder; takes a counter-offer when allowed;
 * resumes a dropped upload from the holder's durable offset. Reports who holds what.
 */
public final class SourceClient {
  private final List<URI> holders;
  private final int replicas;
  private final String peerLabel;
  private final boolean takeCounterOffers;
  private final boolean requireFullRetention;
  private final boolean uploadInCreation;
  private final HttpClient http;
  private final Backoff backoff;
  private final Duration requestTimeout;
  private final long patchBytes;

  private SourceClient(Builder b) {
    this.holders = List.copyOf(b.holders);
    this.replicas = b.replicas;
    this.peerLabel = b.peerLabel;
    this.takeCounterOffers = b.takeCounterOffers;
    this.requireFullRetention = b.requireFullRetention;
    this.uploadInCreation = b.uploadInCreation;
    this.http = b.httpOrDefault(Duration.ofSeconds(5));
    this.backoff = b.backoff;
    this.requestTimeout = b.requestTimeout;
    this.patchBytes = b.patchBytes;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** Where one envelope went. */
  public static final class Placement {
    private final Path envelope;
    private final String name;
    private final Fingerprint fingerprint;
    private final List<URI> heldBy;
    private final Map<URI, String> refusedBy;

    Placement(Source source, List<URI> heldBy, Map<URI, String> refusedBy) {
      this.envelope = source.file();
      this.name = source.name();
      this.fingerprint = source.fingerprint();
      this.heldBy = Collections.unmodifiableList(heldBy);
      this.refusedBy = Collections.unmodifiableMap(refusedBy);
    }

    /** The envelope file, or null when it was sent from somewhere else ({@link #sendFrom}). */
    public Path envelope() {
      return envelope;
    }

    /** What the envelope is called in reports: its file, or its store and fingerprint. */
    public String name() {
      return name;
    }

    public Fingerprint fingerprint() {
      return fingerprint;
    }

    /** Holders that hold it durably (their last PATCH was answered). */
    public List<URI> heldBy() {
      return heldBy;
    }

    /** Holders that refused it or failed, with the reason ({@code reason: detail}). */
    public Map<URI, String> refusedBy() {
      return refusedBy;
    }

    @Override
    public String toString() {
      return name + " " + fingerprint + ": held by " + heldBy + (refusedBy.isEmpty() ? "" : ", refused by "
          + refusedBy);
    }
  }

  /** Places each envelope in turn; an envelope placed on fewer than {@code replicas} holders is reported so. */
  public List<Placement> send(List<Path> envelopes) throws IOException {
    List<Source> sources = new ArrayList<>();
    for (Path p : envelopes) {
      sources.add(Source.ofFile(p));
    }
    return sendFrom(sources);
  }

  /**
   * Places each of a custodian's own envelopes (sealed into its store by {@link Custodian#sealOwn}) in
   * turn, read from the store: nothing is copied out. Each holder's replica is paid for by the custodian's
   * egress bucket for that holder ({@link Custodian#openOwn}).
   */
  public List<Placement> sendOwn(Custodian custodian, List<Fingerprint> own) throws IOException {
    List<Source> sources = new ArrayList<>();
    for (Fingerprint fp : own) {
      sources.add(Source.ofOwn(custodian, fp));
    }
    return sendFrom(sources);
  }

  /** As {@link #send} for envelopes kept anywhere a {@link Source} can read them from an offset. */
  public List<Placement> sendFrom(List<? extends Source> envelopes) throws IOException {
    List<Placement> out = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(replicas, holders.size()), r -> {
      Thread t = new Thread(r, "crowdbackup-send");
      t.setDaemon(true);
      return t;
    });
    try {
      for (Source p : envelopes) {
        out.add(place(p, pool));
      }
    } finally {
      pool.shutdownNow();
    }
    return out;
  }

  private Placement place(Source envelope, ExecutorService pool) throws IOException {
    OfferMessage offer = new OfferMessage(envelope.fingerprint(), envelope.lengthBytes(),
        envelope.expiresAtEpochSecond(), peerLabel, requireFullRetention);
    Deque<URI> next = new ArrayDeque<>(holders);
    CompletionService<Outcome> done = new ExecutorCompletionService<>(pool);
    List<URI> held = new ArrayList<>();
    Map<URI, String> refused = new LinkedHashMap<>();
    int running = 0;
    while (held.size() < replicas) {
      while (running < replicas - held.size() && !next.isEmpty()) {
        URI holder = next.poll();
        done.submit(() -> uploadTo(holder, envelope, offer));
        running++;
      }
      if (running == 0) {
        break;
      }
      Outcome o;
      try {
        Future<Outcome> f = done.take();
        o = f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while placing " + envelope.name());
      } catch (ExecutionException e) {
        throw new IOException("placing " + envelope.name() + " failed: " + e.getCause(), e.getCause());
      }
      running--;
      if (o.held) {
        held.add(o.holder);
      } else {
        refused.put(o.holder, o.why);
      }
    }
    return new Placement(envelope, held, refused);
  }

  private static final class Outcome {
    final URI holder;
    final boolean held;
    final String why;

    Outcome(URI holder, boolean held, String why) {
      this.holder = holder;
      this.held = held;
      this.why = why;
    }
  }

  /** Offers and uploads to one holder, resuming after drops; never throws. */
  private Outcome uploadTo(URI holder, Source envelope, OfferMessage offer) {
    Upload u = new Upload(new ProtocolClient(http, holder, requestTimeout), holder, envelope, offer);
    try {
      backoff.run(u::attempt);
      return new Outcome(holder, true, null);
    } catch (IOException e) {
      return new Outcome(holder, false, describe(e));
    }
  }

  /** One envelope's upload to one holder, across attempts: the offer (as countered) and the upload URL. */
  private final class Upload {
    final ProtocolClient client;
    final URI holder;
    final Source envelope;
    OfferMessage offer;
    URI url;
    /** Whether a creation carries the envelope (creation-with-upload): if so set, until an attempt is cut. */
    boolean carry = uploadInCreation;

    Upload(ProtocolClient client, URI holder, Source envelope, OfferMessage offer) {
      this.client = client;
      this.holder = holder;
      this.envelope = envelope;
      this.offer = offer;
    }

    Void attempt() throws IOException {
      try {
        return attemptCarrying();
      } catch (IOException e) {
        // Cut on the way: the holder may hold part of it, so the next creation carries no bytes and its
        // answer says where to go on (bytes resent in a creation would be ignored).
        carry = false;
        throw e;
      }
    }

    private Void attemptCarrying() throws IOException {
      long offset;
      if (url == null) {
        ProtocolClient.Created c = create();
        url = c.upload();
        offset = c.offset();
      } else {
        offset = client.head(url);
      }
      ReadableByteChannel ch = null;
      long at = -1; // where ch stands: reopened only when the holder's offset is not there
      try {
        while (offset < offer.lengthBytes()) {
          if (ch == null || at != offset) {
            if (ch != null) {
              ch.close();
            }
            ch = envelope.openAt(holder, offset);
            at = offset;
          }
          long n = Math.min(patchBytes, offer.lengthBytes() - offset);
          RangeInputStream body = new RangeInputStream(ch, n);
          offset = client.patch(url, offset, () -> body, n).offset();
          at += n;
        }
      } finally {
        if (ch != null) {
          ch.close();
        }
      }
      return null;
    }

    /** The offer; a small envelope goes with it (creation-with-upload: one exchange, not two). */
    private ProtocolClient.Created createOnce() throws IOException {
      long n = offer.lengthBytes();
      if (!carry || n > Math.min(patchBytes, ProtocolClient.CREATE_WITH_UPLOAD_MAX_BYTES)) {
        return client.create(offer.toTusMetadata(), n);
      }
      try (ReadableByteChannel ch = envelope.openAt(holder, 0)) {
        RangeInputStream body = new RangeInputStream(ch, n);
        return client.create(offer.toTusMetadata(), n, () -> body, n);
      }
    }

    /** The tus creation, which is the offer; a counter-offer is an answer, taken at once when allowed. */
    private ProtocolClient.Created create() throws IOException {
      try {
        return createOnce();
      } catch (ProtocolFailure f) {
        Refusal refusal;
        try {
          refusal = f.problem() == null ? null : f.problem().toRefusal();
        } catch (ProtocolException e) {
          throw new Backoff.Final(describe(f) + " (a refusal with bad numbers: " + e.getMessage() + ")");
        }
        if (refusal == null) {
          throw f;
        }
        if (refusal.reason() == Refusal.Reason.TTL_TOO_LONG && takeCounterOffers) {
          long counter = refusal.counterOfferExpiresAtEpochSecond();
          String unacceptable = unacceptableCounterOffer(counter);
          if (unacceptable == null) {
            offer = offer.withExpiresAtEpochSecond(counter);
            return createOnce();
          }
          throw new Backoff.Final(describe(f) + " (counter-offer not taken: " + unacceptable + ")");
        }
        // The holder's policy said no (507 full, 413, 409...): the next holder is asked at once, this one
        // not again, whatever the status would let a retry loop think.
        throw new Backoff.Final(describe(f));
      }
    }

    /**
     * Why a counter-offered expiry is not taken, or {@code null} when it is: it must shorten the custody
     * (before the envelope's own expiry) and still be in the future, or the holder would "hold" a copy
     * that is due for removal at once.
     */
    private String unacceptableCounterOffer(long counter) {
      long now = System.currentTimeMillis() / 1000;
      if (counter == Refusal.NOT_APPLICABLE) {
        return "it names no expiry";
      }
      if (counter <= now) {
        return "its expiry " + counter + " is not after now (" + now + ")";
      }
      if (counter >= offer.expiresAtEpochSecond()) {
        return "its expiry " + counter + " is not before the envelope's own " + offer.expiresAtEpochSecond();
      }
      return null;
    }
  }

  /**
   * An envelope to send, wherever it is kept: what its offer says, and its bytes from any offset (an
   * upload resumes at the holder's durable offset, also in a new process).
   */
  public interface Source {
    /** How reports name it. */
    String name();

    /** The envelope file, or null. */
    default Path file() {
      return null;
    }

    Fingerprint fingerprint();

    long lengthBytes();

    /** The expiry in the envelope's header, epoch seconds: what the offer declares. */
    long expiresAtEpochSecond();

    /** The envelope's bytes from {@code offset} to its end, for {@code holder}; the caller closes it. */
    ReadableByteChannel openAt(URI holder, long offset) throws IOException;

    /** An envelope file; its header and fingerprint are read now. */
    static Source ofFile(Path envelope) throws IOException {
      EnvelopeHeader header;
      Fingerprint fp;
      long length;
      try (FileChannel ch = FileChannel.open(envelope, StandardOpenOption.READ)) {
        length = ch.size();
        header = Envelopes.readHeader(ch);
        ch.position(0);
        fp = Envelopes.fingerprint(ch);
      }
      return new Fixed(envelope.toString(), envelope, fp, length, header.expiresAtEpochSecond(), (h, offset) -> {
        FileChannel ch = FileChannel.open(envelope, StandardOpenOption.READ);
        ch.position(offset);
        return ch;
      });
    }

    /**
     * One of {@code custodian}'s own envelopes, read from its store through {@link Custodian#openOwn}
     * (paid for by its egress bucket for each holder; a custody blob is refused there). The store keeps
     * it under the fingerprint of its bytes, so only its header is read now. A resume reads the verified
     * bytes before the offset and drops them: the store's reads are checked from the start.
     */
    static Source ofOwn(Custodian custodian, Fingerprint fingerprint) throws IOException {
      BlobStat s = custodian.stat(fingerprint);
      EnvelopeHeader header;
      try (ReadableByteChannel ch = custodian.openOwn(fingerprint, "offer")) {
        header = Envelopes.readHeader(ch);
      }
      if (s == null) {
        throw new IOException("no own envelope " + fingerprint + " in the custodian's store");
      }
      return new Fixed("own envelope", null, fingerprint, s.envelopeLengthBytes(),
          header.expiresAtEpochSecond(), (holder, offset) -> {
            ReadableByteChannel ch = custodian.openOwn(fingerprint, holder.toString());
            try {
              RangeInputStream.skip(ch, offset);
            } catch (IOException | RuntimeException e) {
              ch.close();
              throw e;
            }
            return ch;
          });
    }
  }

  /** Opens a {@link Source}'s bytes for a holder from an offset. */
  @FunctionalInterface
  private interface Opener {
    ReadableByteChannel open(URI holder, long offset) throws IOException;
  }

  private static final class Fixed implements Source {
    private final String name;
    private final Path file;
    private final Fingerprint fingerprint;
    private final long lengthBytes;
    private final long expiresAtEpochSecond;
    private final Opener opener;

    Fixed(String name, Path file, Fingerprint fingerprint, long lengthBytes, long expiresAtEpochSecond,
        Opener opener) {
      this.name = name;
      this.file = file;
      this.fingerprint = fingerprint;
      this.lengthBytes = lengthBytes;
      this.expiresAtEpochSecond = expiresAtEpochSecond;
      this.opener = opener;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Path file() {
      return file;
    }

    @Override
    public Fingerprint fingerprint() {
      return fingerprint;
    }

    @Override
    public long lengthBytes() {
      return lengthBytes;
    }

    @Override
    public long expiresAtEpochSecond() {
      return expiresAtEpochSecond;
    }

    @Override
    public ReadableByteChannel openAt(URI holder, long offset) throws IOException {
      return opener.open(holder, offset);
    }
  }

  private static String describe(Exception e) {
    if (e instanceof ProtocolFailure && ((ProtocolFailure) e).problem() != null) {
      Problem p = ((ProtocolFailure) e).problem();
      String reason = p.text(Problem.REASON);
      return (reason != null ? reason : p.type()) + ": " + p.detail();
    }
    return e == null ? "interrupted" : String.valueOf(e.getMessage());
  }

  /** Fail-fast builder; {@link #build()} checks the whole. */
  public static final class Builder extends TransferOptions<Builder> {
    private final List<URI> holders = new ArrayList<>();
    private int replicas = 2;
    private String peerLabel;
    private boolean takeCounterOffers = true;
    private boolean requireFullRetention;
    private boolean uploadInCreation = true;

    private Builder() {}

    /** A holder's base URL; in the order they are tried. Each holder once. */
    public Builder holder(URI base) {
      Objects.requireNonNull(base, "base");
      if (holders.contains(base)) {
        throw new IllegalStateException("holder " + base + " was already given (holders " + holders + ")");
      }
      holders.add(base);
      return this;
    }

    /** How many holders must hold each envelope. Default 2. */
    public Builder replicas(int r) {
      if (r < 1) {
        throw new IllegalArgumentException("replicas must be at least 1 but was " + r);
      }
      given.mark("replicas", this.replicas);
      this.replicas = r;
      return this;
    }

    /** The label this source gives itself in offers (display only). */
    public Builder peerLabel(String label) {
      given.mark("peerLabel", this.peerLabel);
      this.peerLabel = label;
      return this;
    }

    /** Whether a holder's shorter expiry is taken. Default true. */
    public Builder takeCounterOffers(boolean take) {
      given.mark("takeCounterOffers", this.takeCounterOffers);
      this.takeCounterOffers = take;
      return this;
    }

    /**
     * Whether offers insist on custody until the envelope's own expiry (default false: a holder then keeps
     * it for at most its longest retention, silently). With true, a holder with a shorter retention
     * counter-offers, and {@link #takeCounterOffers} decides.
     */
    public Builder requireFullRetention(boolean require) {
      given.mark("requireFullRetention", this.requireFullRetention);
      this.requireFullRetention = require;
      return this;
    }

    /**
     * Whether an envelope of at most 2 MiB goes with its offer (tus creation-with-upload: one exchange, not
     * two). Default true. With false every envelope is offered first and sent by PATCH after the holder
     * accepted: two exchanges, but no bytes leave before an answer.
     */
    public Builder uploadInCreation(boolean upload) {
      given.mark("uploadInCreation", this.uploadInCreation);
      this.uploadInCreation = upload;
      return this;
    }

    @Override
    Builder self() {
      return this;
    }

    public SourceClient build() {
      if (holders.isEmpty()) {
        throw new IllegalStateException("at least one holder is required");
      }
      return new SourceClient(this);
    }
  }
}
