package io.crowdbackup.cli;

import picocli.CommandLine.Option;

/** Options every command takes. */
public final class GlobalOptions {
  @Option(names = {"-v", "--verbose"}, description = "On failure, print the stack trace too.")
  boolean verbose;

  @Option(names = "--json", description = "Print results (stdout) and errors (stderr) as one JSON object per line.")
  boolean json;

  @Option(names = "--progress", negatable = true,
      description = "Show a progress bar on stderr (default: only when attached to a terminal, never with --json).")
  Boolean progress;

  /** Whether to draw progress bars. */
  boolean progressEnabled() {
    if (progress != null) {
      return progress;
    }
    return !json && System.console() != null;
  }
}
