package io.crowdbackup.engine.store;

import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import io.crowdbackup.engine.policy.ManualTimeSource;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * The child JVM of {@link SealOwnCrashTest}: a phone sealing photos straight into its own store, known
 * length and unknown length (spooled) in turn, slowly enough that a SIGKILL lands mid-seal, until it is
 * killed. Logs "SEALING" before each seal and "HELD fp" once the call returned. Arguments: holder folder,
 * log file, seed.
 */
public final class SealOwnCrashWorker {
  static final SealRequest REQUEST = TestEnvelopes.request(TestEnvelopes.destination(1, "home-a.example"),
      TestEnvelopes.source(3)).chunkSizeBytes(4096).expiresAtEpochSecond(StoreTestSupport.NOW_EPOCH_SECOND + 86_400)
      .build();

  public static void main(String[] args) throws Exception {
    Path holder = Paths.get(args[0]);
    Path logPath = Paths.get(args[1]);
    SplittableRandom random = new SplittableRandom(Long.parseLong(args[2]));
    ManualTimeSource time = new ManualTimeSource(StoreTestSupport.NOW_EPOCH_SECOND * 1000);
    try (FileChannel log = FileChannel.open(logPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND); Custodian c = CustodyCrashWorker.open(holder, time);
        EnvelopeSealer sealer = Envelopes.sealer()) {
      write(log, "READY");
      while (true) {
        byte[] plain = TestEnvelopes.plaintext(random.nextLong(), random.nextInt(100_000, 400_000), false);
        write(log, "SEALING");
        BlobStat s = random.nextBoolean()
            ? c.sealOwn(sealer, REQUEST, CustodyCrashWorker.slow(plain), plain.length, Transfer.create())
            : c.sealOwnStream(sealer, REQUEST, CustodyCrashWorker.slow(plain), Transfer.create());
        write(log, "HELD " + s.fingerprint());
      }
    } catch (Throwable t) {
      Files.write(logPath, ("ERROR " + t + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
      t.printStackTrace();
      System.exit(3);
    }
  }

  private static void write(FileChannel log, String line) throws java.io.IOException {
    ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) {
      log.write(b);
    }
  }

  private SealOwnCrashWorker() {}
}
