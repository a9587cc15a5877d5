package io.crowdbackup.engine.custody;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.store.ClockFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreRefusalsAndClockFileTest {
  @TempDir
  Path dir;

  private static StoreException ex(StoreException.Reason r) {
    return new StoreException(r, "/x", "test");
  }

  @Test
  void everyStoreReasonHasADecidedMapping() {
    for (StoreException.Reason r : StoreException.Reason.values()) {
      Refusal.Reason mapped = StoreRefusals.reasonFor(ex(r));
      switch (r) {
        case DUPLICATE:
          assertEquals(Refusal.Reason.ALREADY_HELD, mapped);
          break;
        case DELIVERED:
          assertEquals(Refusal.Reason.ALREADY_DELIVERED, mapped);
          break;
        case PAST_EXPIRY:
          assertEquals(Refusal.Reason.EXPIRED, mapped);
          break;
        case DISK_FULL:
          assertEquals(Refusal.Reason.NOT_ACCEPTING, mapped);
          break;
        default:
          assertNull(mapped, r + " is this device's fault, not a refusal");
      }
    }
    // Mid-upload, a full disk keeps the upload resumable: not a refusal.
    assertNull(StoreRefusals.refusalForUploadFailure(ex(StoreException.Reason.DISK_FULL)));
    assertEquals(Refusal.Reason.EXPIRED,
        StoreRefusals.refusalForUploadFailure(ex(StoreException.Reason.PAST_EXPIRY)).reason());
    // Bytes that are not the envelope offered: the envelope's own fingerprint mismatch, else MALFORMED.
    for (EnvelopeException.Reason r : EnvelopeException.Reason.values()) {
      Refusal refusal = StoreRefusals.refusalFor(new EnvelopeException(r, "test"));
      if (r == EnvelopeException.Reason.FINGERPRINT_MISMATCH) {
        assertNull(refusal);
      } else {
        assertEquals(Refusal.Reason.MALFORMED, refusal.reason(), r.name());
        assertTrue(refusal.message().startsWith(r + ": "), "the envelope's reason reaches the peer");
      }
    }
  }

  @Test
  void clockFileRoundTripsAndRefusesCorruption() throws IOException {
    Path f = dir.resolve("custody.clock");
    assertEquals(Long.MIN_VALUE, ClockFile.read(f));
    ClockFile.write(f, 1_790_000_123L);
    assertEquals(1_790_000_123L, ClockFile.read(f));
    ClockFile.write(f, 1_790_000_456L);
    assertEquals(1_790_000_456L, ClockFile.read(f));
    byte[] b = Files.readAllBytes(f);
    b[12] ^= 1;
    Files.write(f, b);
    assertTrue(assertThrows(IOException.class, () -> ClockFile.read(f)).getMessage().contains("checksum failed"));
    Files.write(f, new byte[7]);
    assertTrue(assertThrows(IOException.class, () -> ClockFile.read(f)).getMessage().contains("7 bytes"));
    // A huge file (a damaged disk, another program's file) is refused after 21 bytes, not read whole.
    try (java.io.RandomAccessFile huge = new java.io.RandomAccessFile(f.toFile(), "rw")) {
      huge.setLength(1L << 40);
    }
    assertTrue(assertThrows(IOException.class, () -> ClockFile.read(f)).getMessage().contains("longer than 20 bytes"));
  }
}
