package io.crowdbackup.cli;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.api.policy.QuotaStats;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.custody.CustodyStats;
import io.crowdbackup.engine.inbox.Delivery;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.protocol.DeliverySink;
import io.crowdbackup.engine.protocol.DestinationProtocol;
import io.crowdbackup.engine.protocol.HolderProtocol;
import io.crowdbackup.engine.protocol.OfferMessage;
import io.crowdbackup.engine.protocol.PeerIdentity;
import io.crowdbackup.engine.protocol.Problem;
import io.crowdbackup.engine.protocol.ProtocolException;
import io.crowdbackup.engine.protocol.ProtocolRequest;
import io.crowdbackup.engine.protocol.ProtocolResponse;
import io.crowdbackup.engine.protocol.Tus;
import io.crowdbackup.server.Backoff;
import io.crowdbackup.server.Forwarder;
import io.crowdbackup.server.ProtocolClient;
import io.crowdbackup.server.ProtocolServer;
import io.crowdbackup.server.SourceClient;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The simulated venue behind {@code crowdbackup demo}: N phones, each with a real custody store on disk
 * ({@link Holder}, the same folders the {@code store} commands open) under its own quota, share, retention
 * and radio bandwidth, served as a holder service ({@link HolderProtocol} on a {@link ProtocolServer}) on a
 * loopback port behind its {@link DemoRadio}; and N homes, each a real {@link Inbox} served as a
 * destination server ({@link DestinationProtocol}) on a loopback port, which is the locator its owner seals
 * for. Every envelope moves over HTTP: to holders by the {@link SourceClient}, home by each phone's
 * {@link Forwarder}. Everything the summary reports is counted from what those stores, custodians, inboxes
 * and servers did; the simulation only decides who meets whom, when, and which phones are lost.
 *
 * <p>The story, on one {@link SimClock}, which every custodian, store, inbox and token bucket reads:
 * <ol>
 *   <li><b>At the venue</b> every phone seals its files (generated from the seed: photos, videos, notes)
 *       for its owner's home and keeps the envelopes in its store as its own; then, in rounds, its source
 *       client offers each envelope to peers in a seeded order until R holders have accepted one (the
 *       holder's custodian decides: quota, per-peer share, size, retention) and uploads it by tus. One
 *       radio drops halfway through one upload; the source client resumes from the holder's durable offset.
 *   <li><b>L phones are lost</b>: their services stop, their stores are closed and deleted, with everything
 *       they held.
 *   <li><b>Going home</b>, the rest arrive in seeded hours, one after another. Each runs its forwarder: per
 *       home, it first asks in one batch which envelopes are already delivered and drops those copies on a
 *       verified receipt, unsent; the rest (its own envelopes and custody blobs alike) it uploads, each
 *       once, to the locator in the envelope's header, and drops on the receipt the home signs. Copies whose
 *       custody expired before their holder got home are not sent.
 *   <li><b>Next morning</b> each phone's custodian evicts what expired; every store must then be empty.
 *   <li><b>The check</b>: every delivered file is compared byte for byte with its original, and every file
 *       that still had a live replica (a copy, held and not expired, on a phone that got home) must have
 *       been delivered.
 * </ol>
 * Seeded, and one request at a time (offers in a fixed order, phones forwarding one after another), so that
 * the simulated clock, and with it every count, is the same on every run and machine. (The sealer draws
 * its ephemeral keys from the system's secure random, so fingerprints differ between runs; nothing the
 * simulation decides depends on them.)
 */
final class Venue {
  /** Faults a test injects to prove the check can fail. */
  enum Fault {
    NONE,
    /** Flip a byte of one delivered file after delivery: the byte comparison must catch it. */
    CORRUPT_DELIVERY,
    /** Flip a byte in every surviving replica of one lost phone's file: the stores must refuse to serve it. */
    CORRUPT_REPLICA
  }

  /** Saturday, 2 pm UTC: the venue opens. Fixed, so that every run prints the same times. */
  static final long START_EPOCH_SECOND = Instant.parse("2026-06-13T14:00:00Z").getEpochSecond();
  static final long TTL_SECONDS = 12 * 3600;
  /** Phones arrive home at half past the hour, away from the whole-hour retention boundaries. */
  static final long HOME_OFFSET_SECONDS = 1800;
  static final long NEXT_MORNING_SECONDS = TTL_SECONDS + 3600;
  /** The radio that drops does so in the first upload at least this large. */
  static final long DROP_MIN_BODY_BYTES = 128 * 1024;

  private static final long[] QUOTAS = {1 << 20, 3 << 19, 2 << 20, 3 << 20, 4 << 20};
  private static final int[] SHARES = {40, 50, 60};
  private static final long[] RETENTIONS = {4 * 3600, 8 * 3600, 12 * 3600, 12 * 3600};
  private static final long[] RADIOS = {2 << 20, 4 << 20, 8 << 20};
  private static final String[] WORDS = {"stage", "crowd", "encore", "lights", "guitar", "drums", "friends",
      "queue", "tickets", "rain", "sunset", "bassline", "setlist", "merch", "chorus", "the", "and", "a", "was"};
  /** Retries against the same peer without the real backoff's waits: the demo's peers are on loopback. */
  private static final Backoff RETRY = new Backoff(5, Duration.ofMillis(5), Duration.ofMillis(100));
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
  /** Request threads per server: the demo sends one request at a time. */
  private static final int SERVER_THREADS = 4;

  static final class Params {
    int phones = 8;
    int filesPerPhone = 5;
    int replicas = 2;
    int lost = 2;
    long seed = 1;
    Fault fault = Fault.NONE;
  }

  final class Home {
    final int index;
    final Path dir;
    final Path inboxDir;
    final String name;
    ProtocolServer server;
    /** The home's internet line: its locator points here, and it drops once, mid-upload. */
    DemoRadio line;
    volatile DestinationProtocol protocol;
    String locator;
    DestinationKeyPair keys;
    Inbox inbox;

    Home(int index, Path dir) {
      this.index = index;
      this.name = String.format("home-%02d", index + 1);
      this.dir = dir;
      this.inboxDir = dir.resolve("inbox");
    }
  }

  final class Phone {
    final int index;
    final String name;
    final Path dir;
    final HolderSettings settings;
    final long radioBytesPerSecond;
    final int homeHour;
    final Home home;
    final SigningKeyPair signing;
    final List<FileRecord> files = new ArrayList<>();
    Holder holder;
    HolderProtocol protocol;
    ProtocolServer server;
    DemoRadio radio;
    boolean lost;
    long peakUsedBytes;
    CustodyStats lastStats;

    Phone(int index, Path dir, HolderSettings settings, long radio, int homeHour, Home home, SigningKeyPair signing) {
      this.index = index;
      this.name = String.format("phone-%02d", index + 1);
      this.dir = dir;
      this.settings = settings;
      this.radioBytesPerSecond = radio;
      this.homeHour = homeHour;
      this.home = home;
      this.signing = signing;
    }

    /** Leaves the venue: its holder service and radio stop; its store stays open for its forwarder. */
    void leaveVenue() throws IOException {
      closeAll(radio, server, protocol);
      radio = null;
      server = null;
      protocol = null;
    }
  }

  final class FileRecord {
    final Phone owner;
    final int number;
    final String name;
    final Path original;
    final boolean video;
    long plainBytes;
    Fingerprint fingerprint;
    long envelopeBytes;
    long expiresAtEpochSecond;
    List<Phone> candidates;
    int cursor;
    final List<Phone> holders = new ArrayList<>();
    /** Phones that got home holding a live copy. */
    final List<Phone> liveOn = new ArrayList<>();
    Phone deliveredBy;
    Path deliveredFile;

    FileRecord(Phone owner, int number, String name, Path original, boolean video) {
      this.owner = owner;
      this.number = number;
      this.name = name;
      this.original = original;
      this.video = video;
    }

    String id() {
      return owner.name + "/" + name;
    }
  }

  /**
   * What crossed one side's servers (the holder services, or the destination servers), counted where the
   * protocol core meets HTTP: requests, body bytes (HTTP headers are not counted: their size depends on the
   * HTTP client's version), and every answer of 400 or more by its problem's reason.
   */
  static final class Wire {
    final AtomicLong requests = new AtomicLong();
    final AtomicLong bodyBytes = new AtomicLong();
    /** Envelope bytes in PATCH bodies (and creations that carry bytes) that reached a core. */
    final AtomicLong envelopeBytes = new AtomicLong();
    /** PATCHes whose body ended before its {@code Content-Length}: the connection dropped mid-upload. */
    final AtomicLong cutUploads = new AtomicLong();
    /**
     * Uploads resumed: a {@code HEAD} of an upload (a source client asking where to continue), or a
     * creation answered with an offset past the bytes it carried (a forwarder whose upload had begun before).
     */
    final AtomicLong resumes = new AtomicLong();
    volatile long lastResumedAt = -1;
    /** The fingerprint named by the last resumed creation, or null. */
    volatile String lastResumedFingerprint;
    final Map<String, Long> refused = new ConcurrentSkipListMap<>();

    long refusedTotal() {
      long n = 0;
      for (long v : refused.values()) {
        n += v;
      }
      return n;
    }

    Function<ProtocolRequest, ProtocolResponse> count(Function<ProtocolRequest, ProtocolResponse> core) {
      return req -> {
        CountedRequest counted = new CountedRequest(req);
        ProtocolResponse r = core.apply(counted);
        requests.incrementAndGet();
        bodyBytes.addAndGet(counted.bytes + r.bodyLength());
        // A creation may carry the first bytes (or the whole envelope): tus creation-with-upload.
        boolean carries = req.method().equals("PATCH") || req.method().equals("POST") && carriesUpload(req);
        if (carries) {
          envelopeBytes.addAndGet(counted.bytes);
          if (counted.ended && counted.bytes < declaredLength(req)) {
            cutUploads.incrementAndGet();
            return r; // answered into a dropped connection: no peer was refused anything
          }
        }
        String offset = r.headers().get(Tus.UPLOAD_OFFSET);
        if (offset != null && (req.method().equals("HEAD") && r.status() == 200
            || req.method().equals("POST") && r.status() == 201 && Long.parseLong(offset) > counted.bytes)) {
          resumes.incrementAndGet();
          lastResumedAt = Long.parseLong(offset);
          lastResumedFingerprint = req.method().equals("POST") ? fingerprintOf(req) : null;
        }
        if (r.status() >= 400) {
          refused.merge(reasonOf(r), 1L, Long::sum);
        }
        return r;
      };
    }

    private static boolean carriesUpload(ProtocolRequest req) {
      String type = req.header("Content-Type");
      return type != null && type.trim().toLowerCase(java.util.Locale.ROOT).startsWith("application/offset+octet-stream");
    }

    private static long declaredLength(ProtocolRequest req) {
      try {
        String v = req.header("Content-Length");
        return v == null ? -1 : Long.parseLong(v.trim());
      } catch (NumberFormatException e) {
        return -1;
      }
    }

    private static String fingerprintOf(ProtocolRequest creation) {
      try {
        return Tus.parseMetadata(creation.header(Tus.UPLOAD_METADATA)).get(OfferMessage.FINGERPRINT);
      } catch (ProtocolException e) {
        return null;
      }
    }

    private static String reasonOf(ProtocolResponse r) {
      String type = r.headers().get("Content-Type");
      if (type != null && type.startsWith(Problem.MEDIA_TYPE)) {
        try {
          Problem p = Problem.decode(r.body());
          return p.text(Problem.REASON) != null ? p.text(Problem.REASON) : p.type();
        } catch (ProtocolException e) {
          return "HTTP_" + r.status();
        }
      }
      return "HTTP_" + r.status();
    }
  }

  /** A request whose body bytes are counted as the core reads them. */
  private static final class CountedRequest implements ProtocolRequest {
    private final ProtocolRequest request;
    private InputStream body;
    long bytes;
    /** The body ended (its end, or a failure) while the core read it. */
    boolean ended;

    CountedRequest(ProtocolRequest request) {
      this.request = request;
    }

    @Override
    public String method() {
      return request.method();
    }

    @Override
    public String path() {
      return request.path();
    }

    @Override
    public String header(String name) {
      return request.header(name);
    }

    @Override
    public InetAddress remoteAddress() {
      return request.remoteAddress();
    }

    @Override
    public InputStream body() {
      if (body == null) {
        body = new FilterInputStream(request.body()) {
          @Override
          public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            int n;
            try {
              n = in.read(b, off, len);
            } catch (IOException e) {
              ended = true;
              throw e;
            }
            if (n < 0) {
              ended = true;
            } else {
              bytes += n;
            }
            return n;
          }
        };
      }
      return body;
    }
  }

  /** One upload cut by a {@link DemoRadio}, and where it resumed. */
  static final class Drop {
    /** The phone or home whose link dropped. */
    final String at;
    final String file;
    final long envelopeBytes;
    final long cutAtBytes;
    final long resumedFromBytes;

    Drop(String at, String file, long envelopeBytes, long cutAtBytes, long resumedFromBytes) {
      this.at = at;
      this.file = file;
      this.envelopeBytes = envelopeBytes;
      this.cutAtBytes = cutAtBytes;
      this.resumedFromBytes = resumedFromBytes;
    }
  }

  /** Everything the summary shows, counted from what the engine did. */
  static final class Result {
    Params params;
    Path dir;
    final List<Phone> phones = new ArrayList<>();
    final List<String> lostPhones = new ArrayList<>();
    int filesMade;
    long plaintextBytes;
    long envelopeBytes;
    int replicasRequested;
    int replicasPlaced;
    long replicaBytesPlaced;
    int filesShortOfReplicas;
    final Map<Refusal.Reason, Long> refusals = new EnumMap<>(Refusal.Reason.class);
    long receiptRefusals;
    long venueThrottledNanos;
    final Wire venueWire = new Wire();
    final Wire homeWire = new Wire();
    /** The upload a phone's radio cut at the venue, or null. */
    Drop venueDrop;
    /** The upload a home's line cut while a phone forwarded, or null. */
    Drop homeDrop;
    String peakPhone;
    long peakUsedBytes;
    long peakLimitBytes;
    boolean quotaAlwaysKept = true;
    int filesOnLostPhones;
    int deliveredByOwnPhone;
    int deliveredThroughHolders;
    int recoveredFromLostPhones;
    int lostWithPhone;
    int notRecoveredWithLiveReplica;
    int differing;
    long droppedByReceipt;
    long inboxDuplicates;
    long expiredBeforeHome;
    long forwardFailures;
    long homeOwnBytes;
    long homeCustodyBytes;
    long firstHomeEpochSecond = Long.MAX_VALUE;
    long lastHomeEpochSecond;
    long evictedCount;
    long evictedBytes;
    long quarantined;
    long nextMorningEpochSecond;
    final List<String> failures = new ArrayList<>();

    int recovered() {
      return deliveredByOwnPhone + deliveredThroughHolders;
    }

    boolean ok() {
      return failures.isEmpty();
    }
  }

  private final Params params;
  private final Path dir;
  private final PrintWriter err;
  private final boolean progress;
  private final SimClock clock = new SimClock(START_EPOCH_SECOND);
  private final Random random;
  private final List<Phone> phones = new ArrayList<>();
  private final List<Home> homes = new ArrayList<>();
  private final Map<URI, Phone> phoneByUrl = new HashMap<>();
  private final Map<String, Home> homeByLocator = new HashMap<>();
  private final Map<Fingerprint, FileRecord> fileByFingerprint = new HashMap<>();
  private final List<FileRecord> files = new ArrayList<>();
  private final Result result = new Result();
  private final HttpClient http = ProtocolClient.newHttpClient(Duration.ofSeconds(10));
  /** One radio of the venue drops once; the first to see a large enough upload takes it. */
  private final AtomicBoolean dropPending = new AtomicBoolean(true);
  /**
   * One home's line drops once too, in the upload of one envelope chosen before a phone forwards (by its
   * length: a forwarder's order of homes follows their ports, which differ from run to run).
   */
  private volatile Home homeDropTarget;
  private final AtomicLong homeDropLength = new AtomicLong(-1);
  private boolean homeDropSeen;
  /** What the homes' sinks delivered, handed from the servers' threads to the simulation's. */
  private final Queue<Delivery> deliveries = new ConcurrentLinkedQueue<>();
  /** Failures of a server's own side (its 503s), with their local detail. */
  private final Queue<String> serverErrors = new ConcurrentLinkedQueue<>();

  Venue(Params params, Path dir, PrintWriter err, boolean progress) {
    this.params = params;
    this.dir = dir;
    this.err = err;
    this.progress = progress;
    this.random = new Random(params.seed);
    result.params = params;
    result.dir = dir;
  }

  Result run() throws IOException, CliException {
    try {
      setUp();
      seal();
      replicate();
      lose();
      for (Phone p : phones) {
        if (!p.lost) {
          p.leaveVenue();
        }
      }
      if (params.fault == Fault.CORRUPT_REPLICA) {
        corruptReplicas();
      }
      goHome();
      if (params.fault == Fault.CORRUPT_DELIVERY) {
        corruptADelivery();
      }
      nextMorning();
      check();
      for (String e : serverErrors) {
        result.failures.add("a server failed on its own side: " + e);
      }
      return result;
    } finally {
      for (Phone p : phones) {
        if (p.holder != null) {
          p.leaveVenue();
          // What 'crowdbackup store --dir <phone> stats' shows as this folder's totals.
          HolderCounters totals = HolderCounters.read(p.dir);
          totals.add(p.holder.custodian.stats());
          totals.write(p.dir);
          p.holder.close();
        }
      }
      for (Home h : homes) {
        closeAll(h.line, h.server, h.protocol, h.inbox);
        if (h.keys != null) {
          h.keys.destroy();
        }
      }
    }
  }

  /** Closes each that is there, in order; the first failure is thrown after all were tried. */
  private static void closeAll(Closeable... all) throws IOException {
    IOException first = null;
    for (Closeable c : all) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }

  // ---------------------------------------------------------------------------------------------------

  private void setUp() throws IOException, CliException {
    SecureRandom keyRandom = seeded(new Random(random.nextLong()));
    for (int i = 0; i < params.phones; i++) {
      Home h = new Home(i, dir.resolve("homes").resolve(String.format("home-%02d", i + 1)));
      homes.add(h);
      // Listening first: the home's locator, sealed into every envelope for it, is its loopback URL.
      h.server = ProtocolServer.newBuilder(result.homeWire.count(req -> h.protocol.handle(req)))
          .name("demo-" + h.name).maxThreads(SERVER_THREADS).build().start();
      h.line = new DemoRadio(h.name, h.server.port(), length -> h == homeDropTarget
          && homeDropLength.compareAndSet(length, -1));
      h.locator = h.line.uri().toString();
      homeByLocator.put(h.locator, h);
      h.keys = Keys.generateDestination(h.locator, keyRandom);
      h.inbox = Inbox.newBuilder().directory(h.inboxDir).keys(h.keys)
          .time(clock).open();
      h.protocol = DestinationProtocol.newBuilder(recording(h.inbox), h.dir.resolve("staging"))
          .onError((what, e) -> serverErrors.add(h.locator + ": " + what + ": " + e)).build();
    }
    for (int i = 0; i < params.phones; i++) {
      HolderSettings s = HolderSettings.of(pick(QUOTAS), SHARES[random.nextInt(SHARES.length)], pick(RETENTIONS), 0);
      long radio = pick(RADIOS);
      int homeHour = 1 + random.nextInt(8);
      Phone p = new Phone(i, dir.resolve("phones").resolve(String.format("phone-%02d", i + 1)), s, radio, homeHour,
          homes.get(i), Keys.generateSigning(keyRandom));
      phones.add(p);
      result.phones.add(p);
      Files.createDirectories(p.dir);
      Files.writeString(p.dir.resolve(HolderSettings.FILE_NAME), s.encode());
      RateLimit global = RateLimit.perSecond(radio);
      RateLimit perPeer = RateLimit.perSecond(radio / 2);
      p.holder = Holder.open(p.dir, s, clock, new RateLimit[] {global, perPeer},
          new RateLimit[] {global, perPeer});
      // Peers are known by the name they give: every phone here shares one loopback address, which the
      // default identity (the observed address, docs/decisions/0005) would count as one peer.
      p.protocol = HolderProtocol.newBuilder(p.holder.custodian).peerIdentity(PeerIdentity.BY_DECLARED_LABEL)
          .onError((what, e) -> serverErrors.add(p.name + ": " + what + ": " + e)).build();
      p.server = ProtocolServer.newBuilder(result.venueWire.count(p.protocol::handle)).name("demo-" + p.name)
          .maxThreads(SERVER_THREADS).build().start();
      p.radio = new DemoRadio(p.name, p.server.port(), length -> length >= DROP_MIN_BODY_BYTES
          && dropPending.compareAndSet(true, false));
      phoneByUrl.put(p.radio.uri(), p);
    }
  }

  /** A home's inbox as its server's sink; each delivery is also handed to the simulation. */
  private DeliverySink recording(Inbox inbox) {
    DeliverySink sink = DeliverySink.inbox(inbox);
    return new DeliverySink() {
      @Override
      public byte[] receipt(Fingerprint fingerprint) throws IOException {
        return sink.receipt(fingerprint);
      }

      @Override
      public byte[] deliver(ReadableByteChannel envelope, Fingerprint expected) throws IOException {
        Delivery d = inbox.deliver(envelope, expected);
        deliveries.add(d);
        return d.receiptBytes();
      }
    };
  }

  private void seal() throws IOException, CliException {
    Path originals = dir.resolve("originals");
    long now = clock.epochMillis() / 1000;
    for (Phone p : phones) {
      Path folder = originals.resolve(p.name);
      Files.createDirectories(folder);
      for (int j = 0; j < params.filesPerPhone; j++) {
        int kind = random.nextInt(20);
        String name;
        byte[] data;
        boolean video = false;
        if (kind < 3) {
          name = String.format("VID_%04d.mp4", j + 1);
          data = randomBytes(300 * 1024 + random.nextInt(400 * 1024));
          video = true;
        } else if (kind < 7) {
          name = String.format("NOTE_%04d.txt", j + 1);
          data = text(2 * 1024 + random.nextInt(22 * 1024));
        } else {
          name = String.format("IMG_%04d.jpg", j + 1);
          data = randomBytes(30 * 1024 + random.nextInt(170 * 1024));
        }
        Path original = folder.resolve(name);
        Files.write(original, data);
        FileRecord f = new FileRecord(p, j, name, original, video);
        f.plainBytes = data.length;
        p.files.add(f);
        files.add(f);
        result.plaintextBytes += data.length;
      }
    }
    result.filesMade = files.size();
    try (ProgressBar bar = new ProgressBar(err, "sealing", result.plaintextBytes, progress);
        EnvelopeSealer sealer = Envelopes.sealer()) {
      for (FileRecord f : files) {
        Phone p = f.owner;
        SealRequest request = SealRequest.newBuilder().destination(p.home.keys.card())
            .releaseKey(p.signing.publicKey()).expiresAtEpochSecond(now + TTL_SECONDS).name(f.name)
            .mediaType(MediaTypes.forName(f.name)).createdAtEpochMillis((now - 3600 + f.number * 60L) * 1000)
            .compression(Compression.AUTO).build();
        // Sealed straight into the source's store as its own, written once: its source client sends
        // replicas from there at the venue, and its forwarder takes it home from there.
        BlobStat sealed = p.holder.custodian.sealOwn(sealer, request, f.original, Transfer.create());
        f.fingerprint = sealed.fingerprint();
        f.envelopeBytes = sealed.envelopeLengthBytes();
        f.expiresAtEpochSecond = sealed.expiresAtEpochSecond();
        fileByFingerprint.put(f.fingerprint, f);
        result.envelopeBytes += f.envelopeBytes;
        bar.add(f.plainBytes);
      }
      bar.finish();
    }
  }

  private void replicate() throws IOException {
    for (FileRecord f : files) {
      List<Phone> others = new ArrayList<>(phones);
      others.remove(f.owner);
      Collections.shuffle(others, random);
      f.candidates = others;
    }
    result.replicasRequested = files.size() * params.replicas;
    long total = 0;
    for (FileRecord f : files) {
      total += f.envelopeBytes * params.replicas;
    }
    try (ProgressBar bar = new ProgressBar(err, "at the venue", total, progress)) {
      // In rounds, so that every file gets a first replica before any gets a second.
      for (int round = 1; round <= params.replicas; round++) {
        for (FileRecord f : files) {
          if (f.holders.size() < round && f.cursor < f.candidates.size()) {
            place(f, bar);
          }
        }
      }
      bar.finish();
    }
    for (FileRecord f : files) {
      result.replicasPlaced += f.holders.size();
      result.replicaBytesPlaced += f.holders.size() * f.envelopeBytes;
      if (f.holders.size() < params.replicas) {
        result.filesShortOfReplicas++;
      }
    }
    result.venueThrottledNanos = clock.throttledNanos();
  }

  /**
   * The owner's source client offers {@code f} to the peers after its cursor, one at a time in their
   * seeded order, until one holds it durably. One at a time, where a real source offers to several at
   * once: the order of the holders' decisions, and so the simulated clock, must not depend on timing.
   */
  private void place(FileRecord f, ProgressBar bar) throws IOException {
    List<Phone> tried = f.candidates.subList(f.cursor, f.candidates.size());
    SourceClient.Builder b = SourceClient.newBuilder().replicas(1).peerLabel(f.owner.name)
        .requireFullRetention(f.video).takeCounterOffers(false).httpClient(http).backoff(RETRY)
        // Offer first, send after: with the bytes inside the offer, how much of a refused offer's body crosses
        // the throttled radio before the answer depends on thread timing, and with it the simulated clock
        // and the demo's counts (measured: they differed between runs).
        .uploadInCreation(false)
        .requestTimeout(REQUEST_TIMEOUT);
    for (Phone peer : tried) {
      b.holder(peer.radio.uri());
    }
    long before = result.venueWire.envelopeBytes.get();
    SourceClient.Placement placed = b.build().sendOwn(f.owner.holder.custodian, List.of(f.fingerprint)).get(0);
    bar.add(result.venueWire.envelopeBytes.get() - before);
    for (Map.Entry<URI, String> e : placed.refusedBy().entrySet()) {
      Phone peer = phoneByUrl.get(e.getKey());
      f.cursor++;
      if (!isRefusal(e.getValue())) {
        result.failures.add("the offer of " + f.id() + " to " + peer.name + " failed: " + e.getValue());
      }
      noteQuota(peer);
    }
    for (URI u : placed.heldBy()) {
      Phone peer = phoneByUrl.get(u);
      f.cursor++;
      f.holders.add(peer);
      noteQuota(peer);
      if (peer.radio.drop() != null && result.venueDrop == null) {
        result.venueDrop = new Drop(peer.name, f.id(), f.envelopeBytes, peer.radio.drop().cutAtBytes,
            result.venueWire.lastResumedAt);
      }
    }
    if (!dropPending.get() && result.venueDrop == null) {
      result.failures.add("a radio dropped during the upload of " + f.id() + ", which was not resumed: " + placed);
    }
  }

  /** Whether a source client's reason is a holder's refusal ({@code REASON: detail}), not a failure. */
  private static boolean isRefusal(String why) {
    int colon = why.indexOf(':');
    if (colon < 0) {
      return false;
    }
    try {
      Refusal.Reason.valueOf(why.substring(0, colon));
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Peak quota use, looked at on the holder after each offer it answered. */
  private void noteQuota(Phone peer) {
    QuotaStats q = peer.holder.custodian.stats().quota();
    long used = q.heldBytes() + q.reservedBytes();
    peer.peakUsedBytes = Math.max(peer.peakUsedBytes, used);
    if (used > q.limitBytes()) {
      result.quotaAlwaysKept = false;
      result.failures.add(peer.name + " holds " + used + " bytes, above its quota of " + q.limitBytes());
    }
    if (result.peakPhone == null || used * result.peakLimitBytes > result.peakUsedBytes * q.limitBytes()) {
      result.peakPhone = peer.name;
      result.peakUsedBytes = used;
      result.peakLimitBytes = q.limitBytes();
    }
  }

  private void lose() throws IOException {
    List<Phone> order = new ArrayList<>(phones);
    Collections.shuffle(order, random);
    List<Phone> lost = new ArrayList<>(order.subList(0, params.lost));
    lost.sort(Comparator.comparingInt(p -> p.index));
    for (Phone p : lost) {
      p.lost = true;
      p.lastStats = p.holder.custodian.stats();
      p.leaveVenue();
      p.holder.close();
      p.holder = null;
      deleteTree(p.dir); // the phone, its store and everything it held are gone
      result.lostPhones.add(p.name);
      result.filesOnLostPhones += p.files.size();
    }
  }

  private void goHome() throws IOException {
    List<Phone> going = new ArrayList<>();
    long total = 0;
    for (Phone p : phones) {
      if (!p.lost) {
        going.add(p);
        for (BlobStat s : p.holder.custodian.list()) {
          if (s.state().hasBytes()) {
            total += s.envelopeLengthBytes();
          }
        }
      }
    }
    going.sort(Comparator.comparingInt((Phone p) -> p.homeHour).thenComparingInt(p -> p.index));
    try (ProgressBar bar = new ProgressBar(err, "going home", total, progress)) {
      for (Phone p : going) {
        long at = START_EPOCH_SECOND + p.homeHour * 3600L + HOME_OFFSET_SECONDS;
        clock.advanceToEpochSecond(at);
        result.firstHomeEpochSecond = Math.min(result.firstHomeEpochSecond, at);
        result.lastHomeEpochSecond = Math.max(result.lastHomeEpochSecond, at);
        arrive(p);
        forwardAll(p, bar);
      }
      bar.finish();
    }
  }

  /** What a phone brings home: the copies that expired on the way, and the live ones. */
  private void arrive(Phone p) throws IOException {
    long now = p.holder.custodian.nowEpochSecond();
    for (BlobStat s : sorted(p.holder.custodian.list())) {
      // Past its custody expiry the store lists a blob as EXPIRED (never served) until eviction removes it.
      if (s.kind() == BlobKind.CUSTODY && s.state() != BlobState.DELIVERED && s.expiresAtEpochSecond() <= now) {
        result.expiredBeforeHome++;
      }
    }
    for (BlobStat s : pending(p)) {
      fileByFingerprint.get(s.fingerprint()).liveOn.add(p);
    }
  }

  /** The phone's forwarder takes everything pending home, over HTTP; the outcome is read back from it. */
  private void forwardAll(Phone p, ProgressBar bar) throws IOException {
    Map<Fingerprint, BlobKind> kinds = new HashMap<>();
    List<BlobStat> pending = pending(p);
    for (BlobStat s : pending) {
      kinds.put(s.fingerprint(), s.kind());
    }
    if (!homeDropSeen) {
      armHomeDrop(pending);
    }
    long before = result.homeWire.envelopeBytes.get();
    Forwarder.Report r = Forwarder.newBuilder(p.holder.custodian).httpClient(http).backoff(RETRY)
        .requestTimeout(REQUEST_TIMEOUT).build().forwardAll();
    bar.add(result.homeWire.envelopeBytes.get() - before);
    result.droppedByReceipt += r.droppedAlreadyDelivered();
    for (Home h : homes) {
      DemoRadio.Drop cut = h.line.drop();
      if (cut != null && !homeDropSeen) {
        homeDropSeen = true;
        String hex = result.homeWire.lastResumedFingerprint;
        FileRecord f = hex == null ? null : fileByFingerprint.get(Fingerprint.fromHex(hex));
        if (f == null || r.uploadsResumed() != 1) {
          result.failures.add(h.name + "'s line dropped while " + p.name + " forwarded, and the upload was not"
              + " resumed: " + r);
        } else {
          result.homeDrop = new Drop(h.name, f.id(), f.envelopeBytes, cut.cutAtBytes, result.homeWire.lastResumedAt);
        }
      }
    }
    for (Delivery d = deliveries.poll(); d != null; d = deliveries.poll()) {
      FileRecord f = fileByFingerprint.get(d.fingerprint());
      if (d.outcome() != Delivery.Outcome.DELIVERED) {
        result.inboxDuplicates++;
        continue;
      }
      f.deliveredBy = p;
      f.deliveredFile = d.file();
      if (kinds.get(d.fingerprint()) == BlobKind.OWN) {
        result.homeOwnBytes += f.envelopeBytes;
      } else {
        result.homeCustodyBytes += f.envelopeBytes;
      }
    }
    for (String locator : r.skippedLocators()) {
      result.failures.add(p.name + " could not reach " + locator);
    }
    for (Map.Entry<Fingerprint, String> e : r.failures().entrySet()) {
      BlobStat s = p.holder.custodian.stat(e.getKey());
      if (s != null && s.state() == BlobState.EXPIRED) {
        result.expiredBeforeHome++; // expired while its holder was busy forwarding others; evicted tomorrow
        continue;
      }
      // A copy that fails its checks on the way out is quarantined by its store and not delivered.
      result.forwardFailures++;
      if (s != null && s.state().hasBytes()) {
        result.failures.add(p.name + " still holds " + fileByFingerprint.get(e.getKey()).id()
            + " after forwarding: " + e.getValue());
      }
    }
  }

  /**
   * Arms the drop of a home's line for the first of {@code pending} (in file order) that its home does not
   * have yet and that is large enough, if no other envelope for that home has its length.
   */
  private void armHomeDrop(List<BlobStat> pending) throws IOException {
    homeDropLength.set(-1);
    for (BlobStat s : pending) {
      Home h = homeByLocator.get(s.locator());
      if (s.envelopeLengthBytes() < DROP_MIN_BODY_BYTES || h == null || h.inbox.receiptFor(s.fingerprint()) != null) {
        continue;
      }
      boolean unique = true;
      for (BlobStat o : pending) {
        unique &= o == s || !o.locator().equals(s.locator()) || o.envelopeLengthBytes() != s.envelopeLengthBytes();
      }
      if (unique) {
        homeDropTarget = h;
        homeDropLength.set(s.envelopeLengthBytes());
        return;
      }
    }
  }

  /** Held, unexpired blobs of a phone (its own and its custody), in the order the files were made. */
  private List<BlobStat> pending(Phone p) throws IOException {
    List<BlobStat> all = new ArrayList<>();
    for (List<BlobStat> group : p.holder.custodian.pendingByLocator().values()) {
      all.addAll(group);
    }
    return sorted(all);
  }

  private List<BlobStat> sorted(List<BlobStat> blobs) {
    List<BlobStat> out = new ArrayList<>();
    for (BlobStat s : blobs) {
      if (fileByFingerprint.containsKey(s.fingerprint())) {
        out.add(s);
      }
    }
    out.sort(Comparator.comparingInt((BlobStat s) -> fileByFingerprint.get(s.fingerprint()).owner.index)
        .thenComparingInt(s -> fileByFingerprint.get(s.fingerprint()).number));
    return out;
  }

  private void nextMorning() throws IOException {
    long at = START_EPOCH_SECOND + NEXT_MORNING_SECONDS;
    clock.advanceToEpochSecond(at);
    result.nextMorningEpochSecond = at;
    for (Phone p : phones) {
      if (p.lost) {
        continue;
      }
      p.holder.custodian.evictExpired();
      p.lastStats = p.holder.custodian.stats();
      result.evictedCount += p.lastStats.evictedCount();
      result.evictedBytes += p.lastStats.evictedBytes();
      StoreUsage u = p.holder.custodian.storeUsage();
      if (u.custodyHeldBytes() != 0 || u.ownHeldBytes() != 0 || u.custodyReservedBytes() != 0 || u.uploadCount() != 0) {
        result.failures.add(p.name + " still holds something after expiry: " + u);
      }
    }
    for (Phone p : phones) {
      for (Map.Entry<Refusal.Reason, Long> e : p.lastStats.refusalsByReason().entrySet()) {
        if (e.getValue() > 0) {
          result.refusals.merge(e.getKey(), e.getValue(), Long::sum);
        }
      }
      for (long n : p.lastStats.receiptRefusals().values()) {
        result.receiptRefusals += n;
      }
      result.quarantined += p.lastStats.quarantinedCount();
    }
  }

  private void check() throws IOException {
    Map<Home, Integer> deliveredPerHome = new LinkedHashMap<>();
    for (FileRecord f : files) {
      boolean inLedger = f.owner.home.inbox.receiptFor(f.fingerprint) != null;
      if (f.deliveredFile != null && inLedger) {
        deliveredPerHome.merge(f.owner.home, 1, Integer::sum);
        if (!sameBytes(f.original, f.deliveredFile)) {
          result.differing++;
          result.failures.add(f.id() + " was recovered as " + dir.relativize(f.deliveredFile)
              + " but differs from its original");
          continue;
        }
        if (f.deliveredBy == f.owner) {
          result.deliveredByOwnPhone++;
        } else {
          result.deliveredThroughHolders++;
          if (f.owner.lost) {
            result.recoveredFromLostPhones++;
          }
        }
      } else if (!f.liveOn.isEmpty()) {
        result.notRecoveredWithLiveReplica++;
        result.failures.add(f.id() + " had a live copy on " + names(f.liveOn) + " but was not recovered");
      } else if (f.owner.lost) {
        result.lostWithPhone++;
      } else {
        result.notRecoveredWithLiveReplica++;
        result.failures.add(f.id() + " never left " + f.owner.name + ", which got home");
      }
    }
    for (Home h : homes) {
      int expected = deliveredPerHome.getOrDefault(h, 0);
      int actual;
      try (Stream<Path> s = Files.list(h.inboxDir)) {
        actual = (int) s.filter(x -> !x.getFileName().toString().equals(Inbox.STATE_DIR)).count();
      }
      if (actual != expected) {
        result.failures.add(dir.relativize(h.inboxDir) + " holds " + actual + " files, " + expected + " were delivered");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Faults

  private void corruptADelivery() throws IOException {
    for (FileRecord f : files) {
      if (f.deliveredFile != null && f.plainBytes > 0) {
        flipByte(f.deliveredFile, Files.size(f.deliveredFile) / 2);
        return;
      }
    }
  }

  private void corruptReplicas() throws IOException {
    for (FileRecord f : files) {
      if (!f.owner.lost) {
        continue;
      }
      List<Path> blobs = new ArrayList<>();
      for (Phone holder : f.holders) {
        if (!holder.lost) {
          // The store's documented layout (docs/store-format.md): blobs/groups/<g>/<fingerprint>.blob
          try (Stream<Path> s = Files.walk(holder.dir.resolve(Holder.BLOBS_DIR).resolve("groups"))) {
            s.filter(x -> x.getFileName().toString().equals(f.fingerprint.toHex() + ".blob")).forEach(blobs::add);
          }
        }
      }
      if (!blobs.isEmpty()) {
        for (Path b : blobs) {
          flipByte(b, Files.size(b) / 2);
        }
        return;
      }
    }
  }

  private static void flipByte(Path file, long offset) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, offset);
      b.flip();
      byte v = (byte) (b.get(0) ^ 0x20);
      ch.write(ByteBuffer.wrap(new byte[] {v}), offset);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Helpers

  private long pick(long[] values) {
    return values[random.nextInt(values.length)];
  }

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private byte[] text(int n) {
    StringBuilder b = new StringBuilder(n + 16);
    while (b.length() < n) {
      b.append(WORDS[random.nextInt(WORDS.length)]).append(random.nextInt(12) == 0 ? ".\n" : " ");
    }
    b.setLength(n);
    return b.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /** Key generation from the seed: the engine takes a SecureRandom; this one is deterministic on purpose. */
  private static SecureRandom seeded(Random r) {
    return new SecureRandom() {
      private static final long serialVersionUID = 1L;

      @Override
      public void nextBytes(byte[] bytes) {
        r.nextBytes(bytes);
      }
    };
  }

  static String names(List<Phone> phones) {
    List<String> n = new ArrayList<>();
    for (Phone p : phones) {
      n.add(p.name);
    }
    return String.join(", ", n);
  }

  private static boolean sameBytes(Path a, Path b) throws IOException {
    if (Files.size(a) != Files.size(b)) {
      return false;
    }
    try (InputStream x = Files.newInputStream(a); InputStream y = Files.newInputStream(b)) {
      byte[] bx = new byte[64 * 1024];
      byte[] by = new byte[64 * 1024];
      while (true) {
        int n = x.readNBytes(bx, 0, bx.length);
        int m = y.readNBytes(by, 0, n);
        if (n != m || !java.util.Arrays.equals(bx, 0, n, by, 0, m)) {
          return false;
        }
        if (n < bx.length) {
          return y.read() < 0;
        }
      }
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    List<Path> all;
    try (Stream<Path> s = Files.walk(root)) {
      all = new ArrayList<>(s.collect(java.util.stream.Collectors.toList()));
    }
    Collections.reverse(all);
    for (Path p : all) {
      Files.deleteIfExists(p);
    }
  }

  static String timeOfDay(long epochSecond) {
    return Instant.ofEpochSecond(epochSecond).toString().substring(11, 16);
  }

  /** Refusals in a stable order, only the non-zero ones. */
  static Map<String, Long> refusalMap(Result r) {
    Map<String, Long> m = new LinkedHashMap<>();
    r.refusals.forEach((k, v) -> m.put(k.name(), v));
    return m;
  }
}
