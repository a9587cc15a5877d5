package io.crowdbackup.cli;

/** A command with the {@link GlobalOptions} mixin, so the error handler can honour --verbose and --json. */
interface HasGlobals {
  GlobalOptions globals();
}
