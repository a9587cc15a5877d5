package io.crowdbackup.cli;

import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.inbox.SafeFiles;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "seal", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Seal files into envelopes that only one destination can open.",
        "Each FILE becomes one envelope for the destination on CARD, written to DIR as <fingerprint>.cbe,",
        "and its fingerprint is printed. Holders see the public header and the fingerprint, nothing of",
        "the content or its name. ('store seal' seals straight into a holder folder as its own envelopes.)"})
final class SealCommand extends HasGlobals implements Callable<Integer> {
  @Mixin SealOptions options;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the envelopes (created if absent).")
  Path out;

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "Files to seal.")
  List<Path> files;

  @Override
  public Integer call() throws Exception {
    options.validate(files.size());
    SealRequest.Builder base = options.base();
    Failures.requireInputs(files);
    try {
      OutputFiles.createFolder(out);
    } catch (IOException e) {
      throw Failures.io(out, e);
    }
    TempFiles.removeStale(out, spec.commandLine().getErr(), globals);
    try (EnvelopeSealer single = Envelopes.sealer(); EnvelopeSealer parallel = options.parallelSealer()) {
      for (Path file : files) {
        sealOne(file, base, single, parallel);
      }
    }
    try {
      SafeFiles.fsyncDirectory(out);
    } catch (IOException e) {
      throw Failures.io(out, e);
    }
    return ExitCodes.OK;
  }

  private void sealOne(Path file, SealRequest.Builder base, EnvelopeSealer single, EnvelopeSealer parallel)
      throws CliException {
    long size = SealOptions.sizeOf(file);
    SealRequest request = options.requestFor(base, file);
    EnvelopeSealer sealer = SealOptions.sealerFor(size, single, parallel);
    try (ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), file.getFileName().toString(), size,
        globals.progressEnabled());
        TempFiles.Output temp = TempFiles.create(out)) {
      SealResult result = sealer.seal(request, file, counting(temp, bar));
      temp.force();
      Path envelope = out.resolve(result.fingerprint().toHex() + ".cbe");
      // Not published when the name is taken: the same fingerprint is the same bytes, already there.
      temp.publishNoReplace(envelope);
      bar.finish();
      print(file, envelope, result);
    } catch (IOException | RuntimeException e) {
      throw SealOptions.failure(file, e);
    }
  }

  private void print(Path file, Path envelope, SealResult result) {
    if (globals.json) {
      spec.commandLine().getOut().println(Json.obj().put("file", file.toString()).put("envelope", envelope.toString())
          .put("fingerprint", result.fingerprint().toHex()).put("envelopeBytes", result.envelopeLengthBytes())
          .put("locator", result.header().locator()).put("expiresAtEpochSecond", result.header().expiresAtEpochSecond()));
    } else {
      spec.commandLine().getOut().println(result.fingerprint().toHex() + "  " + envelope + "  " + file);
    }
  }

  private static WritableByteChannel counting(WritableByteChannel ch, ProgressBar bar) {
    return Transfer.create(bar.adding()).writing(ch, -1);
  }

}
