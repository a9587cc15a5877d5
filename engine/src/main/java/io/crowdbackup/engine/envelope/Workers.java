package io.crowdbackup.engine.envelope;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/** The chunk worker threads of a parallel sealer or opener, and waiting for one chunk's work. */
final class Workers {
  private Workers() {}

  /** Checks a parallelism argument: 1 (the caller's thread only) to 256. */
  static int checkParallelism(int parallelism) {
    if (parallelism < 1 || parallelism > 256) {
      throw new IllegalArgumentException("parallelism must be 1..256, was " + parallelism);
    }
    return parallelism;
  }

  /** A fixed pool of daemon threads named {@code crowdbackup-<role>-<n>}: an unclosed one never holds up exit. */
  static ExecutorService newPool(String role, int threads) {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "crowdbackup-" + role + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** Waits for one chunk's task; a task fails only on a bug (input faults are results, not exceptions). */
  static void await(Future<?> task, String what) throws IOException {
    try {
      task.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while " + what);
    } catch (ExecutionException e) {
      throw new IllegalStateException(what + ": a chunk task failed", e.getCause());
    }
  }
}
