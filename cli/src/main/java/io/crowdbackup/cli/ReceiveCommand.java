package io.crowdbackup.cli;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.inbox.Delivery;
import io.crowdbackup.engine.inbox.Inbox;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "receive", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Deliver envelopes into an inbox folder and print the signed receipts.",
        "The inbox keeps the first copy of each envelope: a re-delivered one writes nothing and gets the",
        "same receipt.",
        "Files appear whole or not at all, under the sender's name made safe, never replacing a file.",
        "With --relay, DIR is a relay's outbox: each envelope's outer layer is removed and the inner",
        "envelope is queued there, unchanged, as <fingerprint>.cbe for forwarding."})
final class ReceiveCommand extends HasGlobals implements Callable<Integer> {
  @Option(names = "--key", required = true, paramLabel = "KEYFILE",
      description = "The destination key file (the relay's own, with --relay).")
  Path key;

  @Option(names = "--inbox", required = true, paramLabel = "DIR",
      description = "The inbox folder (created if absent; its state lives in DIR/.crowdbackup-inbox).")
  Path inbox;

  @Option(names = "--relay", description = "Act as a relay: unwrap and queue for forwarding.")
  boolean relay;

  @Option(names = "--receipts", paramLabel = "DIR",
      description = "Also write each receipt as DIR/<fingerprint>.receipt (143 bytes) for handing back to holders.")
  Path receipts;

  @Parameters(paramLabel = "ENVELOPE", arity = "1..*", description = "Envelope files.")
  List<Path> envelopes;

  @Override
  public Integer call() throws Exception {
    DestinationKeyPair keys = KeyFiles.destination(key);
    try {
      return deliverAll(keys);
    } finally {
      keys.destroy();
    }
  }

  private int deliverAll(DestinationKeyPair keys) throws CliException {
    Failures.requireInputs(envelopes);
    if (receipts != null) {
      try {
        OutputFiles.createFolder(receipts);
      } catch (IOException e) {
        throw Failures.io(receipts, e);
      }
    }
    int code = ExitCodes.OK;
    try (Inbox box = Inbox.newBuilder().directory(inbox).keys(keys)
        .mode(relay ? Inbox.Mode.RELAY : Inbox.Mode.DESTINATION).open()) {
      // While this process holds the inbox's lock, every temporary file in it is ours: an interrupt
      // deletes them (unverified plaintext), as the next open would.
      TempFiles.own(box.directory());
      if (!box.recovery().clean() && !globals.json) {
        spec.commandLine().getErr().println("crowdbackup: inbox recovered from an interrupted run: "
            + box.recovery());
      }
      for (Path envelope : envelopes) {
        try (ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), envelope.getFileName().toString(),
            0, globals.progressEnabled())) {
          Delivery d = box.deliver(envelope, Transfer.create(bar));
          bar.finish();
          Path receiptFile = receipts == null ? null : writeReceipt(d);
          print(envelope, d, receiptFile);
        } catch (IOException | RuntimeException e) {
          code = reportAndGoOn(Failures.of(envelope, e), ExitCodes.ENVELOPE_REJECTED);
        }
      }
    } catch (IOException e) {
      throw Failures.of(inbox, e);
    } finally {
      TempFiles.release(inbox);
    }
    return code;
  }

  private Path writeReceipt(Delivery d) throws CliException {
    Path file = receipts.resolve(d.fingerprint().toHex() + ".receipt");
    try {
      if (Files.exists(file) && Files.size(file) == d.receiptBytes().length
          && java.util.Arrays.equals(Files.readAllBytes(file), d.receiptBytes())) {
        return file; // a duplicate's receipt is the same bytes
      }
      Files.deleteIfExists(file);
      OutputFiles.writeNew(file, d.receiptBytes(), false);
    } catch (IOException e) {
      throw Failures.io(file, e);
    }
    return file;
  }

  private void print(Path envelope, Delivery d, Path receiptFile) {
    PrintWriter out = spec.commandLine().getOut();
    String receiptHex = HexFormat.of().formatHex(d.receiptBytes());
    if (globals.json) {
      Json.Obj o = Json.obj().put("envelope", envelope.toString()).put("outcome", d.outcome().name())
          .put("fingerprint", d.fingerprint().toHex()).put("file", d.file().toString())
          .put("receipt", receiptHex).put("receiptFile", receiptFile == null ? null : receiptFile.toString());
      if (d.metadata() != null) {
        o.put("name", d.metadata().name()).put("bytes", d.metadata().plaintextLengthBytes());
      }
      if (d.innerFingerprint() != null) {
        o.put("innerFingerprint", d.innerFingerprint().toHex()).put("nextHop", d.nextHopLocator());
      }
      out.println(o);
      return;
    }
    String what;
    switch (d.outcome()) {
      case DELIVERED:
        what = "delivered  " + d.file()
            + (d.file().getFileName().toString().equals(d.metadata().name()) ? ""
                : "  (sent as " + OpenCommand.quoted(d.metadata().name()) + ")");
        break;
      case RELAYED:
        what = "relayed    " + d.file() + "  to " + d.nextHopLocator();
        break;
      default:
        what = "duplicate  " + d.file() + "  (delivered before; same receipt)";
        break;
    }
    out.println(d.fingerprint().toHex() + "  " + what);
    out.println("  receipt " + (receiptFile != null ? receiptFile : receiptHex));
  }
}
