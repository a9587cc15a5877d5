package io.crowdbackup.engine.store;

/** The SIGKILL crash test with the portable index; see {@link CrashTestBase} for the 1,000-cycle command. */
class CrashTest extends CrashTestBase {
  @Override
  protected String index() {
    return "memory";
  }

  @Override
  protected int defaultCycles() {
    return 50;
  }
}
