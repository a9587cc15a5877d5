package io.crowdbackup.enginejvm.store;

import io.crowdbackup.engine.store.CrashTestBase;

/**
 * The SIGKILL crash test with the Chronicle Map index: a killed child leaves the map file with its locks
 * held and possibly torn; the store must discard it and rebuild. Fewer cycles by default than the portable
 * run because each child pays Chronicle Map's start-up; {@code -Dcrowdbackup.crash.cycles=N} for more.
 */
class ChronicleCrashTest extends CrashTestBase {
  @Override
  protected String index() {
    return "chronicle";
  }

  @Override
  protected int defaultCycles() {
    return 12;
  }
}
