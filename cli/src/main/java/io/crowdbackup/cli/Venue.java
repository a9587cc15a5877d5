package io.crowdbackup.cli;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.CrowdBackupException;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.api.policy.QuotaStats;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.custody.CustodyStats;
import io.crowdbackup.engine.custody.DropOutcome;
import io.crowdbackup.engine.custody.Forward;
import io.crowdbackup.engine.custody.Offer;
import io.crowdbackup.engine.inbox.Delivery;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.inbox.SafeFiles;
import io.crowdbackup.engine.keys.Keys;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The simulated venue behind {@code crowdbackup demo}: N phones, each with a real custody store on disk
 * ({@link Holder}, the same folders the {@code store} commands open) under its own quota, share, retention
 * and radio bandwidth, and N homes, each a real {@link Inbox}. Everything the summary reports is counted
 * from what those stores, custodians and inboxes did; the simulation only decides who meets whom, when,
 * and which phones are lost.
 *
 * <p>The story, on one {@link SimClock}:
 * <ol>
 *   <li><b>At the venue</b> every phone seals its files (generated from the seed: photos, videos, notes)
 *       for its owner's home and keeps the envelopes in its store as its own; then, in rounds, it offers
 *       each envelope to peers in a seeded order until R holders have accepted one (the custodian decides:
 *       quota, per-peer share, size, retention) and streams it over through both radios' token buckets.
 *   <li><b>L phones are lost</b>: their stores are closed and deleted, with everything they held.
 *   <li><b>Going home</b>, the rest arrive in seeded hours. On arrival a phone first reads the receipts its
 *       destinations have published so far and hands them to its custodian, which verifies them and drops
 *       those copies unsent; then it forwards everything still pending (its own envelopes and custody
 *       blobs alike) to their homes' inboxes, each forward once, to the locator in the envelope's header,
 *       and gives the inbox's receipt back to its custodian. Phones arriving in the same hour do not see
 *       each other's receipts, so an inbox may get a second copy: it keeps the first and answers with the
 *       same receipt. Copies whose custody expired before their holder got home are not sent.
 *   <li><b>Next morning</b> each phone's custodian evicts what expired; every store must then be empty.
 *   <li><b>The check</b>: every delivered file is compared byte for byte with its original, and every file
 *       that still had a live replica (a copy, held and not expired, on a phone that got home) must have
 *       been delivered.
 * </ol>
 * Single-threaded and seeded: one seed gives the same counts on every run and machine. (The sealer draws
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

  private static final long[] QUOTAS = {1 << 20, 3 << 19, 2 << 20, 3 << 20, 4 << 20};
  private static final int[] SHARES = {40, 50, 60};
  private static final long[] RETENTIONS = {4 * 3600, 8 * 3600, 12 * 3600, 12 * 3600};
  private static final long[] RADIOS = {2 << 20, 4 << 20, 8 << 20};
  private static final String[] WORDS = {"stage", "crowd", "encore", "lights", "guitar", "drums", "friends",
      "queue", "tickets", "rain", "sunset", "bassline", "setlist", "merch", "chorus", "the", "and", "a", "was"};

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
    final String locator;
    final DestinationKeyPair keys;
    final Path inboxDir;
    final Path receiptsDir;
    Inbox inbox;

    Home(int index, DestinationKeyPair keys, Path dir) {
      this.index = index;
      this.locator = keys.card().locator();
      this.keys = keys;
      this.inboxDir = dir.resolve("inbox");
      this.receiptsDir = dir.resolve("receipts");
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
    int filesShortOfReplicas;
    final Map<Refusal.Reason, Long> refusals = new EnumMap<>(Refusal.Reason.class);
    long receiptRefusals;
    long venueBytes;
    long venueThrottledNanos;
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
  private final Map<String, Home> homeByLocator = new HashMap<>();
  private final Map<Fingerprint, FileRecord> fileByFingerprint = new HashMap<>();
  private final List<FileRecord> files = new ArrayList<>();
  private final Result result = new Result();

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
      if (params.fault == Fault.CORRUPT_REPLICA) {
        corruptReplicas();
      }
      goHome();
      if (params.fault == Fault.CORRUPT_DELIVERY) {
        corruptADelivery();
      }
      nextMorning();
      check();
      return result;
    } finally {
      for (Phone p : phones) {
        if (p.holder != null) {
          // What 'crowdbackup store --dir <phone> stats' shows as this folder's totals.
          HolderCounters totals = HolderCounters.read(p.dir);
          totals.add(p.holder.custodian.stats());
          totals.write(p.dir);
          p.holder.close();
        }
      }
      for (Home h : homes) {
        if (h.inbox != null) {
          h.inbox.close();
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------

  private void setUp() throws IOException, CliException {
    SecureRandom keyRandom = seeded(new Random(random.nextLong()));
    for (int i = 0; i < params.phones; i++) {
      DestinationKeyPair keys = Keys.generateDestination(String.format("https://home-%02d.example/inbox", i + 1),
          keyRandom);
      Home h = new Home(i, keys, dir.resolve("homes").resolve(String.format("home-%02d", i + 1)));
      Files.createDirectories(h.receiptsDir);
      h.inbox = Inbox.newBuilder().directory(h.inboxDir).keys(keys)
          .time(clock).open();
      homes.add(h);
      homeByLocator.put(h.locator, h);
    }
    for (int i = 0; i < params.phones; i++) {
      HolderSettings s = HolderSettings.of(pick(QUOTAS), SHARES[random.nextInt(SHARES.length)], pick(RETENTIONS), 0);
      long radio = pick(RADIOS);
      int homeHour = 1 + random.nextInt(8);
      Phone p = new Phone(i, dir.resolve("phones").resolve(String.format("phone-%02d", i + 1)), s, radio, homeHour,
          homes.get(i), Keys.generateSigning(keyRandom));
      Files.createDirectories(p.dir);
      Files.writeString(p.dir.resolve(HolderSettings.FILE_NAME), s.encode());
      RateLimit global = RateLimit.perSecond(radio);
      RateLimit perPeer = RateLimit.perSecond(radio / 2);
      p.holder = Holder.open(p.dir, s, clock, new RateLimit[] {global, perPeer},
          new RateLimit[] {global, perPeer});
      phones.add(p);
      result.phones.add(p);
    }
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
        Path temp = SafeFiles.createTemp(p.dir);
        try {
          SealResult sealed;
          try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            sealed = sealer.seal(request, f.original, out);
          }
          f.fingerprint = sealed.fingerprint();
          f.envelopeBytes = sealed.envelopeLengthBytes();
          f.expiresAtEpochSecond = sealed.header().expiresAtEpochSecond();
          try (FileChannel in = FileChannel.open(temp)) {
            p.holder.custodian.putOwn(f.fingerprint, f.envelopeBytes, in);
          }
        } finally {
          Files.deleteIfExists(temp);
        }
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
          if (f.holders.size() >= round) {
            continue;
          }
          while (f.cursor < f.candidates.size()) {
            Phone peer = f.candidates.get(f.cursor++);
            if (offer(f, peer, bar)) {
              break;
            }
          }
        }
      }
      bar.finish();
    }
    for (FileRecord f : files) {
      result.replicasPlaced += f.holders.size();
      if (f.holders.size() < params.replicas) {
        result.filesShortOfReplicas++;
      }
    }
    result.venueThrottledNanos = clock.throttledNanos();
  }

  /** One offer of {@code f} from its owner to {@code peer}; whether the peer took it. */
  private boolean offer(FileRecord f, Phone peer, ProgressBar bar) throws IOException {
    Offer offer = Offer.newBuilder().fingerprint(f.fingerprint).declaredLengthBytes(f.envelopeBytes)
        .envelopeExpiresAtEpochSecond(f.expiresAtEpochSecond).sourcePeer(f.owner.name)
        .requireFullRetention(f.video).build();
    Transfer moved = Transfer.create(bar.adding());
    try (ReadableByteChannel in = moved.reading(f.owner.holder.custodian.openOwn(f.fingerprint, peer.name), -1)) {
      peer.holder.custodian.receive(offer, in);
      f.holders.add(peer);
      return true;
    } catch (RefusalException e) {
      return false;
    } finally {
      result.venueBytes += moved.bytesDone();
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
  }

  private void lose() throws IOException {
    List<Phone> order = new ArrayList<>(phones);
    Collections.shuffle(order, random);
    List<Phone> lost = new ArrayList<>(order.subList(0, params.lost));
    lost.sort(Comparator.comparingInt(p -> p.index));
    for (Phone p : lost) {
      p.lost = true;
      p.lastStats = p.holder.custodian.stats();
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
      int i = 0;
      while (i < going.size()) {
        int hour = going.get(i).homeHour;
        List<Phone> arriving = new ArrayList<>();
        while (i < going.size() && going.get(i).homeHour == hour) {
          arriving.add(going.get(i++));
        }
        long at = START_EPOCH_SECOND + hour * 3600L + HOME_OFFSET_SECONDS;
        clock.advanceToEpochSecond(at);
        result.firstHomeEpochSecond = Math.min(result.firstHomeEpochSecond, at);
        result.lastHomeEpochSecond = Math.max(result.lastHomeEpochSecond, at);
        // Receipts published before this hour: phones arriving together do not see each other's.
        Map<Fingerprint, byte[]> board = readReceiptBoard();
        for (Phone p : arriving) {
          syncReceipts(p, board);
        }
        for (Phone p : arriving) {
          forwardAll(p, bar);
        }
      }
      bar.finish();
    }
  }

  private void syncReceipts(Phone p, Map<Fingerprint, byte[]> board) throws IOException {
    long now = p.holder.custodian.nowEpochSecond();
    for (BlobStat s : sorted(p.holder.custodian.list())) {
      // Past its custody expiry the store lists a blob as EXPIRED (never served) until eviction removes it.
      if (s.kind() == BlobKind.CUSTODY && s.state() != BlobState.DELIVERED && s.expiresAtEpochSecond() <= now) {
        result.expiredBeforeHome++;
      }
    }
    for (BlobStat s : pending(p)) {
      FileRecord f = fileByFingerprint.get(s.fingerprint());
      f.liveOn.add(p);
      byte[] receipt = board.get(s.fingerprint());
      if (receipt != null) {
        try {
          if (p.holder.custodian.acceptReceipt(s.fingerprint(), receipt) == DropOutcome.DROPPED) {
            result.droppedByReceipt++;
          }
        } catch (ReceiptException e) {
          result.failures.add(p.name + " refused the receipt for " + f.id() + ": " + e.getMessage());
        }
      }
    }
  }

  private void forwardAll(Phone p, ProgressBar bar) throws IOException {
    for (BlobStat s : pending(p)) {
      FileRecord f = fileByFingerprint.get(s.fingerprint());
      Home home = homeByLocator.get(s.locator());
      Transfer moved = Transfer.create(bar.adding());
      try (Forward forward = p.holder.custodian.beginForward(s.fingerprint(), s.locator())) {
        ReadableByteChannel in = moved.reading(forward.channel(), -1);
        Delivery d = home.inbox.deliver(in, s.fingerprint());
        publishReceipt(home, d);
        forward.delivered(d.receiptBytes());
        if (d.outcome() == Delivery.Outcome.DELIVERED) {
          f.deliveredBy = p;
          f.deliveredFile = d.file();
        } else {
          result.inboxDuplicates++;
        }
      } catch (CrowdBackupException e) {
        if (e.reason() == StoreException.Reason.CORRUPT) {
          // A copy that fails its checks on the way out is quarantined by its store and not delivered.
          result.forwardFailures++;
        } else if (e.reason() == StoreException.Reason.EXPIRED) {
          result.expiredBeforeHome++; // expired while its holder was busy forwarding others; evicted tomorrow
        } else if (e instanceof ReceiptException) {
          result.failures.add(p.name + " refused the receipt " + home.locator + " gave for " + f.id() + ": "
              + e.getMessage());
        } else {
          throw e;
        }
      } finally {
        if (s.kind() == BlobKind.OWN) {
          result.homeOwnBytes += moved.bytesDone();
        } else {
          result.homeCustodyBytes += moved.bytesDone();
        }
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

  private void publishReceipt(Home home, Delivery d) throws IOException {
    Path file = home.receiptsDir.resolve(d.fingerprint().toHex() + ".receipt");
    if (!Files.exists(file)) {
      OutputFiles.writeNew(file, d.receiptBytes(), false);
    }
  }

  private Map<Fingerprint, byte[]> readReceiptBoard() throws IOException {
    Map<Fingerprint, byte[]> board = new HashMap<>();
    for (Home h : homes) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(h.receiptsDir, "*.receipt")) {
        for (Path file : ds) {
          String name = file.getFileName().toString();
          board.put(Fingerprint.fromHex(name.substring(0, name.length() - ".receipt".length())),
              Files.readAllBytes(file));
        }
      }
    }
    return board;
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
