package io.crowdbackup.engine.inbox;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.envelope.StreamingSealer;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import io.crowdbackup.engine.policy.ManualTimeSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delivered-ledger under damage at rest and under crashes: a flipped byte anywhere is reported and
 * changes nothing; a cut anywhere (what a crash leaves) keeps every delivery recorded before the cut.
 * Either way no delivered envelope is ever taken a second time.
 */
class DeliveryLedgerDamageTest {
  static final DestinationKeyPair DEST = TestEnvelopes.destination(21, "https://home.example/inbox");
  static final SigningKeyPair SOURCE = TestEnvelopes.source(22);
  static final long NOW = 1_750_000_000L;
  static final int DELIVERIES = 3;

  @TempDir Path tmp;
  Path inboxDir;
  Path ledger;
  final List<Path> envelopes = new ArrayList<>();
  final List<byte[]> receipts = new ArrayList<>();
  byte[] original;

  /** An inbox that delivered three envelopes: a ledger of PENDING, DONE, PENDING, DONE, PENDING, DONE. */
  @BeforeEach
  void deliverThree() throws IOException {
    inboxDir = tmp.resolve("inbox");
    Path outside = Files.createDirectories(tmp.resolve("envelopes"));
    try (Inbox inbox = open()) {
      for (int i = 0; i < DELIVERIES; i++) {
        byte[] bytes;
        try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(100 + i, 1)) {
          bytes = TestEnvelopes.seal(sealer, TestEnvelopes.request(DEST, SOURCE).chunkSizeBytes(4096)
              .name("note.txt").build(), TestEnvelopes.plaintext(i, 200 + i, false));
        }
        Path e = Files.write(outside.resolve("e" + i + ".cbe"), bytes);
        envelopes.add(e);
        receipts.add(inbox.deliver(e).receiptBytes());
      }
    }
    ledger = inboxDir.resolve(Inbox.STATE_DIR).resolve(DeliveryLedger.FILE_NAME);
    original = Files.readAllBytes(ledger);
  }

  Inbox open() throws IOException {
    return Inbox.newBuilder().directory(inboxDir).keys(DEST).time(new ManualTimeSource((NOW) * 1000L)).open();
  }

  /** Offsets where each record starts, and the file's end. */
  static List<Integer> recordStarts(byte[] ledger, int recordHeader) {
    List<Integer> starts = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(ledger);
    for (int at = DeliveryLedger.FILE_HEADER_BYTES; at < ledger.length; at += recordHeader + b.getInt(at)) {
      starts.add(at);
    }
    starts.add(ledger.length);
    return starts;
  }

  /** Which field of the ledger an offset falls in, e.g. "record 3 (last) header checksum". */
  static String offsetClass(byte[] ledger, int offset) {
    if (offset < DeliveryLedger.FILE_HEADER_BYTES) {
      return offset < 4 ? "file magic" : offset < 6 ? "file version" : "file reserved";
    }
    List<Integer> starts = recordStarts(ledger, DeliveryLedger.RECORD_HEADER_BYTES);
    int i = 0;
    while (starts.get(i + 1) <= offset) {
      i++;
    }
    boolean pending = ledger[starts.get(i) + 12] == DeliveryLedger.TYPE_PENDING;
    String record = "record " + (pending ? "PENDING" : "DONE") + (i == starts.size() - 2 ? " (last)" : "");
    int at = offset - starts.get(i);
    int[] ends = {4, 8, 12, 13, 45, 46, 54, 86, 94, 237, 239, Integer.MAX_VALUE};
    String[] fields = {"length", "payload checksum", "header checksum", "type", "fingerprint", "kind",
        "published length", "published SHA-256", "expiry", "receipt", "name length", "name"};
    int f = 0;
    while (at >= ends[f]) {
      f++;
    }
    return record + " " + fields[f];
  }

  @Test
  void aFlippedByteAnywhereIsReportedLeavesTheFileAsItIsAndNothingIsDeliveredTwice() throws Exception {
    Set<String> classes = new TreeSet<>();
    String[] before = visibleNames();
    for (int offset = 0; offset < original.length; offset++) {
      for (int mask : new int[] {0x01, 0x80}) {
        byte[] damaged = original.clone();
        damaged[offset] ^= (byte) mask;
        Files.write(ledger, damaged);
        String where = offsetClass(original, offset) + " at offset " + offset + " (mask " + mask + ")";
        InboxException e = assertThrows(InboxException.class, this::open, where);
        assertEquals(InboxException.Reason.LEDGER_CORRUPT, e.reason(), where + ": " + e.getMessage());
        assertArrayEquals(damaged, Files.readAllBytes(ledger), where + ": the file was changed");
        classes.add(offsetClass(original, offset));
      }
    }
    assertArrayEquals(before, visibleNames(), "a refused open published or removed a file");
    // Every class of byte was walked: the file header, each field of both record kinds, and the last record.
    for (String c : List.of("file magic", "file version", "file reserved", "record PENDING length",
        "record PENDING payload checksum", "record PENDING header checksum", "record PENDING type",
        "record PENDING fingerprint", "record PENDING kind", "record PENDING published length",
        "record PENDING published SHA-256", "record PENDING expiry", "record PENDING receipt",
        "record PENDING name length", "record PENDING name", "record DONE length",
        "record DONE payload checksum", "record DONE header checksum", "record DONE type",
        "record DONE fingerprint", "record DONE (last) length", "record DONE (last) header checksum",
        "record DONE (last) fingerprint")) {
      assertTrue(classes.contains(c), c + " not walked: " + classes);
    }
    // With the ledger put back, every earlier delivery is recognised with its receipt, byte for byte.
    Files.write(ledger, original);
    assertEveryDeliveryRemembered(DELIVERIES);
    assertArrayEquals(before, visibleNames());
  }

  @Test
  void aCutAnywhereKeepsEveryDeliveryRecordedBeforeIt() throws Exception {
    List<Integer> starts = recordStarts(original, DeliveryLedger.RECORD_HEADER_BYTES);
    for (int cut = DeliveryLedger.FILE_HEADER_BYTES; cut <= original.length; cut++) {
      Files.write(ledger, Arrays.copyOf(original, cut));
      int whole = 0;
      while (whole + 1 < starts.size() && starts.get(whole + 1) <= cut) {
        whole++;
      }
      int lastWholeEnd = starts.get(whole);
      try (Inbox inbox = open()) {
        assertEquals(cut - lastWholeEnd, inbox.recovery().tornLedgerBytes(), "cut at " + cut);
        // A PENDING whose file is in place completes: each delivery whose PENDING survived is remembered.
        int remembered = (whole + 1) / 2;
        for (int i = 0; i < DELIVERIES; i++) {
          Receipt r = inbox.receiptFor(fingerprint(i));
          if (i < remembered) {
            assertNotNull(r, "cut at " + cut + ": delivery " + i + " forgotten");
            assertArrayEquals(receipts.get(i), io.crowdbackup.engine.receipt.Receipts.encode(r), "cut at " + cut);
          } else {
            assertNull(r, "cut at " + cut + ": delivery " + i + " was not recorded yet");
          }
        }
      }
    }
  }

  @Test
  void aVersion1LedgerIsReadAndRewrittenAsVersion2() throws Exception {
    byte[] v1 = toVersion1(original);
    Files.write(ledger, v1);
    assertEveryDeliveryRemembered(DELIVERIES);
    byte[] now = Files.readAllBytes(ledger);
    assertEquals(DeliveryLedger.VERSION, now[5], "rewritten as the current version");
    assertArrayEquals(original, now, "the same records, in version 2 framing");
    assertFalse(Files.exists(ledger.resolveSibling(DeliveryLedger.FILE_NAME + ".upgrade")));
  }

  @Test
  void aVersion1LedgerWithADamagedRecordBeforeOthersIsReportedNotCut() throws Exception {
    byte[] v1 = toVersion1(original);
    List<Integer> starts = recordStarts(v1, DeliveryLedger.V1_RECORD_HEADER_BYTES);
    // A payload byte of the first record, and the first record's length made to run past the end: both
    // were once taken for a torn tail and cut every later record.
    byte[] payloadFlip = v1.clone();
    payloadFlip[starts.get(0) + 40] ^= 1;
    byte[] lengthFlip = v1.clone();
    ByteBuffer.wrap(lengthFlip).putInt(starts.get(0), DeliveryLedger.MAX_PAYLOAD_BYTES);
    for (byte[] damaged : List.of(payloadFlip, lengthFlip)) {
      Files.write(ledger, damaged);
      InboxException e = assertThrows(InboxException.class, this::open);
      assertEquals(InboxException.Reason.LEDGER_CORRUPT, e.reason(), e.getMessage());
      assertArrayEquals(damaged, Files.readAllBytes(ledger));
    }
  }

  @Test
  void zerosAfterTheLastRecordAreATornTailButNotMoreThanOneRecordsWorth() throws Exception {
    byte[] zeros = Arrays.copyOf(original, original.length + DeliveryLedger.MAX_TORN_BYTES);
    Files.write(ledger, zeros);
    try (Inbox inbox = open()) {
      assertEquals(DeliveryLedger.MAX_TORN_BYTES, inbox.recovery().tornLedgerBytes());
    }
    assertArrayEquals(original, Files.readAllBytes(ledger));
    byte[] tooMany = Arrays.copyOf(original, original.length + DeliveryLedger.MAX_TORN_BYTES + 1);
    Files.write(ledger, tooMany);
    InboxException e = assertThrows(InboxException.class, this::open);
    assertEquals(InboxException.Reason.LEDGER_CORRUPT, e.reason());
  }

  private void assertEveryDeliveryRemembered(int count) throws IOException {
    try (Inbox inbox = open()) {
      assertEquals(count, inbox.deliveredCount());
      for (int i = 0; i < count; i++) {
        Delivery again = inbox.deliver(envelopes.get(i));
        assertEquals(Delivery.Outcome.DUPLICATE, again.outcome());
        assertArrayEquals(receipts.get(i), again.receiptBytes());
      }
    }
  }

  private Fingerprint fingerprint(int i) throws IOException {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(envelopes.get(i))) {
      return io.crowdbackup.engine.Envelopes.fingerprint(ch);
    }
  }

  private String[] visibleNames() throws IOException {
    try (java.util.stream.Stream<Path> s = Files.list(inboxDir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
    }
  }

  /** The same records in version 1 framing: no header checksum. */
  static byte[] toVersion1(byte[] v2) {
    ByteBuffer out = ByteBuffer.allocate(v2.length);
    out.put(v2, 0, DeliveryLedger.FILE_HEADER_BYTES);
    out.put(5, (byte) 1);
    List<Integer> starts = recordStarts(v2, DeliveryLedger.RECORD_HEADER_BYTES);
    for (int i = 0; i + 1 < starts.size(); i++) {
      int at = starts.get(i);
      out.put(v2, at, 8);
      out.put(v2, at + 12, starts.get(i + 1) - at - 12);
    }
    byte[] v1 = Arrays.copyOf(out.array(), out.position());
    CRC32 check = new CRC32();
    check.update(v1, DeliveryLedger.FILE_HEADER_BYTES + 8, ByteBuffer.wrap(v1).getInt(8));
    assertEquals((int) check.getValue(), ByteBuffer.wrap(v1).getInt(12), "first record's checksum carried over");
    return v1;
  }
}
