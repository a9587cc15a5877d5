package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.DiskFixture.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.engine.inbox.Delivery;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.policy.ManualTimeSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The destination inbox's delivery ledger ({@code .crowdbackup-inbox/delivered.ledger}) as {@code
 * Inbox.open} replays it after a crash: a real inbox folder (two delivered envelopes, their published
 * files) with the ledger replaced by the fuzzer's bytes. Input: {@code flags | ledger}; flag bit 0 makes the
 * harness recompute every record's CRC-32s (walking the records by their length fields), so mutated
 * payloads reach the decoder behind the checksum.
 *
 * <p>Contract: only InboxException or StoreException with a reason (never one wrapping a RuntimeException) or an
 * EnvelopeException escapes; a ledger the inbox accepted opens again after its repair with the same
 * delivered count; receipts come back for delivered fingerprints or are refused with a typed reason; the
 * inbox stays usable: delivering a fixture envelope again ends as a typed outcome, and a new delivery
 * publishes the right plaintext.
 */
class DeliveryLedgerFuzzTest {
  static final int FLAG_FIX_CRCS = 1;
  static final long NOW = 1_700_000_000L;
  static final String LEDGER = Inbox.STATE_DIR + "/delivered.ledger";
  /** u32 length | u32 payload CRC-32 | u32 CRC-32 of those 8 bytes (ledger version 2). */
  static final int RECORD_HEADER = 12;
  private static final long OPEN_BUDGET_BYTES = 16 * Contract.MIB;

  /** Envelopes sealed to the fixture destination: the first two are delivered in the template. */
  static final List<byte[]> ENVELOPES = envelopes();
  static final List<Fingerprint> FINGERPRINTS = fingerprints();
  static final Map<String, byte[]> INBOX = buildInbox();

  @FuzzTest
  void openDamagedLedger(byte[] input) throws Exception {
    if (input.length < 1) {
      return;
    }
    int flags = input[0];
    byte[] ledger = Arrays.copyOfRange(input, 1, input.length);
    if ((flags & FLAG_FIX_CRCS) != 0) {
      fixRecordCrcs(ledger);
    }
    Map<String, byte[]> files = new LinkedHashMap<>(INBOX);
    files.put(LEDGER, ledger);
    Path dir = tempDir("inbox-");
    Path outside = tempDir("envelope-");
    try {
      write(dir, files);
      Contract.Outcome<Inbox> opened = Contract.withinBudget("opening the inbox", OPEN_BUDGET_BYTES,
          () -> inbox(() -> open(dir)));
      if (!opened.ok()) {
        return;
      }
      int delivered;
      try (Inbox inbox = opened.value) {
        delivered = inbox.deliveredCount();
        Contract.check(delivered >= 0, "negative delivered count " + delivered);
        for (Fingerprint fp : FINGERPRINTS) {
          Contract.Outcome<Receipt> r = inbox(() -> inbox.receiptFor(fp));
          boolean otherBlob = r.ok() && r.value != null && !r.value.fingerprint().equals(fp);
          Contract.check(!otherBlob,
              "receipt for " + fp + " names " + (otherBlob ? r.value.fingerprint() : null));
        }
      }
      Contract.Outcome<Inbox> again = inbox(() -> open(dir));
      Contract.check(again.ok(), "the folder recovery left does not open again: " + again);
      try (Inbox inbox = again.value) {
        Contract.check(inbox.deliveredCount() == delivered,
            "reopening counts " + inbox.deliveredCount() + " deliveries, before " + delivered);
        for (int i = 0; i < ENVELOPES.size(); i++) {
          Path file = outside.resolve("e" + i + ".cbe");
          Files.write(file, ENVELOPES.get(i));
          Contract.Outcome<Delivery> d = inbox(() -> inbox.deliver(file));
          if (d.ok()) {
            Contract.check(d.value.fingerprint().equals(FINGERPRINTS.get(i)), "delivery names " + d.value.fingerprint());
            if (d.value.outcome() == Delivery.Outcome.DELIVERED) {
              Contract.check(Files.size(d.value.file()) == d.value.metadata().plaintextLengthBytes(),
                  "published file " + d.value.file() + " is not the plaintext's length");
            }
          }
        }
      }
    } finally {
      deleteQuietly(dir);
      deleteQuietly(outside);
    }
  }

  private static Inbox open(Path dir) throws IOException {
    return Inbox.newBuilder().directory(dir).keys(Fixtures.DESTINATION).time(new ManualTimeSource((NOW) * 1000L)).open();
  }

  /**
   * Recomputes the CRC-32s of every record whose length field fits the bytes: in version 2 the payload's and
   * then the record header's; in version 1 (the older corpus inputs, byte 5 = 1) the payload's only.
   */
  static void fixRecordCrcs(byte[] ledger) {
    boolean v1 = ledger.length > 5 && ledger[5] == 1;
    int header = v1 ? 8 : RECORD_HEADER;
    ByteBuffer b = ByteBuffer.wrap(ledger);
    int at = 8;
    while (at + header <= ledger.length) {
      int length = b.getInt(at);
      if (length < 0 || length > ledger.length - at - header) {
        break;
      }
      b.putInt(at + 4, crc(ledger, at + header, length));
      if (!v1) {
        b.putInt(at + 8, crc(ledger, at, 8));
      }
      at += header + length;
    }
  }

  private static List<byte[]> envelopes() {
    Map<String, byte[]> all = SeedGenerator.directEnvelopes();
    return List.of(all.get("seed-1-byte"), all.get("seed-two-chunks"), all.get("seed-unicode-locator-and-name"));
  }

  private static List<Fingerprint> fingerprints() {
    List<Fingerprint> out = new ArrayList<>();
    for (byte[] e : ENVELOPES) {
      try {
        out.add(fingerprintOf(e));
      } catch (IOException ex) {
        throw new UncheckedIOException(ex);
      }
    }
    return out;
  }

  private static Map<String, byte[]> buildInbox() {
    Path dir = null;
    Path outside = null;
    try {
      dir = tempDir("inbox-template");
      outside = tempDir("envelope-template");
      try (Inbox inbox = open(dir)) {
        for (int i = 0; i < 2; i++) {
          Path file = outside.resolve("e" + i + ".cbe");
          Files.write(file, ENVELOPES.get(i));
          inbox.deliver(file);
        }
      }
      return snapshot(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteQuietly(dir);
      deleteQuietly(outside);
    }
  }

  /** Seeds: the real ledger, cut before its last DONE (a pending delivery), torn, empty, forged. */
  static Map<String, byte[]> seeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    byte[] ledger = INBOX.get(LEDGER);
    List<Integer> ends = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(ledger);
    for (int at = 8; at + RECORD_HEADER <= ledger.length; ) {
      at += RECORD_HEADER + b.getInt(at);
      ends.add(at);
    }
    out.put("seed-intact", flagged(0, ledger));
    out.put("seed-intact-fix-crcs", flagged(FLAG_FIX_CRCS, ledger));
    out.put("seed-pending-last", flagged(0, Arrays.copyOf(ledger, ends.get(ends.size() - 2))));
    out.put("seed-pending-first", flagged(0, Arrays.copyOf(ledger, ends.get(0))));
    out.put("seed-torn-tail", flagged(0, Arrays.copyOf(ledger, ledger.length - 5)));
    out.put("seed-header-only", flagged(0, Arrays.copyOf(ledger, 8)));
    out.put("seed-short-header", flagged(0, Arrays.copyOf(ledger, 5)));
    out.put("seed-empty", flagged(0, new byte[0]));
    byte[] version3 = ledger.clone();
    version3[5] = 3;
    out.put("seed-version-3", flagged(0, version3));
    byte[] forged = ledger.clone();
    forged[8 + RECORD_HEADER] = 9; // first record's type: undefined, checksum recomputed
    out.put("seed-undefined-type-fix-crcs", flagged(FLAG_FIX_CRCS, forged));
    return out;
  }

  static byte[] flagged(int flags, byte[] bytes) {
    byte[] out = new byte[bytes.length + 1];
    out[0] = (byte) flags;
    System.arraycopy(bytes, 0, out, 1, bytes.length);
    return out;
  }
}
