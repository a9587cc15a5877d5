package io.crowdbackup.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command with the {@link GlobalOptions} mixin and its spec, so the error handler can honour --verbose and
 * --json: the one place every command gets them (picocli reads the annotated fields of a superclass too).
 */
abstract class HasGlobals {
  @Mixin GlobalOptions globals;
  @Spec CommandSpec spec;

  final GlobalOptions globals() {
    return globals;
  }

  /**
   * A failure on one input of several: when its exit code is one of {@code goOnCodes} it is reported and its
   * code returned, and the command goes on with the next input; any other failure stops the command.
   */
  final int reportAndGoOn(CliException e, int... goOnCodes) throws CliException {
    for (int code : goOnCodes) {
      if (e.exitCode() == code) {
        Main.report(spec.commandLine().getErr(), globals, e);
        return code;
      }
    }
    throw e;
  }
}
