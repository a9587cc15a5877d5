package io.crowdbackup.engine.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.custody.CrashCopy;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.HolderConfig;
import io.crowdbackup.engine.store.StoreTestSupport;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The offset a holder's PATCH answers with is one the store made durable: a crash right after the answer
 * (a copy of the disk as it is then) resumes at least there, and the client continues from it.
 */
class HolderProtocolDurabilityTest {
  private static final byte[] SECRET = new byte[32];

  @TempDir Path dir;

  private static Custodian custodian(Path d) throws IOException {
    RateLimit unshaped = RateLimit.of(RateLimit.MAX_BYTES_PER_SECOND, 1L << 30);
    return Custodian.open(HolderConfig.newBuilder(d).limitBytes(1L << 30).ingress(unshaped, unshaped)
        .egress(unshaped, unshaped).build());
  }

  @Test
  void everyPatchIsAnsweredWithAnOffsetThatSurvivesACrashAndTheUploadContinuesFromIt() throws IOException {
    long expires = System.currentTimeMillis() / 1000 + 3600;
    StoreTestSupport.Env e = StoreTestSupport.envelope(9, 100_000, 4096, false, expires);
    Path holderDir = dir.resolve("h");
    try (Custodian c = custodian(holderDir); HolderProtocol p = HolderProtocol.newBuilder(c).uploadIdSecret(SECRET)
        .build()) {
      OfferMessage offer = new OfferMessage(e.fingerprint, e.bytes.length, expires, "test", false);
      ProtocolResponse created = p.handle(TestRequests.creation(e.bytes.length, offer.toTusMetadata()));
      assertEquals(201, created.status(), created.toString());
      String url = created.headers().get("Location");
      long offset = 0;
      for (int n : new int[] {30_001, 4_000, 41_234}) { // each ends inside a piece (4 KiB chunks)
        ProtocolResponse r = p.handle(TestRequests.patch(url, e.bytes, offset, n));
        assertEquals(204, r.status(), r.toString());
        long answered = TestRequests.offset(r);
        // Not less either: a stock tus client (tus-java-client) fails on any other offset than its own.
        assertEquals(offset + n, answered, "the answer covers every byte of the PATCH");
        Path crashed = CrashCopy.snapshot(holderDir);
        try (Custodian after = custodian(crashed); HolderProtocol q = HolderProtocol.newBuilder(after)
            .uploadIdSecret(SECRET).build()) {
          long durable = TestRequests.offset(q.handle(TestRequests.head(url)));
          assertTrue(durable >= answered, "after a crash HEAD says " + durable + ", the PATCH answered " + answered);
          ProtocolResponse rest = q.handle(TestRequests.patch(url, e.bytes, answered,
              e.bytes.length - (int) answered));
          assertEquals(204, rest.status(), "the rest from the answered offset: " + rest);
          assertEquals(BlobState.HELD, after.stat(e.fingerprint).state());
        }
        offset = answered;
      }
    }
  }
}
