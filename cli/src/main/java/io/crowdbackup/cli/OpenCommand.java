package io.crowdbackup.cli;

import io.crowdbackup.api.ContentKind;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeOpener;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.inbox.SafeFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "open", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Verify and decrypt envelopes with a destination key.",
        "Each file is written into DIR under the name the sender gave it, made safe (no folders, no",
        "hidden or device names) and never replacing a file: a clash becomes 'name (2).ext'. A file",
        "appears only once its envelope verified completely; a tampered or truncated envelope writes",
        "nothing. Unlike 'receive', keeps no record and signs no receipt."})
final class OpenCommand extends HasGlobals implements Callable<Integer> {
  @Option(names = "--key", required = true, paramLabel = "KEYFILE", description = "The destination key file.")
  Path key;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the files (created if absent).")
  Path out;

  @Parameters(paramLabel = "ENVELOPE", arity = "1..*", description = "Envelope files.")
  List<Path> envelopes;

  @Override
  public Integer call() throws Exception {
    DestinationKeyPair keys = KeyFiles.destination(key);
    // Chunks verify on one thread per processor; the plaintext hash and the writes stay on this one.
    int threads = Runtime.getRuntime().availableProcessors();
    int code = ExitCodes.OK;
    try (EnvelopeOpener opener = threads > 1 ? Envelopes.parallelOpener(keys, threads) : Envelopes.opener(keys)) {
      Failures.requireInputs(envelopes);
      try {
        OutputFiles.createFolder(out);
      } catch (IOException e) {
        throw Failures.io(out, e);
      }
      TempFiles.removeStale(out, spec.commandLine().getErr(), globals);
      for (Path envelope : envelopes) {
        try {
          openOne(opener, envelope);
        } catch (CliException e) {
          code = reportAndGoOn(e, ExitCodes.ENVELOPE_REJECTED);
        }
      }
    } finally {
      keys.destroy();
    }
    return code;
  }

  private void openOne(EnvelopeOpener opener, Path envelope) throws CliException {
    try (ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), envelope.getFileName().toString(),
        Files.size(envelope), globals.progressEnabled());
        TempFiles.Output plain = TempFiles.create(out)) {
      OpenResult result;
      try (FileChannel in = FileChannel.open(envelope)) {
        // Until open() returns, the plaintext is unverified: it lives only under the temporary name.
        result = opener.open(counting(in, bar), plain);
      }
      if (result.metadata().contentKind() != ContentKind.FILE) {
        throw new EnvelopeException(EnvelopeException.Reason.WRONG_CONTENT_KIND, "it holds a "
            + result.metadata().contentKind() + " for a relay to forward; use 'crowdbackup receive --relay'");
      }
      plain.force();
      Path published = plain.publishUnique(result.metadata().name());
      SafeFiles.fsyncDirectory(out);
      bar.finish();
      print(envelope, published, result);
    } catch (IOException | RuntimeException e) {
      throw Failures.of(envelope, e);
    }
  }

  private void print(Path envelope, Path published, OpenResult r) {
    if (globals.json) {
      spec.commandLine().getOut().println(Json.obj().put("envelope", envelope.toString())
          .put("fingerprint", r.fingerprint().toHex()).put("file", published.toString())
          .put("name", r.metadata().name()).put("mediaType", r.metadata().mediaType())
          .put("bytes", r.metadata().plaintextLengthBytes()).put("createdAtEpochMillis", r.metadata().createdAtEpochMillis()));
    } else {
      String sent = r.metadata().name();
      spec.commandLine().getOut().println(r.fingerprint().toHex() + "  " + published
          + (published.getFileName().toString().equals(sent) ? "" : "  (sent as " + quoted(sent) + ")"));
    }
  }

  /** The sender's name as a Java string literal would show it: control characters cannot reach the terminal. */
  static String quoted(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || Character.getType(c) == Character.FORMAT) {
        b.append(String.format("\\u%04x", (int) c));
      } else if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  /** {@code in}, moving {@code bar} by what passes. */
  static ReadableByteChannel counting(ReadableByteChannel in, ProgressBar bar) {
    return Transfer.create(bar.adding()).reading(in, -1);
  }

}
