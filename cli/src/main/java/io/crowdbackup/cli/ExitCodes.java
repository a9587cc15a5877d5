package io.crowdbackup.cli;

/**
 * The process exit codes, documented in {@code docs/cli.md}. Stable: scripts depend on them. A code names
 * what the user should look at, not which class threw.
 */
public final class ExitCodes {
  /** Everything asked for was done. */
  public static final int OK = 0;
  /** A bug in crowdbackup: rerun with {@code --verbose} and report the stack trace. */
  public static final int INTERNAL = 1;
  /** The command line is wrong: unknown option, missing argument, bad value. */
  public static final int USAGE = 2;
  /** A file or folder could not be read or written: missing, exists, permission denied, disk full, I/O. */
  public static final int IO = 3;
  /** An envelope was rejected: malformed, truncated, tampered, not for this key, wrong fingerprint. */
  public static final int ENVELOPE_REJECTED = 4;
  /** A key or card file is malformed or inconsistent. */
  public static final int BAD_KEY = 5;
  /** The inbox or store folder is locked by another process, or its ledger, clock or format is damaged. */
  public static final int STATE = 6;
  /**
   * The holder said no: an offered envelope refused by the store's policy (quota, per-peer share, too
   * large, TTL too long, expired, already held or delivered), or a receipt or release that does not verify.
   */
  public static final int REFUSED = 7;
  /**
   * The demo ran but its end-to-end check failed: a file that still had a live replica was not recovered,
   * or a recovered file differs from its original.
   */
  public static final int DEMO_CHECK_FAILED = 8;

  private ExitCodes() {}
}
