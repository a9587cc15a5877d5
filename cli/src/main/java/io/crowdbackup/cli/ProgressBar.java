package io.crowdbackup.cli;

import io.crowdbackup.engine.Transfer;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on stderr, redrawn in place at most ten times a second. Disabled bars cost one
 * branch per update, so commands report progress unconditionally.
 */
final class ProgressBar implements Transfer.Listener, AutoCloseable {
  private static final long REDRAW_NANOS = 100_000_000L;
  private static final int WIDTH = 30;

  private final PrintWriter err;
  private final String label;
  private final boolean enabled;
  private final long startNanos = System.nanoTime();
  private long lastDrawNanos;
  private long done;
  private long total;
  private boolean drawn;
  private boolean finished;

  ProgressBar(PrintWriter err, String label, long totalBytes, boolean enabled) {
    this.err = err;
    this.label = label.length() > 24 ? "…" + label.substring(label.length() - 23) : label;
    this.total = totalBytes;
    this.enabled = enabled;
  }

  @Override
  public void onProgress(long bytesDone, long bytesTotal) {
    total = bytesTotal;
    update(bytesDone);
  }

  void update(long bytesDone) {
    done = bytesDone;
    if (!enabled) {
      return;
    }
    long now = System.nanoTime();
    if (now - lastDrawNanos >= REDRAW_NANOS) {
      lastDrawNanos = now;
      draw(now);
    }
  }

  void add(long bytes) {
    update(done + bytes);
  }

  /** A listener for one of several transfers this bar sums: it adds what each report moved. */
  Transfer.Listener adding() {
    long[] last = new long[1];
    return (bytesDone, bytesTotal) -> {
      add(bytesDone - last[0]);
      last[0] = bytesDone;
    };
  }

  private void draw(long now) {
    double fraction = total <= 0 ? 1 : Math.min(1, (double) done / total);
    int filled = (int) (fraction * WIDTH);
    StringBuilder b = new StringBuilder("\r").append(String.format(Locale.ROOT, "%-24s [", label));
    for (int i = 0; i < WIDTH; i++) {
      b.append(i < filled ? '=' : i == filled ? '>' : ' ');
    }
    double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
    b.append(String.format(Locale.ROOT, "] %3d%% %8.1f/%.1f MiB %6.0f MiB/s", (int) (fraction * 100),
        done / 1048576.0, total / 1048576.0, done / 1048576.0 / seconds));
    err.print(b);
    err.flush();
    drawn = true;
  }

  /** Draws the completed bar and ends its line. */
  void finish() {
    if (enabled && !finished) {
      done = Math.max(done, total);
      draw(System.nanoTime());
      err.println();
      err.flush();
    }
    finished = true;
  }

  /** Ends the bar's line if it was drawn and not finished (a failure), so an error starts on a new line. */
  @Override
  public void close() {
    if (drawn && !finished) {
      err.println();
      err.flush();
    }
    finished = true;
  }
}
