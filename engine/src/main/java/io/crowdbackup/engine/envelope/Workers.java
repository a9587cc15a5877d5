package io.crowdbackup.engine.envelope;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The chunk worker threads of a parallel sealer or opener (none at parallelism 1: the caller's thread does
 * the work), and waiting for one chunk's work.
 */
final class Workers implements AutoCloseable {
  final int parallelism;
  /** Null at parallelism 1. */
  final @Nullable ExecutorService pool;

  /** @param role names the threads {@code crowdbackup-<role>-<n>} */
  Workers(String role, int parallelism) {
    if (parallelism < 1 || parallelism > 256) {
      throw new IllegalArgumentException("parallelism must be 1..256, was " + parallelism);
    }
    this.parallelism = parallelism;
    this.pool = parallelism > 1 ? newPool(role, parallelism) : null;
  }

  /** Daemon threads: an unclosed sealer or opener never holds up the JVM's exit. */
  private static ExecutorService newPool(String role, int threads) {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "crowdbackup-" + role + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** Stops the threads; safe twice. */
  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
    }
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
