package io.crowdbackup.cli;

import io.crowdbackup.server.SourceClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "send", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Hand envelopes to holders over HTTP.",
        "Each is offered to several holders at once until",
        "REPLICAS of them hold it durably; a refusal moves on to the next holder at once, a dropped",
        "upload resumes from the holder's durable offset. Prints who holds what. Exit code 7 if an",
        "envelope ended on fewer than REPLICAS holders."})
final class SendCommand extends HasGlobals implements Callable<Integer> {
  @Option(names = "--holder", required = true, paramLabel = "URL",
      description = "A holder's base URL (repeat; tried in this order).")
  List<URI> holders;

  @Option(names = "--replicas", defaultValue = "2", paramLabel = "R",
      description = "How many holders must hold each envelope (default ${DEFAULT-VALUE}).")
  int replicas;

  @Option(names = "--peer", paramLabel = "LABEL", description = "A label for this device in offers (display only).")
  String peer;

  @Option(names = "--no-counter-offers", description = "Refuse a holder's shorter expiry instead of taking it.")
  boolean noCounterOffers;

  @Parameters(paramLabel = "ENVELOPE", arity = "1..*", description = "Envelope files.")
  List<Path> envelopes;

  @Override
  public Integer call() throws Exception {
    if (replicas < 1) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, "send: --replicas must be at least 1, was " + replicas,
          null);
    }
    SourceClient.Builder b = SourceClient.newBuilder().replicas(replicas).peerLabel(peer)
        .takeCounterOffers(!noCounterOffers);
    try {
      for (URI h : holders) {
        b.holder(h);
      }
    } catch (IllegalStateException e) {
      // The same --holder twice would count one holder as two replicas.
      throw new CliException(ExitCodes.USAGE, "USAGE", null, "send: " + e.getMessage(), e);
    }
    List<SourceClient.Placement> placed;
    try {
      placed = b.build().send(envelopes);
    } catch (IOException e) {
      throw Failures.of(null, e);
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, "send: " + e.getMessage(), e);
    }
    PrintWriter out = spec.commandLine().getOut();
    int code = ExitCodes.OK;
    for (SourceClient.Placement p : placed) {
      if (p.heldBy().size() < replicas) {
        code = ExitCodes.REFUSED;
      }
      if (globals.json) {
        Json.Obj refused = Json.obj();
        for (Map.Entry<URI, String> e : p.refusedBy().entrySet()) {
          refused.put(e.getKey().toString(), e.getValue());
        }
        out.println(Json.obj().put("envelope", p.envelope().toString()).put("fingerprint", p.fingerprint().toHex())
            .put("heldBy", p.heldBy().stream().map(URI::toString).collect(java.util.stream.Collectors.toList()))
            .put("replicas", p.heldBy().size()).put("refusedBy", refused));
      } else {
        out.println(p.fingerprint().toHex() + "  " + p.envelope() + "  held by " + p.heldBy().size() + "/" + replicas
            + (p.heldBy().isEmpty() ? "" : ": " + p.heldBy()));
        for (Map.Entry<URI, String> e : p.refusedBy().entrySet()) {
          out.println("  refused by " + e.getKey() + ": " + e.getValue());
        }
      }
    }
    return code;
  }
}
