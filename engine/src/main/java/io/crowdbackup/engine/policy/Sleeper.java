package io.crowdbackup.engine.policy;

import java.util.concurrent.TimeUnit;

/**
 * How a blocked throttle waits. Injected beside the {@link io.crowdbackup.api.policy.TimeSource} so that
 * tests can make a "sleep" advance a manual clock instead of the thread stalling.
 */
public interface Sleeper {
  /** Waits about {@code nanos} (possibly less, possibly more); throws if the thread is interrupted. */
  void sleepNanos(long nanos) throws InterruptedException;

  /** Sleeps the calling thread. */
  static Sleeper system() {
    return nanos -> {
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      TimeUnit.NANOSECONDS.sleep(nanos);
    };
  }
}
