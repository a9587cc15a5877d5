package io.crowdbackup.cli;

import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code store seal}: what a phone does with a new photo. Each file is sealed straight into the holder's
 * store as one of its own envelopes ({@code Custodian.sealOwn}): written once, into the file that becomes
 * the blob, and filed under the fingerprint computed on the way; no envelope file anywhere else.
 */
@Command(name = "seal", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Seal files straight into the store as this device's own envelopes.",
        "Each FILE is sealed for the destination on CARD (the options of 'seal') and",
        "written once, into the store, under the fingerprint computed on the way; no",
        "envelope file is made elsewhere. Like 'put --own': not counted against the",
        "quota. A seal that fails or is interrupted leaves nothing in the store."})
final class StoreSeal extends StoreCommand.Sub {
  @Mixin SealOptions options;

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "Files to seal.")
  List<Path> files;

  @Override
  boolean createsStore() {
    return true;
  }

  /** Bad options and missing files fail before the store is opened: they must not create one. */
  @Override
  void validate() throws CliException {
    options.validate(files.size());
    Failures.requireInputs(files);
  }

  @Override
  int run(Holder h) throws Exception {
    SealRequest.Builder base = options.base();
    try (EnvelopeSealer single = Envelopes.sealer(); EnvelopeSealer parallel = options.parallelSealer()) {
      for (Path file : files) {
        long size = SealOptions.sizeOf(file);
        SealRequest request = options.requestFor(base, file);
        BlobStat s;
        try (ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), file.getFileName().toString(), size,
            globals.progressEnabled())) {
          s = h.custodian.sealOwn(SealOptions.sealerFor(size, single, parallel), request, file,
              Transfer.create(bar.adding()));
          bar.finish();
        } catch (IOException | RuntimeException e) {
          throw SealOptions.failure(file, e);
        }
        if (globals.json) {
          out().println(json(s).put("file", file.toString()));
        } else {
          out().println(s.fingerprint().toHex() + "  held  " + file + "  (own, " + s.envelopeLengthBytes()
              + " bytes, until " + Units.instant(s.expiresAtEpochSecond()) + ")");
        }
      }
    }
    return ExitCodes.OK;
  }
}
