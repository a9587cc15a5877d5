package io.crowdbackup.bench.store;

import io.crowdbackup.api.store.UploadRequest;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * A loop of durable puts, each followed by its delete, for counting what one put asks of the kernel
 * ({@code bench/syscalls-store.sh} runs it under {@code strace -f}): before and after each measured put
 * and after its delete it looks up a marker path ({@code /CROWDBACKUP-MARK-put-start}, {@code -put-end},
 * {@code -delete-end}) that never exists, so the trace can be cut per put. Syscall counts do not depend
 * on the machine's load, unlike the benchmarks' timings.
 *
 * <p>Arguments: {@code impl} ({@code crowdbackup} or {@code file-per-blob-verified}), warm-up puts,
 * measured puts, plaintext bytes. Files under {@code $CROWDBACKUP_BENCH_DIR}.
 */
public final class StorePutSyscalls {
  private StorePutSyscalls() {}

  private static void mark(String what) {
    Files.exists(Paths.get("/CROWDBACKUP-MARK-" + what));
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 4) {
      throw new IllegalArgumentException("usage: StorePutSyscalls crowdbackup|file-per-blob-verified WARMUP PUTS BYTES");
    }
    String impl = args[0];
    int warmup = Integer.parseInt(args[1]);
    int puts = Integer.parseInt(args[2]);
    Path dir = BenchFiles.tempDir("store-syscalls-");
    BenchFiles.Sealed sealed = new BenchFiles().seal(1, Integer.parseInt(args[3]),
        System.currentTimeMillis() / 1000 + 12 * 3600);
    byte[] envelope = sealed.bytes;
    UploadRequest request = UploadRequest.newBuilder().fingerprint(sealed.result.fingerprint())
        .declaredLengthBytes(envelope.length).custodyFrom("bench-peer").build();
    FileCustodyStore store = null;
    BenchFiles.Verifier verifier = new BenchFiles.Verifier(envelope);
    Path blobDir = Files.createDirectories(dir.resolve("blobs"));
    Path file = blobDir.resolve(sealed.result.fingerprint().toHex() + ".blob");
    Path temp = blobDir.resolve(sealed.result.fingerprint().toHex() + ".tmp");
    if (impl.equals("crowdbackup")) {
      store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("store")).build());
    } else if (!impl.equals("file-per-blob-verified")) {
      throw new IllegalArgumentException("unknown impl " + impl);
    }
    try {
      for (int i = 0; i < warmup + puts; i++) {
        boolean measured = i >= warmup;
        if (measured) {
          mark("put-start");
        }
        if (store != null) {
          store.put(request, BenchFiles.input(envelope));
        } else {
          verifier.putFilePerBlob(temp, file);
        }
        if (measured) {
          mark("put-end");
        }
        if (store != null) {
          store.delete(request.fingerprint());
        } else {
          Files.delete(file);
          BenchFiles.fsyncDirectory(blobDir);
        }
        if (measured) {
          mark("delete-end");
        }
      }
    } finally {
      if (store != null) {
        store.close();
      }
      BenchFiles.deleteTree(dir);
    }
  }
}
