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

  // F1-F5 and F7-F9 (see fuzz/README.md) are fixed in the engine and their inputs are replayed by mvn
  // test. Add a constant here for a new finding until its fix lands.

  /**
   * F6 (StoreRecoveryFuzzTest#resumeDamagedUpload): at open and on resume the store takes the upload's
   * record header from the journal ({@code partial/<fp>.pieces}) and never compares it with the data file's
   * ({@code partial/<fp>.part}; reopen only checks that the data header decodes), nor the journal header's
   * fingerprint with the file name. A journal header that decodes but differs — here a source peer one byte
   * shorter, so a header length of 89 against the data file's 90 — makes resume use the journal's length
   * as the data offset: piece 0 no longer verifies, the upload restarts at 0 writing envelope bytes from
   * offset 89 — over the last byte of the data file's 90-byte header (its CRC) — and commit() succeeds
   * (acknowledged). The first read of the committed blob finds "header checksum failed" and quarantines it
   * as CORRUPT: an acknowledged blob is lost. No wrong byte is served. Fix: on resume
   * (and at open) decode the data file's header and require it to equal the journal's (and the journal's
   * fingerprint to match the file name), else start the upload over.
   */
  static final String F6_JOURNAL_HEADER_NOT_MATCHED = "F6";

  /** Whether the check for {@code finding} is skipped for this input. */
  static boolean masked(String finding, boolean applies) {
    return applies && !STRICT && !UNMASKED.contains(finding);
  }
}
