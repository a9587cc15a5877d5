package io.crowdbackup.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A secondary JMH result, {@code megabytes}: plaintext bytes processed / 10^6. In throughput mode with
 * seconds as the unit JMH reports it per second, so the line reads directly as MB/s (the GB/s
 * figures are 10^9 bytes too). Reset every iteration, as JMH requires of auxiliary counters.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Megabytes {
  public double megabytes;

  @Setup(Level.Iteration)
  public void reset() {
    megabytes = 0;
  }

  void add(long bytes) {
    megabytes += bytes / 1e6;
  }
}
