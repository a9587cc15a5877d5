package io.crowdbackup.engine.store;

import static io.crowdbackup.engine.store.StoreTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.api.store.StoreException.Reason;
import io.crowdbackup.api.store.StoreUsage;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.envelope.EnvelopeScanner;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileCustodyStore#beginOwnSeal}: an own upload whose fingerprint comes last. The committed file is
 * named for the fingerprint of the envelope bytes in it; disk faults (through the {@link FileOpener} seam)
 * and a crash before the commit leave nothing visible and, after the next open, nothing at all.
 */
class SealingUploadTest {
  private static final SealRequest REQUEST = TestEnvelopes.request(TestEnvelopes.destination(1, "home-a.example"),
      TestEnvelopes.source(3)).chunkSizeBytes(4096).build();

  @TempDir
  Path dir;
  FaultyFileOpener faults;
  FileCustodyStore store;

  @BeforeEach
  void open() throws IOException {
    faults = new FaultyFileOpener();
    store = FileCustodyStore.open(config());
  }

  @AfterEach
  void close() throws IOException {
    store.close();
  }

  private StoreConfig config() {
    return StoreConfig.newBuilder(dir.resolve("store")).clock(new MutableClock(NOW_EPOCH_SECOND)).fileOpener(faults)
        .build();
  }

  private static boolean isSeal(Path p) {
    return p.getFileName().toString().startsWith(SealingUpload.FILE_PREFIX);
  }

  /** Every file under the store's folder {@code sub}. */
  private List<Path> files(String sub) throws IOException {
    try (Stream<Path> s = Files.walk(dir.resolve("store").resolve(sub))) {
      return s.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
    }
  }

  /** What Custodian.sealOwn does: seal into the upload, commit under the sealer's fingerprint, else abort. */
  private BlobStat seal(byte[] plain) throws IOException {
    SealingUpload upload = store.beginOwnSeal();
    boolean done = false;
    try (EnvelopeSealer sealer = Envelopes.sealer()) {
      SealResult r = sealer.seal(REQUEST, Channels.newChannel(new ByteArrayInputStream(plain)), plain.length, upload);
      BlobStat s = upload.commit(r.fingerprint());
      done = true;
      return s;
    } finally {
      if (!done) {
        upload.abort();
      }
    }
  }

  private static StoreException storeFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof StoreException) {
        return (StoreException) c;
      }
    }
    throw new AssertionError("no StoreException in " + t, t);
  }

  @Test
  void theCommittedFileIsNamedForTheFingerprintOfTheEnvelopeBytesInIt() throws IOException {
    byte[] plain = TestEnvelopes.plaintext(7, 90_000, false);
    BlobStat s = seal(plain);
    List<Path> blobs = files(FileCustodyStore.GROUPS_DIR).stream()
        .filter(p -> p.toString().endsWith(FileCustodyStore.BLOB_SUFFIX)).collect(Collectors.toList());
    assertEquals(1, blobs.size());
    Path blob = blobs.get(0);
    assertEquals(s.fingerprint().toHex() + FileCustodyStore.BLOB_SUFFIX, blob.getFileName().toString());
    try (FileChannel ch = FileChannel.open(blob)) {
      BlobFile bf = BlobFile.read(ch); // record header, footer CRC, piece digests hash to the header's fingerprint
      assertEquals(s.fingerprint(), bf.header.fingerprint);
      ByteBuffer envelope = ByteBuffer.allocate((int) bf.header.declaredLengthBytes);
      StoreIo.readFully(ch, envelope, bf.dataStart());
      Fingerprint ofBytes = EnvelopeScanner.scan(Channels.newChannel(new ByteArrayInputStream(envelope.array())));
      assertEquals(s.fingerprint(), ofBytes, "SHA-256-based fingerprint of the bytes on disk");
    } catch (StoreFormat.FormatProblem e) {
      fail(e);
    }
    store.verify(s.fingerprint());
    assertEquals(List.of(), files(FileCustodyStore.PARTIAL_DIR));
  }

  @Test
  void diskFullMidwayThroughASealIsTypedAndLeavesNothing() throws IOException {
    faults.writeFaultOn = SealingUploadTest::isSeal;
    faults.writeBudgetBytes = 30_000;
    IOException e = assertThrows(IOException.class, () -> seal(TestEnvelopes.plaintext(8, 100_000, false)));
    assertEquals(Reason.DISK_FULL, storeFailure(e).reason(), e.getMessage());
    assertEquals(List.of(), files(FileCustodyStore.PARTIAL_DIR));
    assertEquals(List.of(), store.list());
    assertEquals(new StoreUsage(0, 0, 0, 0, 0, 0), store.usage());
    faults.reset();
    store.verify(seal(TestEnvelopes.plaintext(8, 100_000, false)).fingerprint()); // usable afterwards
  }

  @Test
  void aFailedFsyncAtTheCommitLeavesNothingVisible() throws IOException {
    aFailedFsyncLeavesNothingVisible(50_000);
  }

  @Test
  void aFailedFsyncBehindTheWriterLeavesNothingVisible() throws IOException {
    aFailedFsyncLeavesNothingVisible(10_000_000); // past the 4 MiB flush behind
  }

  private void aFailedFsyncLeavesNothingVisible(int plaintextBytes) throws IOException {
    faults.forceFaultOn = SealingUploadTest::isSeal;
    IOException e = assertThrows(IOException.class, () -> seal(TestEnvelopes.plaintext(9, plaintextBytes, false)));
    assertTrue(faults.faultsInjected > 0);
    assertEquals(Reason.IO_ERROR, storeFailure(e).reason(), e.getMessage());
    assertEquals(plaintextBytes > 4 << 20, storeFailure(e).getMessage().contains("flushing sealed bytes"),
        e.getMessage());
    assertEquals(List.of(), files(FileCustodyStore.PARTIAL_DIR));
    assertEquals(List.of(), files(FileCustodyStore.GROUPS_DIR).stream()
        .filter(p -> p.toString().endsWith(FileCustodyStore.BLOB_SUFFIX)).collect(Collectors.toList()));
    assertEquals(List.of(), store.list());
    assertEquals(new StoreUsage(0, 0, 0, 0, 0, 0), store.usage());
  }

  @Test
  void aSealInterruptedByACrashIsNeverVisibleAndItsLeftoversGoAtTheNextOpen() throws IOException {
    byte[] plain = TestEnvelopes.plaintext(10, 60_000, false);
    byte[] envelope = TestEnvelopes.seal(TestEnvelopes.deterministicSealer(10, 1), REQUEST, plain);
    SealingUpload upload = store.beginOwnSeal();
    upload.write(ByteBuffer.wrap(envelope, 0, envelope.length / 2));
    Files.write(store.spoolDirectory().resolve(".crowdbackup-spool-1.tmp"), new byte[1000]); // a killed spool
    assertEquals(1, store.usage().uploadCount());
    assertEquals(envelope.length, store.usage().ownReservedBytes(), "its header declared the length");
    assertEquals(List.of(), store.uploads(), "no fingerprint to list");
    assertEquals(List.of(), store.list());
    // The crash: the upload is never ended, and the store is not closed cleanly.
    store.close();
    Files.delete(dir.resolve("store").resolve(FileCustodyStore.CLEAN_FILE));
    assertEquals(1, files(FileCustodyStore.PARTIAL_DIR).size());
    store = FileCustodyStore.open(config());
    assertEquals(List.of(), files(FileCustodyStore.PARTIAL_DIR), "the partial seal is removed at open");
    assertEquals(List.of(), files(FileCustodyStore.SPOOL_DIR), "and so is the spool");
    assertEquals(List.of(), store.list());
    assertEquals(new StoreUsage(0, 0, 0, 0, 0, 0), store.usage());
  }

  @Test
  void bytesThatAreNotTheSealersEnvelopeAreRefusedAndLeaveNothing() throws IOException {
    byte[] envelope = TestEnvelopes.seal(TestEnvelopes.deterministicSealer(11, 1), REQUEST,
        TestEnvelopes.plaintext(11, 30_000, false));
    Fingerprint real = EnvelopeScanner.scan(Channels.newChannel(new ByteArrayInputStream(envelope)));
    SealingUpload wrongName = store.beginOwnSeal();
    wrongName.write(ByteBuffer.wrap(envelope));
    Fingerprint other = Fingerprint.fromHex("00".repeat(32));
    EnvelopeException e = assertThrows(EnvelopeException.class, () -> wrongName.commit(other));
    assertEquals(EnvelopeException.Reason.FINGERPRINT_MISMATCH, e.reason());
    assertTrue(e.getMessage().contains(real.toHex()), e.getMessage());
    SealingUpload cut = store.beginOwnSeal();
    cut.write(ByteBuffer.wrap(envelope, 0, envelope.length - 10));
    assertEquals(EnvelopeException.Reason.TRUNCATED,
        assertThrows(EnvelopeException.class, () -> cut.commit(real)).reason());
    assertEquals(List.of(), files(FileCustodyStore.PARTIAL_DIR));
    assertEquals(new StoreUsage(0, 0, 0, 0, 0, 0), store.usage());
  }
}
