package io.crowdbackup.cli;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.server.Forwarder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "forward", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Back home: deliver every envelope held in DIR to its own destination.",
        "Each goes to the locator in its own header, and only there. Each destination is first asked in one batch what it already has (those copies are dropped",
        "on a verified receipt, nothing sent); the rest are uploaded and dropped on a receipt that verifies",
        "against the envelope's header. A forged receipt keeps the copy. Exit code 3 if any stayed."})
final class ForwardCommand extends HasGlobals implements Callable<Integer> {
  @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The holder folder.")
  Path dir;

  @Override
  public Integer call() throws Exception {
    Forwarder.Report r;
    try (Holder h = ServeCommand.openHolder(dir)) {
      r = Forwarder.newBuilder(h.custodian).build().forwardAll();
    } catch (IOException e) {
      throw Failures.of(dir, e);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (globals.json) {
      out.println(Json.obj().put("delivered", r.delivered()).put("alreadyDelivered", r.droppedAlreadyDelivered())
          .put("forgedReceipts", r.forgedReceipts()).put("failed", r.failures().size()).put("bytesSent", r.bytesSent())
          .put("uploadsResumed", r.uploadsResumed()).put("skippedLocators", r.skippedLocators()));
    } else {
      out.println(r);
      for (Map.Entry<Fingerprint, String> e : r.failures().entrySet()) {
        out.println("  kept " + e.getKey().toHex() + ": " + e.getValue());
      }
    }
    return r.failures().isEmpty() ? ExitCodes.OK : ExitCodes.IO;
  }
}
