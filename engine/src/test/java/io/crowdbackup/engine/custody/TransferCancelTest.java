package io.crowdbackup.engine.custody;

import static io.crowdbackup.engine.custody.CustodyFixture.START_EPOCH_MILLIS;
import static io.crowdbackup.engine.custody.CustodyFixture.envelope;
import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.TransferCancelledException;
import io.crowdbackup.engine.custody.CustodyFixture.Env;
import io.crowdbackup.engine.policy.ManualTimeSource;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Progress and cancellation through one Transfer: nothing is left half-written. */
class TransferCancelTest {
  @TempDir
  Path dir;

  /** A transfer that cancels itself once {@code after} bytes have moved, and counts the reports. */
  private static Transfer cancellingAfter(long after, long[] reports) {
    Transfer[] self = new Transfer[1];
    self[0] = Transfer.create((done, total) -> {
      reports[0]++;
      if (done >= after) {
        self[0].cancel();
      }
    });
    return self[0];
  }

  @Test
  void aCancelledCustodyUploadHoldsNothingAndItsAbortFreesTheReservation() throws Exception {
    Env a = envelope(91, 200_000);
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(new ManualTimeSource(START_EPOCH_MILLIS),
        1 << 20))) {
      long[] reports = new long[1];
      Transfer t = cancellingAfter(50_000, reports);
      CustodyUpload u = c.accept(a.offer("p"));
      assertThrows(TransferCancelledException.class, () -> u.transferFrom(t.reading(a.channel(), a.bytes.length)));
      assertTrue(reports[0] > 0 && t.bytesDone() < a.bytes.length, "progress, then stopped: " + t.bytesDone());
      assertNull(c.stat(a.fingerprint), "nothing held");
      assertEquals(1, c.uploads().size(), "the durable part waits apart, for a resume or an abort");
      u.abort();
      assertEquals(0, c.stats().reservedBytes());
      assertEquals(0, c.uploads().size());
      // The same envelope is taken in full afterwards.
      assertEquals(BlobState.HELD, c.receive(a.offer("p"), a.channel()).state());
    }
  }

  @Test
  void aCancelledForwardReturnsTheBlobToHeld() throws Exception {
    Env a = envelope(92, 200_000);
    try (Custodian c = CustodyFixture.open(dir, CustodyFixture.policy(new ManualTimeSource(START_EPOCH_MILLIS),
        1 << 20))) {
      c.receive(a.offer("p"), a.channel());
      Transfer t = cancellingAfter(10_000, new long[1]);
      try (Forward f = c.beginForward(a.fingerprint, "home-a.example")) {
        var in = t.reading(f.channel(), a.bytes.length);
        ByteBuffer buf = ByteBuffer.allocate(8192);
        assertThrows(TransferCancelledException.class, () -> {
          while (in.read(buf) >= 0) {
            buf.clear();
          }
        });
      }
      assertEquals(BlobState.HELD, c.stat(a.fingerprint).state());
      assertEquals(0, c.stats().forwardingCount());
    }
  }

  @Test
  void aCancelledSealStopsWritingAndReportedProgressUpToThere() throws Exception {
    byte[] plain = new byte[300_000];
    SealRequest request = SealRequest.newBuilder().destination(CustodyFixture.HOME_A.card())
        .releaseKey(CustodyFixture.SOURCE.publicKey()).expiresAtEpochSecond(START_EPOCH_MILLIS / 1000 + 3600)
        .build();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long[] reports = new long[1];
    Transfer t = cancellingAfter(100_000, reports);
    assertThrows(TransferCancelledException.class, () -> Envelopes.sealer().seal(request,
        t.reading(Channels.newChannel(new java.io.ByteArrayInputStream(plain)), plain.length), plain.length,
        Channels.newChannel(out)));
    assertTrue(t.bytesDone() < plain.length && reports[0] > 0);
    assertTrue(out.size() < plain.length, "the sealer stopped: " + out.size() + " bytes written");
  }
}
