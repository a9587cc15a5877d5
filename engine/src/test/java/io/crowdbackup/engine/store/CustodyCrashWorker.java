package io.crowdbackup.engine.store;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.HolderConfig;
import io.crowdbackup.engine.custody.CustodyUpload;
import io.crowdbackup.engine.custody.Forward;
import io.crowdbackup.engine.custody.Offer;
import io.crowdbackup.engine.policy.ManualTimeSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * The child JVM of {@link CustodyCrashTest}: a holder (a {@link Custodian} on the store) that takes
 * envelopes from peers, stores its own, forwards both kinds and aborts uploads, all slowly enough that a
 * SIGKILL lands mid-transfer, until it is killed. It logs each stored envelope ("HELD fp") once the call
 * returned. Arguments: holder folder, log file, seed.
 */
public final class CustodyCrashWorker {
  /** Envelopes the worker draws from; the parent seals the same ones. */
  static final int ENVELOPES = 40;
  static final long LIMIT_BYTES = 64L << 20;

  static StoreTestSupport.Env envelope(int i) {
    // 4 KiB chunks, 20-200 KB: several checkpoints (every 16 KiB) per upload; expiring after the test's 7 h.
    return StoreTestSupport.envelope(1000 + i, 20_000 + (i % 10) * 20_000, i % 2 == 0,
        StoreTestSupport.NOW_EPOCH_SECOND + 24 * 3600);
  }

  static Custodian open(Path holder, ManualTimeSource time) throws IOException {
    RateLimit unlimited = RateLimit.of(RateLimit.MAX_BYTES_PER_SECOND, 1L << 30);
    // The front-end's way in: the holder folder holds blobs/ (the store) and custody.clock.
    return Custodian.open(HolderConfig.newBuilder(holder).checkpointEveryBytes(16 * 1024).time(time)
        .limitBytes(LIMIT_BYTES).ingress(unlimited, unlimited).egress(unlimited, unlimited).build());
  }

  static Offer offer(StoreTestSupport.Env e, String peer) {
    return Offer.newBuilder().fingerprint(e.fingerprint).declaredLengthBytes(e.bytes.length)
        .envelopeExpiresAtEpochSecond(e.expiresAtEpochSecond).sourcePeer(peer).build();
  }

  /** The envelope's bytes, 4 KiB a read with a pause: a kill lands mid-transfer, not between them. */
  static ReadableByteChannel slow(byte[] bytes) {
    return new ReadableByteChannel() {
      private int at;

      @Override
      public int read(ByteBuffer dst) throws IOException {
        if (at == bytes.length) {
          return -1;
        }
        pause();
        int n = Math.min(Math.min(4096, dst.remaining()), bytes.length - at);
        dst.put(bytes, at, n);
        at += n;
        return n;
      }

      @Override
      public boolean isOpen() {
        return true;
      }

      @Override
      public void close() {}
    };
  }

  static void pause() throws IOException {
    try {
      Thread.sleep(2);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException();
    }
  }

  public static void main(String[] args) throws Exception {
    Path holder = Paths.get(args[0]);
    Path logPath = Paths.get(args[1]);
    SplittableRandom random = new SplittableRandom(Long.parseLong(args[2]));
    StoreTestSupport.Env[] envs = new StoreTestSupport.Env[ENVELOPES];
    for (int i = 0; i < ENVELOPES; i++) {
      envs[i] = envelope(i);
    }
    ManualTimeSource time = new ManualTimeSource(StoreTestSupport.NOW_EPOCH_SECOND * 1000);
    try (FileChannel log = FileChannel.open(logPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND); Custodian c = open(holder, time)) {
      write(log, "READY");
      while (true) {
        StoreTestSupport.Env e = envs[random.nextInt(ENVELOPES)];
        int op = random.nextInt(100);
        try {
          if (op < 35) {
            // Custody from one of two peers (the second is told UPLOAD_IN_PROGRESS while the first's waits).
            BlobStat s = c.receive(offer(e, "peer-" + random.nextInt(2)), slow(e.bytes));
            write(log, "HELD " + s.fingerprint());
          } else if (op < 55) {
            c.putOwn(e.fingerprint, e.bytes.length, slow(e.bytes));
            write(log, "HELD " + e.fingerprint);
          } else if (op < 65) {
            // A transfer that drops: part of it sent, the handle closed, resumable.
            CustodyUpload u = c.accept(offer(e, "peer-" + random.nextInt(2)));
            u.write(ByteBuffer.wrap(e.bytes, 0, random.nextInt(e.bytes.length)));
            u.close();
          } else if (op < 92) {
            BlobStat s = c.stat(e.fingerprint);
            if (s != null && s.state().hasBytes()) {
              try (Forward f = c.beginForward(e.fingerprint, s.locator())) {
                ByteBuffer buf = ByteBuffer.allocate(4096);
                while (f.channel().read(buf) >= 0) {
                  buf.clear();
                  pause();
                }
              }
            }
          } else {
            for (io.crowdbackup.api.store.UploadInfo u : c.allUploads()) {
              c.abortUpload(u.request().fingerprint());
            }
          }
        } catch (RefusalException | io.crowdbackup.engine.custody.CustodyException expected) {
          // ALREADY_HELD, UPLOAD_IN_PROGRESS, ALREADY_FORWARDING ...: a holder's normal answers
        } catch (io.crowdbackup.api.store.StoreException ex) {
          if (ex.reason() != io.crowdbackup.api.store.StoreException.Reason.DUPLICATE) {
            throw ex; // an own put meeting a custody upload (or a stored blob) of the same envelope is fine
          }
        }
      }
    } catch (Throwable t) {
      Files.write(logPath, ("ERROR " + t + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
      t.printStackTrace();
      System.exit(3);
    }
  }

  private static void write(FileChannel log, String line) throws IOException {
    ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) {
      log.write(b);
    }
  }

  static Fingerprint fingerprintOf(String hex) {
    return Fingerprint.fromHex(hex);
  }
}
