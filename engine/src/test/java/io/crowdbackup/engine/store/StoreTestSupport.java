package io.crowdbackup.engine.store;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.envelope.StreamingSealer;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * Shared helpers of the store tests (also used from engine-jvm through the test jar): small sealed
 * envelopes with chosen chunk sizes, locators and expiries, and a clock tests move by hand.
 */
public final class StoreTestSupport {
  /** "Now" in store tests: 2023-11-14. Envelopes expire after it. */
  public static final long NOW_EPOCH_SECOND = 1_700_000_000L;

  private static final DestinationKeyPair DEST_A = TestEnvelopes.destination(1, "home-a.example");
  private static final DestinationKeyPair DEST_B = TestEnvelopes.destination(2, "home-b.example");
  private static final SigningKeyPair SOURCE = TestEnvelopes.source(3);

  private StoreTestSupport() {}

  /** A sealed envelope and its fingerprint. */
  public static final class Env {
    public final byte[] bytes;
    public final Fingerprint fingerprint;
    public final String locator;
    public final long expiresAtEpochSecond;

    Env(byte[] bytes, Fingerprint fingerprint, String locator, long expiresAtEpochSecond) {
      this.bytes = bytes;
      this.fingerprint = fingerprint;
      this.locator = locator;
      this.expiresAtEpochSecond = expiresAtEpochSecond;
    }

    public UploadRequest.Builder request() {
      return UploadRequest.newBuilder().fingerprint(fingerprint).declaredLengthBytes(bytes.length);
    }

    public UploadRequest custody(String peer) {
      return request().custodyFrom(peer).build();
    }
  }

  /** Seals {@code plaintextBytes} pseudo-random bytes in 4 KiB chunks to locator A or B. */
  public static Env envelope(long seed, int plaintextBytes, boolean locatorB, long expiresAtEpochSecond) {
    return envelope(seed, plaintextBytes, 4096, locatorB, expiresAtEpochSecond);
  }

  public static Env envelope(long seed, int plaintextBytes, int chunkSizeBytes, boolean locatorB,
      long expiresAtEpochSecond) {
    DestinationKeyPair dest = locatorB ? DEST_B : DEST_A;
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(seed, 1)) {
      TestEnvelopes.Sealed s = TestEnvelopes.sealWithResult(sealer,
          TestEnvelopes.request(dest, SOURCE).expiresAtEpochSecond(expiresAtEpochSecond)
              .chunkSizeBytes(chunkSizeBytes).compression(Compression.OFF).build(),
          TestEnvelopes.plaintext(seed, plaintextBytes, false));
      return new Env(s.bytes, s.result.fingerprint(), dest.card().locator(), expiresAtEpochSecond);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static Env envelope(long seed, int plaintextBytes) {
    return envelope(seed, plaintextBytes, false, NOW_EPOCH_SECOND + 6 * 3600);
  }

  public static byte[] readAll(ReadableByteChannel ch) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer buf = ByteBuffer.allocate(8192);
    try (ReadableByteChannel c = ch) {
      while (c.read(buf) >= 0) {
        buf.flip();
        out.write(buf.array(), 0, buf.limit());
        buf.clear();
      }
    }
    return out.toByteArray();
  }

  /** A clock tests set by hand. */
  public static final class MutableClock extends Clock {
    private volatile long millis;

    public MutableClock(long epochSecond) {
      this.millis = epochSecond * 1000;
    }

    public void setEpochSecond(long epochSecond) {
      this.millis = epochSecond * 1000;
    }

    public void advanceSeconds(long seconds) {
      this.millis += seconds * 1000;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public long millis() {
      return millis;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }
  }
}
