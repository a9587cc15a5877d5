package io.crowdbackup.api.policy;

/** {@link TimeSource#system()}. */
final class SystemTimeSource implements TimeSource {
  static final SystemTimeSource INSTANCE = new SystemTimeSource();

  private SystemTimeSource() {}

  @Override
  public long monotonicNanos() {
    return System.nanoTime();
  }

  @Override
  public long epochMillis() {
    return System.currentTimeMillis();
  }

  @Override
  public String toString() {
    return "TimeSource.system()";
  }
}
