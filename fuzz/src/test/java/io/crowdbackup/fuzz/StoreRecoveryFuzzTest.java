package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.DiskFixture.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.api.store.Upload;
import io.crowdbackup.api.store.UploadInfo;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreTestSupport.Env;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The custody store's recovery over damaged files: what {@code FileCustodyStore.open} reads after a crash
 * (blob file header, envelope, footer and piece table; the state log; the store descriptor and the
 * clean-shutdown marker; a partial upload and its piece journal), driven through the public entry points
 * with one file of a real store directory replaced by the fuzzer's bytes.
 *
 * <p>Input layouts start with a flag byte; bit 0 asks the harness to recompute the CRC-32s the format
 * puts on headers, footers and entries, so that mutated fields reach the checks behind the checksums
 * (a checksummed-but-hostile record) instead of all stopping at the CRC.
 *
 * <p>Contract ({@link #audit}): only StoreException with a reason escapes (never one wrapping a
 * RuntimeException), or the EnvelopeException of bytes that are not the envelope promised; every blob served after recovery hashes to the fingerprint it is served under, and a
 * known fingerprint serves exactly the known bytes; the interrupted upload can be finished (resumed or
 * begun again) and then serves exactly its envelope; the directory recovery leaves opens again to the same
 * listing; byte counts are never negative; the open itself stays within an allocation budget.
 */
class StoreRecoveryFuzzTest {
  static final int FLAG_FIX_CRCS = 1;
  static final int FLAG_KEEP_FILE_NAME = 2;
  static final int FLAG_LOSE_LAST_PAGE = 2;
  /** Every envelope of the fixture is under 10 KB; serving more than this means the reader lost bounds. */
  private static final int MAX_SERVED_BYTES = 64 * 1024;
  private static final long OPEN_BUDGET_BYTES = 32 * Contract.MIB;
  /** The store's last refusal to serve a blob, for the failure message. */
  private static Exception lastRefusal;

  /** {@code flags | blob file}: the committed blob file replaced. */
  @FuzzTest
  void openDamagedBlob(byte[] input) throws Exception {
    if (input.length < 1) {
      return;
    }
    int flags = input[0];
    byte[] blob = Arrays.copyOfRange(input, 1, input.length);
    if ((flags & FLAG_FIX_CRCS) != 0) {
      fixBlobCrcs(blob);
    }
    String original = blobPath();
    String name = original;
    if ((flags & FLAG_KEEP_FILE_NAME) == 0 && blob.length >= 44) {
      // A file named after its own header's fingerprint, as the store names them.
      String group = original.substring(0, original.lastIndexOf('/') + 1);
      name = group + Fingerprint.of(Arrays.copyOfRange(blob, 12, 44)).toHex() + ".blob";
    }
    Map<String, byte[]> files = new LinkedHashMap<>(STORE);
    files.remove(original);
    files.put(name, blob);
    files.remove("CLEAN"); // a crash: recovery reads every data file
    run(files, false);
  }

  /** {@code flags | u16 n | states.log (n) | u8 m | STORE (m) | CLEAN}: an empty section leaves the file out. */
  @FuzzTest
  void openDamagedLogs(byte[] input) throws Exception {
    ByteBuffer b = ByteBuffer.wrap(input);
    if (b.remaining() < 3) {
      return;
    }
    int flags = b.get();
    byte[] log = take(b, b.getShort() & 0xffff);
    byte[] descriptor = take(b, b.hasRemaining() ? b.get() & 0xff : 0);
    byte[] clean = take(b, b.remaining());
    if ((flags & FLAG_FIX_CRCS) != 0) {
      putCrc(log, 12, 0);
      for (int at = 16; at + 62 <= log.length; at += 62) {
        putCrc(log, at + 58, at);
      }
      putCrc(descriptor, 12, 0);
      putCrc(clean, clean.length - 4, 0);
    }
    Map<String, byte[]> files = new LinkedHashMap<>(STORE);
    files.put(stateLogPath(), log.length == 0 ? null : log);
    files.put("STORE", descriptor.length == 0 ? null : descriptor);
    files.put("CLEAN", clean.length == 0 ? null : clean);
    run(files, false);
  }

  /**
   * {@code flags | u16 part length | journal}: the journal replaced, the partial data file cut (or extended
   * with the envelope's next bytes, as if written but not journaled) to the given length; flag bit 1 zeroes
   * the data file's last 4 KiB (pages a power cut lost although the journal survived).
   */
  @FuzzTest
  void resumeDamagedUpload(byte[] input) throws Exception {
    ByteBuffer b = ByteBuffer.wrap(input);
    if (b.remaining() < 3) {
      return;
    }
    int flags = b.get();
    int partLength = b.getShort() & 0xffff;
    byte[] journal = take(b, b.remaining());
    byte[] original = STORE.get(partPath());
    int headerLength = original.length - PARTIAL_SENT_BYTES;
    byte[] part = Arrays.copyOf(original, Math.min(partLength, headerLength + PARTIAL.bytes.length));
    for (int i = original.length; i < part.length; i++) {
      part[i] = PARTIAL.bytes[i - headerLength];
    }
    if ((flags & FLAG_LOSE_LAST_PAGE) != 0) {
      int from = Math.max(headerLength, part.length - 4096);
      if (from < part.length) {
        Arrays.fill(part, from, part.length, (byte) 0);
      }
    }
    if ((flags & FLAG_FIX_CRCS) != 0) {
      fixRecordHeaderCrc(journal);
      if (journal.length > 78) {
        for (int at = 78 + (journal[77] & 0xff) + 4; at + 40 <= journal.length; at += 40) {
          putCrc(journal, at + 36, at);
        }
      }
    }
    Map<String, byte[]> files = new LinkedHashMap<>(STORE);
    files.put(journalPath(), journal);
    files.put(partPath(), part);
    files.remove("CLEAN");
    // Without forged checksums, damage can only shorten what the journal proves: finishing must succeed.
    run(files, (flags & FLAG_FIX_CRCS) == 0);
  }

  private static byte[] take(ByteBuffer b, int n) {
    byte[] out = new byte[Math.min(n, b.remaining())];
    b.get(out);
    return out;
  }

  /**
   * @param uploadMustFinish whether the interrupted upload must be finished (resumed or begun again)
   */
  private static void run(Map<String, byte[]> files, boolean uploadMustFinish)
      throws Exception {
    Path dir = tempDir("store-");
    try {
      write(dir, files);
      Contract.Outcome<FileCustodyStore> opened = Contract.withinBudget("opening the store", OPEN_BUDGET_BYTES,
          () -> store(() -> FileCustodyStore.open(config(dir))));
      if (!opened.ok()) {
        return; // refused as a whole, with a typed reason
      }
      Map<String, String> listing;
      try (FileCustodyStore store = opened.value) {
        audit(store, uploadMustFinish);
        listing = listing(store);
      }
      Contract.Outcome<FileCustodyStore> again = store(() -> FileCustodyStore.open(config(dir)));
      Contract.check(again.ok(), "the directory recovery left does not open again: " + again);
      try (FileCustodyStore store = again.value) {
        Contract.check(listing.equals(listing(store)),
            "reopening lists " + listing(store) + ", before the close " + listing);
      }
    } finally {
      deleteQuietly(dir);
    }
  }

  private static Map<String, String> listing(FileCustodyStore store) throws Exception {
    Map<String, String> out = new TreeMap<>();
    Contract.Outcome<List<BlobStat>> list = store(store::list);
    Contract.check(list.ok(), "list() failed after a successful open: " + list);
    for (BlobStat s : list.value) {
      out.put(s.fingerprint().toHex(), s.state() + "/" + s.envelopeLengthBytes() + "/" + s.expiresAtEpochSecond());
    }
    return out;
  }

  private static void audit(FileCustodyStore store, boolean uploadMustFinish)
      throws Exception {
    Contract.Outcome<List<BlobStat>> list = store(store::list);
    Contract.check(list.ok(), "list() failed after a successful open: " + list);
    for (BlobStat s : list.value) {
      serveAndCheck(store, s.fingerprint());
    }
    Contract.Outcome<List<UploadInfo>> uploads = store(store::uploads);
    if (uploads.rejection instanceof IllegalArgumentException) {
      return; // F9, masked (DiskFixture.store rethrows it unless masked)
    }
    Contract.check(uploads.ok(), "uploads() failed after a successful open: " + uploads);
    boolean finished = false;
    for (UploadInfo info : uploads.value) {
      Contract.check(info.durableOffsetBytes() >= 0 && info.durableOffsetBytes() <= info.request().declaredLengthBytes(),
          "durable offset " + info.durableOffsetBytes() + " outside [0, " + info.request().declaredLengthBytes() + "]");
      if (info.request().fingerprint().equals(PARTIAL.fingerprint)) {
        finished = resumeAndCommit(store, uploadMustFinish);
      }
    }
    if (!finished) {
      // Recovery dropped the upload (or refused to resume it): the sender starts over, which must work,
      // whatever else recovery registered (other uploads are left alone, as a store would until they expire).
      Contract.Outcome<BlobStat> put = store(() -> store.put(PARTIAL.custody("peer-two"), Fixtures.channel(PARTIAL.bytes)));
      Contract.check(put.ok() || !uploadMustFinish || put.rejection instanceof StoreException
          && ((StoreException) put.rejection).reason() == StoreException.Reason.DUPLICATE,
          "storing the interrupted envelope anew failed: " + put);
      if (put.ok()) {
        Contract.check(Arrays.equals(serveAndCheck(store, PARTIAL.fingerprint), PARTIAL.bytes),
            "the envelope stored anew is not served back");
      }
    }
    for (UploadInfo info : uploads.value) {
      Fingerprint fp = info.request().fingerprint();
      if (!fp.equals(PARTIAL.fingerprint)) {
        store(() -> {
          try (Upload u = store.resume(fp)) {
            u.abort();
          }
          return null;
        });
      }
    }
    StoreUsage usage = store.usage();
    Contract.check(usage.blobCount() >= 0 && usage.custodyHeldBytes() >= 0 && usage.ownHeldBytes() >= 0,
        "negative accounting after recovery: " + usage);
  }

  /** Resumes the fixture's interrupted upload from its durable offset and commits it. */
  private static boolean resumeAndCommit(FileCustodyStore store, boolean mustFinish)
      throws Exception {
    Contract.Outcome<BlobStat> committed = store(() -> {
      try (Upload u = store.resume(PARTIAL.fingerprint)) {
        long offset = u.durableOffset();
        Contract.check(offset >= 0 && offset <= PARTIAL.bytes.length, "resumed at offset " + offset);
        u.write(ByteBuffer.wrap(PARTIAL.bytes, (int) offset, PARTIAL.bytes.length - (int) offset));
        return u.commit();
      }
    });
    if (!committed.ok()) {
      Contract.check(!mustFinish, "resuming the interrupted upload after damage that only shortens what is "
          + "proven failed: " + committed.rejection);
      return false;
    }
    Contract.check(committed.value.fingerprint().equals(PARTIAL.fingerprint), "committed " + committed.value);
    byte[] served = serveAndCheck(store, PARTIAL.fingerprint);
    Contract.check(served != null, "the resumed upload was committed (acknowledged) and then refused: "
        + lastRefusal);
    Contract.check(Arrays.equals(served, PARTIAL.bytes), "the resumed upload serves other bytes than its envelope");
    return true;
  }

  /**
   * Reads a blob whole. Refusal is allowed (typed); bytes served must hash to the fingerprint, and for a
   * fingerprint of the fixture be exactly its envelope. Returns the bytes, or {@code null} if refused.
   */
  private static byte[] serveAndCheck(FileCustodyStore store, Fingerprint fp) throws Exception {
    Contract.Outcome<byte[]> served = readWhole(store, fp, MAX_SERVED_BYTES);
    if (!served.ok()) {
      lastRefusal = served.rejection;
      return null;
    }
    Fingerprint actual = fingerprintOf(served.value);
    Contract.check(fp.equals(actual), "served " + served.value.length + " bytes under " + fp
        + " that hash to " + actual);
    for (Env known : new Env[] {HELD, DELIVERED, PARTIAL}) {
      if (known.fingerprint.equals(fp)) {
        Contract.check(Arrays.equals(known.bytes, served.value), "served other bytes for " + fp);
      }
    }
    return served.value;
  }

  // --- seeds ----------------------------------------------------------------------------------------

  static Map<String, byte[]> blobSeeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    byte[] blob = STORE.get(blobPath());
    int headerLength = ByteBuffer.wrap(blob).getShort(10) & 0xffff;
    out.put("seed-intact", DeliveryLedgerFuzzTest.flagged(0, blob));
    out.put("seed-intact-fix-crcs", DeliveryLedgerFuzzTest.flagged(FLAG_FIX_CRCS, blob));
    out.put("seed-header-only", DeliveryLedgerFuzzTest.flagged(0, Arrays.copyOf(blob, headerLength)));
    out.put("seed-torn-footer", DeliveryLedgerFuzzTest.flagged(0, Arrays.copyOf(blob, blob.length - 20)));
    byte[] flipped = blob.clone();
    flipped[headerLength + 200] ^= 1;
    out.put("seed-envelope-bit-flip", DeliveryLedgerFuzzTest.flagged(0, flipped));
    byte[] expiry = blob.clone();
    int footerLength = ByteBuffer.wrap(blob).getInt(blob.length - 16);
    int pieceCount = (int) ByteBuffer.wrap(blob).getLong(blob.length - footerLength);
    ByteBuffer.wrap(expiry).putLong(blob.length - footerLength + 8 + 36 * pieceCount, NOW_EPOCH_SECOND - 1);
    out.put("seed-expired-fix-crcs", DeliveryLedgerFuzzTest.flagged(FLAG_FIX_CRCS, expiry));
    byte[] renamed = blob.clone();
    renamed[12] ^= 1;
    out.put("seed-other-fingerprint-fix-crcs", DeliveryLedgerFuzzTest.flagged(FLAG_FIX_CRCS, renamed));
    out.put("seed-other-fingerprint-keep-name",
        DeliveryLedgerFuzzTest.flagged(FLAG_FIX_CRCS | FLAG_KEEP_FILE_NAME, renamed));
    out.put("seed-empty", new byte[] {0});
    return out;
  }

  static Map<String, byte[]> logSeeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    byte[] log = STORE.get(stateLogPath());
    byte[] descriptor = STORE.get("STORE");
    byte[] clean = STORE.get("CLEAN");
    out.put("seed-intact", logs(0, log, descriptor, clean));
    out.put("seed-intact-unclean", logs(0, log, descriptor, new byte[0]));
    out.put("seed-torn-entry", logs(0, Arrays.copyOf(log, log.length - 10), descriptor, new byte[0]));
    out.put("seed-no-log", logs(0, new byte[0], descriptor, new byte[0]));
    out.put("seed-header-only", logs(0, Arrays.copyOf(log, 16), new byte[0], new byte[0]));
    byte[] delivered = log.clone();
    for (int at = 16; at + 62 <= delivered.length; at += 62) {
      if (Arrays.equals(Arrays.copyOfRange(delivered, at, at + 32), HELD.fingerprint.toBytes())) {
        delivered[at + 40] = 2; // HELD's FORWARDING entry says DELIVERED
      }
    }
    out.put("seed-forged-delivered-fix-crcs", logs(FLAG_FIX_CRCS, delivered, descriptor, new byte[0]));
    byte[] version2 = descriptor.clone();
    version2[9] = 2;
    out.put("seed-store-version-2-fix-crcs", logs(FLAG_FIX_CRCS, log, version2, new byte[0]));
    byte[] otherIndex = clean.clone();
    otherIndex[11] ^= 0x20;
    out.put("seed-clean-other-index-fix-crcs", logs(FLAG_FIX_CRCS, log, descriptor, otherIndex));
    return out;
  }

  private static byte[] logs(int flags, byte[] log, byte[] descriptor, byte[] clean) {
    return ByteBuffer.allocate(1 + 2 + log.length + 1 + descriptor.length + clean.length).put((byte) flags)
        .putShort((short) log.length).put(log).put((byte) descriptor.length).put(descriptor).put(clean).array();
  }

  static Map<String, byte[]> uploadSeeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    byte[] journal = STORE.get(journalPath());
    int part = STORE.get(partPath()).length;
    int header = part - PARTIAL_SENT_BYTES;
    out.put("seed-intact", upload(0, part, journal));
    out.put("seed-part-cut", upload(0, header + 4500, journal));
    out.put("seed-part-written-past-journal", upload(0, header + PARTIAL.bytes.length, journal));
    out.put("seed-lost-last-page", upload(FLAG_LOSE_LAST_PAGE, part, journal));
    out.put("seed-torn-journal", upload(0, part, Arrays.copyOf(journal, journal.length - 7)));
    int journalHeader = 78 + (journal[77] & 0xff) + 4;
    out.put("seed-journal-header-only", upload(0, part, Arrays.copyOf(journal, journalHeader)));
    out.put("seed-empty-journal", upload(0, part, new byte[0]));
    byte[] forged = journal.clone();
    forged[journal.length - 40] ^= 1; // last entry's digest, checksum recomputed
    out.put("seed-forged-last-digest-fix-crcs", upload(FLAG_FIX_CRCS, part, forged));
    byte[] longer = journal.clone();
    ByteBuffer.wrap(longer).putInt(journal.length - 8, 1 << 22);
    out.put("seed-forged-piece-length-fix-crcs", upload(FLAG_FIX_CRCS, part, longer));
    return out;
  }

  private static byte[] upload(int flags, int partLength, byte[] journal) {
    return ByteBuffer.allocate(3 + journal.length).put((byte) flags).putShort((short) partLength).put(journal)
        .array();
  }
}
