package io.crowdbackup.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code crowdbackup} command. Each subcommand is a class in this package listed in {@link #COMMANDS}.
 * Failures reach the user as one line on stderr and an exit code from {@link ExitCodes} (see
 * {@code docs/cli.md}); {@code --verbose} adds the stack trace.
 */
@Command(name = "crowdbackup", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = {
        "Seal files into encrypted, fingerprinted envelopes that nearby phones can hold",
        "for you, hold other people's, and deliver them into a destination's inbox.",
        "See it all at work: crowdbackup demo"},
    footer = {"", "Exit codes: 0 ok, 1 internal error, 2 usage, 3 file I/O, 4 envelope rejected,",
        "5 bad key file, 6 inbox or store locked or damaged, 7 refused by the holder,",
        "8 demo check failed. See docs/cli.md."})
public final class Main implements Runnable {
  /** The subcommands, in the order --help lists them. */
  static final List<Class<?>> COMMANDS = List.of(
      KeygenCommand.class,
      SealCommand.class,
      InspectCommand.class,
      OpenCommand.class,
      ReceiveCommand.class,
      StoreCommand.class,
      ServeCommand.class,
      SendCommand.class,
      ForwardCommand.class,
      DemoCommand.class);

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "a command is required: "
        + String.join(", ", spec.subcommands().keySet()));
  }

  public static void main(String[] args) {
    // Chronicle Map reads this at class load; a manifest cannot set it.
    if (System.getProperty("chronicle.analytics.disable") == null) {
      System.setProperty("chronicle.analytics.disable", "true");
    }
    PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
    PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
    int code = run(out, err, args);
    out.flush();
    err.flush();
    System.exit(code);
  }

  /** Runs one command line with the given streams; returns the exit code. Used by tests too. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    return commandLine(out, err).execute(args);
  }

  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new Main());
    for (Class<?> c : COMMANDS) {
      cl.addSubcommand(c);
    }
    cl.addSubcommand(new CommandLine.HelpCommand());
    cl.setOut(out);
    cl.setErr(err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setParameterExceptionHandler(Main::usageError);
    cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
      CliException e = Failures.of(null, ex);
      report(cmd.getErr(), globalsOf(cmd), e);
      return e.exitCode();
    });
    return cl;
  }

  private static int usageError(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    String name = cmd.getCommandSpec().qualifiedName();
    String message = ex.getMessage() + " (see '" + name + " --help')";
    CliException e = new CliException(ExitCodes.USAGE, "USAGE", null, message, ex);
    GlobalOptions g = globalsOf(cmd);
    boolean json = g != null && g.json || java.util.Arrays.asList(args).contains("--json");
    GlobalOptions shown = new GlobalOptions();
    shown.json = json;
    report(cmd.getErr(), shown, e);
    return ExitCodes.USAGE;
  }

  private static GlobalOptions globalsOf(CommandLine cmd) {
    Object o = cmd.getCommand();
    return o instanceof HasGlobals ? ((HasGlobals) o).globals() : null;
  }

  /** Prints a failure: one line, or a JSON object with --json; the stack trace too with --verbose. */
  static void report(PrintWriter err, GlobalOptions g, CliException e) {
    if (g != null && g.json) {
      Json.Obj o = Json.obj().put("error", e.getMessage()).put("code", e.exitCode()).put("reason", e.reason())
          .put("file", e.file());
      e.details().forEach(o::put);
      err.println(o);
    } else {
      err.println("crowdbackup: " + e.getMessage());
    }
    if (g != null && g.verbose && e.getCause() != null) {
      e.getCause().printStackTrace(err);
    }
    err.flush();
  }

  /** The version from the jar manifest (or "development" when run from classes). */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"crowdbackup " + (v == null ? "development" : v)
          + " (envelope format v" + io.crowdbackup.engine.envelope.EnvelopeFormat.VERSION + "; Java "
          + System.getProperty("java.version") + ")"};
    }
  }
}
