package io.crowdbackup.cli;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.keys.Keys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * How files are sealed: the options {@code seal} and {@code store seal} share, checked once, and the request
 * each file gets (its name, media type and creation time inside).
 */
final class SealOptions {
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

  /** Checks the options alone, before any file or key is read: a usage error touches nothing. */
  void validate(int fileCount) throws CliException {
    if (name != null && fileCount != 1) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, "--name applies to exactly one FILE, got "
          + fileCount, null);
    }
    if (threads < 0 || threads > 256) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, "--threads must be 0..256, was " + threads, null);
    }
    if (Integer.bitCount(chunkSizeBytes) != 1 || chunkSizeBytes < SealRequest.MIN_CHUNK_SIZE_BYTES
        || chunkSizeBytes > SealRequest.MAX_CHUNK_SIZE_BYTES) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, "--chunk-size must be a power of two from 4KiB to "
          + "4MiB, was " + Units.bytes(chunkSizeBytes) + " (" + chunkSizeBytes + " bytes)", null);
    }
  }

  /** Reads the cards and the signing key: the request every file's starts from. */
  SealRequest.Builder base() throws CliException {
    DestinationCard destination = KeyFiles.card(to);
    DestinationCard relayCard = relay == null ? null : KeyFiles.card(relay);
    SigningKeyPair source = signingKey == null ? Keys.generateSigning() : KeyFiles.signing(signingKey);
    long expires = Math.addExact(System.currentTimeMillis() / 1000, ttl.getSeconds());
    try {
      SealRequest.Builder base = SealRequest.newBuilder().destination(destination).releaseKey(source.publicKey())
          .expiresAtEpochSecond(expires).compression(compress).chunkSizeBytes(chunkSizeBytes);
      if (relayCard != null) {
        base.relay(relayCard);
      }
      if (mediaType != null) {
        base.mediaType(mediaType);
      }
      return base;
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, e.getMessage(), e);
    } finally {
      source.destroy();
    }
  }

  /** A parallel sealer when more than one thread is asked for (or there is more than one processor), else null. */
  EnvelopeSealer parallelSealer() {
    int parallelism = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    return parallelism > 1 ? Envelopes.parallelSealer(parallelism) : null;
  }

  /** {@code parallel} for a file large enough to be worth its threads, else {@code single}. */
  static EnvelopeSealer sealerFor(long sizeBytes, EnvelopeSealer single, EnvelopeSealer parallel) {
    return parallel != null && sizeBytes >= PARALLEL_THRESHOLD_BYTES ? parallel : single;
  }

  /** A regular file to seal, with its size; anything else is refused naming it. */
  static long sizeOf(Path file) throws CliException {
    try {
      if (!Files.isRegularFile(file)) {
        throw new CliException(ExitCodes.IO, Files.exists(file) ? "NOT_A_FILE" : "NOT_FOUND", file.toString(),
            file + ": " + (Files.exists(file) ? "not a regular file" : "no such file or folder"), null);
      }
      return Files.size(file);
    } catch (IOException e) {
      throw Failures.io(file, e);
    }
  }

  /** The request for {@code file}: its name (or --name), creation time and media type (or --media-type). */
  SealRequest requestFor(SealRequest.Builder base, Path file) throws CliException {
    long createdMillis;
    try {
      createdMillis = Files.getLastModifiedTime(file).toMillis();
    } catch (IOException e) {
      throw Failures.io(file, e);
    }
    String innerName = name != null ? name : file.getFileName().toString();
    try {
      SealRequest.Builder b = base.build().toBuilder().name(fitName(innerName)).createdAtEpochMillis(createdMillis);
      if (mediaType == null) {
        b.mediaType(MediaTypes.forName(innerName));
      }
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "USAGE", file.toString(), file + ": " + e.getMessage(), e);
    }
  }

  /**
   * A sealer's refusal for want of memory is about the user's options (or the JVM's heap), not the file: a
   * usage error naming what to change. Anything else is the file's failure.
   */
  static CliException failure(Path file, Exception e) {
    if (e instanceof EnvelopeException && ((EnvelopeException) e).reason() == EnvelopeException.Reason.NOT_ENOUGH_MEMORY) {
      return new CliException(ExitCodes.USAGE, ((EnvelopeException) e).reason().name(), file.toString(), "seal "
          + file + ": " + e.getMessage().replace("use a chunk size of at most", "use --chunk-size of at most")
              .replace("more heap (-Xmx)", "more heap (CROWDBACKUP_JAVA_OPTS=-Xmx...)"), e);
    }
    return Failures.of(file, e);
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
}
