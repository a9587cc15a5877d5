package io.crowdbackup.cli;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.inbox.SafeFiles;
import io.crowdbackup.engine.keys.Keys;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "seal", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Seal files into envelopes that only one destination can open.",
        "Each FILE becomes one envelope for the destination on CARD, written to DIR as <fingerprint>.cbe,",
        "and its fingerprint is printed. Holders see the public header and the fingerprint, nothing of",
        "the content or its name."})
final class SealCommand extends HasGlobals implements Callable<Integer> {
  /** Files smaller than this are sealed on one thread: starting the workers costs more than it saves. */
  static final long PARALLEL_THRESHOLD_BYTES = 4L * 1024 * 1024;

  @Option(names = "--to", required = true, paramLabel = "CARD", description = "The destination's public card.")
  Path to;

  @Option(names = "--relay", paramLabel = "CARD",
      description = "Deliver through this relay, which learns the destination's locator but not the content.")
  Path relay;

  @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "12h",
      converter = Converters.DurationConverter.class,
      description = "How long holders keep the envelope: 90m, 12h, 2d, PT12H (default: ${DEFAULT-VALUE}).")
  Duration ttl;

  @Option(names = "--compress", paramLabel = "auto|on|off", defaultValue = "auto",
      description = "LZ4 per chunk; auto skips already-compressed media (JPEG, HEIC, MP4, …) (default: ${DEFAULT-VALUE}).")
  Compression compress;

  @Option(names = "--signing-key", paramLabel = "FILE",
      description = "Your source signing key (from 'keygen --signing'): lets you release the envelope later."
          + " Without it, a throwaway key is used and only the destination's receipt can release it.")
  Path signingKey;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the envelopes (created if absent).")
  Path out;

  @Option(names = "--name", paramLabel = "NAME",
      description = "The file name recorded inside the envelope (default: FILE's name). Only with one FILE.")
  String name;

  @Option(names = "--media-type", paramLabel = "TYPE", description = "Media type recorded inside (default: by extension).")
  String mediaType;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "Encryption threads for large files; 0 means one per processor (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--chunk-size", paramLabel = "SIZE", defaultValue = "64KiB",
      converter = Converters.SizeConverter.class,
      description = "Plaintext bytes per chunk, a power of two from 4KiB to 4MiB (default: ${DEFAULT-VALUE}).")
  int chunkSizeBytes;

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "Files to seal.")
  List<Path> files;

  @Override
  public Integer call() throws Exception {
    if (name != null && files.size() != 1) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, "--name applies to exactly one FILE, got "
          + files.size(), null);
    }
    if (threads < 0 || threads > 256) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, "--threads must be 0..256, was " + threads, null);
    }
    if (Integer.bitCount(chunkSizeBytes) != 1 || chunkSizeBytes < SealRequest.MIN_CHUNK_SIZE_BYTES
        || chunkSizeBytes > SealRequest.MAX_CHUNK_SIZE_BYTES) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, "--chunk-size must be a power of two from 4KiB to "
          + "4MiB, was " + Units.bytes(chunkSizeBytes) + " (" + chunkSizeBytes + " bytes)", null);
    }
    DestinationCard destination = KeyFiles.card(to);
    DestinationCard relayCard = relay == null ? null : KeyFiles.card(relay);
    SigningKeyPair source = signingKey == null ? Keys.generateSigning() : KeyFiles.signing(signingKey);
    long expires = Math.addExact(System.currentTimeMillis() / 1000, ttl.getSeconds());
    SealRequest.Builder base;
    try {
      base = SealRequest.newBuilder().destination(destination).releaseKey(source.publicKey())
          .expiresAtEpochSecond(expires).compression(compress).chunkSizeBytes(chunkSizeBytes);
      if (relayCard != null) {
        base.relay(relayCard);
      }
      if (mediaType != null) {
        base.mediaType(mediaType);
      }
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, e.getMessage(), e);
    } finally {
      source.destroy();
    }
    Failures.requireInputs(files);
    try {
      OutputFiles.createFolder(out);
    } catch (IOException e) {
      throw Failures.io(out, e);
    }
    TempFiles.removeStale(out, spec.commandLine().getErr(), globals);
    int parallelism = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    try (EnvelopeSealer single = Envelopes.sealer();
        EnvelopeSealer parallel = parallelism > 1 ? Envelopes.parallelSealer(parallelism) : null) {
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
    long size;
    long createdMillis;
    try {
      if (!Files.isRegularFile(file)) {
        throw new CliException(ExitCodes.IO, Files.exists(file) ? "NOT_A_FILE" : "NOT_FOUND", file.toString(),
            file + ": " + (Files.exists(file) ? "not a regular file" : "no such file or folder"), null);
      }
      size = Files.size(file);
      createdMillis = Files.getLastModifiedTime(file).toMillis();
    } catch (IOException e) {
      throw Failures.io(file, e);
    }
    String innerName = name != null ? name : file.getFileName().toString();
    SealRequest request;
    try {
      SealRequest.Builder b = base.build().toBuilder().name(fitName(innerName)).createdAtEpochMillis(createdMillis);
      if (mediaType == null) {
        b.mediaType(MediaTypes.forName(innerName));
      }
      request = b.build();
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "USAGE", file.toString(), file + ": " + e.getMessage(), e);
    }
    EnvelopeSealer sealer = parallel != null && size >= PARALLEL_THRESHOLD_BYTES ? parallel : single;
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
    } catch (EnvelopeException e) {
      if (e.reason() == EnvelopeException.Reason.NOT_ENOUGH_MEMORY) {
        // The user's options (or the JVM's heap) are what must change, not the file: a usage error.
        throw new CliException(ExitCodes.USAGE, e.reason().name(), file.toString(), "seal " + file + ": "
            + e.getMessage().replace("use a chunk size of at most", "use --chunk-size of at most")
                .replace("more heap (-Xmx)", "more heap (CROWDBACKUP_JAVA_OPTS=-Xmx...)"), e);
      }
      throw Failures.of(file, e);
    } catch (IOException | RuntimeException e) {
      throw Failures.of(file, e);
    }
  }

  /** Cuts a name to the format's 255 UTF-8 bytes, keeping whole code points. */
  private static String fitName(String n) {
    if (n.getBytes(StandardCharsets.UTF_8).length <= SealRequest.MAX_NAME_BYTES) {
      return n;
    }
    int i = n.length();
    while (n.substring(0, i).getBytes(StandardCharsets.UTF_8).length > SealRequest.MAX_NAME_BYTES) {
      i = n.offsetByCodePoints(i, -1);
    }
    return n.substring(0, i);
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
