package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreTestSupport.NOW_EPOCH_SECOND;
import static io.crowdbackup.engine.store.StoreTestSupport.envelope;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.store.QuarantinedBlob;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.store.StoreTestSupport.Env;
import io.crowdbackup.engine.store.StoreTestSupport.MutableClock;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every quarantine, at open or on read, own or custody, is reported, counted and listed with its reason. */
class QuarantineReportTest {
  @TempDir
  Path dir;
  private final MutableClock clock = new MutableClock(NOW_EPOCH_SECOND);
  private final List<QuarantinedBlob> reported = new ArrayList<>();

  private FileCustodyStore open() throws IOException {
    return FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store")).clock(clock)
        .listener(new StoreListener() {
          @Override
          public void quarantined(QuarantinedBlob blob) {
            reported.add(blob);
          }
        }).build());
  }

  private List<Path> blobFiles() throws IOException {
    try (Stream<Path> s = Files.walk(dir.resolve("store").resolve(FileCustodyStore.GROUPS_DIR))) {
      return s.filter(p -> p.toString().endsWith(".blob")).sorted().collect(Collectors.toList());
    }
  }

  private static void flip(Path file, long at) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(at);
      int b = raf.read();
      raf.seek(at);
      raf.write(b ^ 0x10);
    }
  }

  @Test
  void quarantinesAtOpenAreReportedCountedAndListedWithTheirReason() throws IOException {
    Env own = envelope(1, 10_000);
    Env truncated = envelope(2, 10_000);
    Env renamed = envelope(3, 10_000);
    try (FileCustodyStore s = open()) {
      s.put(own.request().own().build(), CustodyStoreContractTest.in(own.bytes));
      s.put(truncated.custody("p"), CustodyStoreContractTest.in(truncated.bytes));
      s.put(renamed.custody("p"), CustodyStoreContractTest.in(renamed.bytes));
    }
    Path group = blobFiles().get(0).getParent();
    flip(group.resolve(own.fingerprint.toHex() + ".blob"), 20); // its header
    Path t = group.resolve(truncated.fingerprint.toHex() + ".blob");
    try (RandomAccessFile raf = new RandomAccessFile(t.toFile(), "rw")) {
      raf.setLength(raf.length() - 9);
    }
    Files.move(group.resolve(renamed.fingerprint.toHex() + ".blob"), group.resolve(own.fingerprint.toHex()
        .replace('a', 'b').replace('0', 'a') + ".blob"));
    Files.delete(dir.resolve("store").resolve(FileCustodyStore.CLEAN_FILE)); // a dirty open reads every blob
    try (FileCustodyStore s = open()) {
      assertEquals(3, reported.size(), reported.toString());
      assertEquals(3, s.quarantinedSinceOpen());
      List<QuarantinedBlob> listed = s.quarantined();
      assertEquals(3, listed.size(), listed.toString());
      QuarantinedBlob ownQ = listed.stream().filter(q -> own.fingerprint.equals(q.fingerprint())).findFirst()
          .orElseThrow();
      assertTrue(ownQ.reason().length() > 10, ownQ.reason());
      assertEquals(clock.millis(), ownQ.quarantinedAtEpochMillis());
      QuarantinedBlob tq = listed.stream().filter(q -> truncated.fingerprint.equals(q.fingerprint())).findFirst()
          .orElseThrow();
      assertTrue(tq.reason().contains("truncated") || tq.reason().contains("length"), tq.reason());
      assertTrue(listed.stream().anyMatch(q -> q.reason().contains("file name does not match")), listed.toString());
      assertNull(s.stat(own.fingerprint));
    }
  }

  @Test
  void aQuarantineOnReadIsReportedToo() throws IOException {
    Env e = envelope(4, 30_000);
    try (FileCustodyStore s = open()) {
      s.put(e.request().own().build(), CustodyStoreContractTest.in(e.bytes));
      flip(blobFiles().get(0), 200 + 20_000);
      ReadableByteChannel ch = s.open(e.fingerprint);
      ByteBuffer buf = ByteBuffer.allocate(e.bytes.length);
      assertEquals(StoreException.Reason.CORRUPT, assertThrows(StoreException.class, () -> {
        while (ch.read(buf) >= 0) {
          // drain
        }
      }).reason());
      assertEquals(1, reported.size());
      assertEquals(e.fingerprint, reported.get(0).fingerprint());
      assertEquals(1, s.quarantinedSinceOpen());
      assertEquals(e.fingerprint, s.quarantined().get(0).fingerprint());
    }
  }
}
