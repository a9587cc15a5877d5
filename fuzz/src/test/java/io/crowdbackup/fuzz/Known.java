package io.crowdbackup.fuzz;

/**
 * Findings reported to the lead and not yet fixed in the engine. Each is masked — the target skips that
 * one check for inputs it applies to — so that {@code mvn test} stays green and a campaign keeps looking
 * for new bugs instead of rediscovering a known one. {@code -Dfuzz.strict=true} (run.sh {@code --strict})
 * unmasks them all: that is how the inputs under {@code fuzz/findings/} reproduce. When a fix lands,
 * delete its constant here and move its input into the replayed corpus.
 */
final class Known {
  private Known() {}

  static final boolean STRICT = Boolean.getBoolean("fuzz.strict");
  /** {@code -Dfuzz.unmask=F2,F4}: enforce only these, to find inputs for one finding behind another. */
  private static final java.util.Set<String> UNMASKED =
      java.util.Set.of(System.getProperty("fuzz.unmask", "").split(","));

  // F1-F17 (see fuzz/README.md) are fixed in the engine and their inputs are replayed by mvn
  // test. Add a constant here for a new finding until its fix lands.

  /** Whether the check for {@code finding} is skipped for this input. */
  static boolean masked(String finding, boolean applies) {
    return applies && !STRICT && !UNMASKED.contains(finding);
  }
}
