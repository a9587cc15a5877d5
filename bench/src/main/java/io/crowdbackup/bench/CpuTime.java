package io.crowdbackup.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * CPU time spent in the measured calls, as secondary JMH results (events, summed per iteration):
 * {@code calls}, {@code threadCpuNanos} (the benchmark thread) and {@code processCpuNanos} (every thread of
 * the JVM, so worker threads of a parallel sealer count too).
 *
 * <p>Why: the benchmark machine is shared, and wall-clock throughput there measures the neighbours as much
 * as the code. For a single-threaded benchmark, plaintext bytes per second of the thread's own CPU time
 * ({@code bench/summarize.py} derives it from these counters) is what an idle machine would show, minus
 * cache and memory-bandwidth contention. Reading the clocks costs about a microsecond per call, under 0.2%
 * of the shortest measured call (1 MiB).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class CpuTime {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  public long calls;
  public long threadCpuNanos;
  public long processCpuNanos;

  private long threadStart;
  private long processStart;

  @Setup(Level.Iteration)
  public void reset() {
    calls = 0;
    threadCpuNanos = 0;
    processCpuNanos = 0;
  }

  public void start() {
    processStart = OS.getProcessCpuTime();
    threadStart = THREADS.getCurrentThreadCpuTime();
  }

  public void stop() {
    threadCpuNanos += THREADS.getCurrentThreadCpuTime() - threadStart;
    processCpuNanos += OS.getProcessCpuTime() - processStart;
    calls++;
  }
}
