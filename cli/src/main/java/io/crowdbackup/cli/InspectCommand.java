package io.crowdbackup.cli;

import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.EnvelopeScan;
import io.crowdbackup.engine.Envelopes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Show an envelope as a holder sees it, without any key.",
        "Prints the public header, and the fingerprint computed over the whole envelope while checking its",
        "framing (lengths, record structure, size).",
        "This cannot tell whether the encrypted content was altered: only the destination can."})
final class InspectCommand extends HasGlobals implements Callable<Integer> {
  @Option(names = "--header-only", description = "Read just the header; skip the fingerprint (reads the whole file).")
  boolean headerOnly;

  @Parameters(paramLabel = "ENVELOPE", arity = "1..*", description = "Envelope files.")
  List<Path> envelopes;

  @Override
  public Integer call() throws Exception {
    int code = ExitCodes.OK;
    for (Path envelope : envelopes) {
      try {
        inspect(envelope);
      } catch (IOException | RuntimeException e) {
        code = reportAndGoOn(Failures.of(envelope, e), ExitCodes.ENVELOPE_REJECTED);
      }
    }
    return code;
  }

  private void inspect(Path envelope) throws IOException {
    long size = Files.size(envelope);
    EnvelopeScan scanner = Envelopes.newScan();
    Fingerprint fingerprint = null;
    try (FileChannel in = FileChannel.open(envelope);
        ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), envelope.getFileName().toString(), size,
            globals.progressEnabled() && !headerOnly)) {
      ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
      long done = 0;
      while (in.read(buf) >= 0) {
        buf.flip();
        done += buf.remaining();
        scanner.update(buf);
        buf.clear();
        bar.update(done);
        if (headerOnly && scanner.header() != null) {
          break;
        }
      }
      if (!headerOnly) {
        fingerprint = scanner.finish();
        bar.finish();
      } else if (scanner.header() == null) {
        scanner.finish(); // throws TRUNCATED with the details
      }
    }
    print(envelope, size, scanner.header(), fingerprint);
  }

  private void print(Path envelope, long size, EnvelopeHeader h, Fingerprint fp) {
    PrintWriter out = spec.commandLine().getOut();
    Instant expires = Instant.ofEpochSecond(h.expiresAtEpochSecond());
    if (globals.json) {
      out.println(Json.obj().put("envelope", envelope.toString()).put("formatVersion", h.formatVersion())
          .put("suite", h.suite()).put("envelopeBytes", h.envelopeLengthBytes()).put("fileBytes", size)
          .put("chunkSizeBytes", h.chunkSizeBytes()).put("expiresAtEpochSecond", h.expiresAtEpochSecond())
          .put("expiresAt", expires.toString()).put("locator", h.locator())
          .put("receiptKey", HexFormat.of().formatHex(h.receiptKey())).put("releaseKey", HexFormat.of().formatHex(h.releaseKey()))
          .put("ephemeralKey", HexFormat.of().formatHex(h.ephemeralKey())).put("salt", HexFormat.of().formatHex(h.salt()))
          .put("headerBytes", h.encodedLengthBytes()).put("fingerprint", fp == null ? null : fp.toHex()));
      return;
    }
    out.println("envelope       " + envelope);
    out.println("format         v" + h.formatVersion() + ", suite " + h.suite()
        + (h.suite() == 1 ? " (X25519, HKDF-SHA-256, AES-256-GCM, SHA-256)" : ""));
    out.println("length         " + h.envelopeLengthBytes() + " bytes" + (size == h.envelopeLengthBytes() ? ""
        : " (the file has " + size + ")"));
    out.println("chunk size     " + h.chunkSizeBytes() + " bytes");
    out.println("expires        " + expires + " (" + relative(expires) + ")");
    out.println("locator        " + h.locator());
    out.println("receipt key    " + HexFormat.of().formatHex(h.receiptKey()) + "  (destination; verifies receipts)");
    out.println("release key    " + HexFormat.of().formatHex(h.releaseKey()) + "  (source; verifies releases)");
    out.println("ephemeral key  " + HexFormat.of().formatHex(h.ephemeralKey()));
    out.println("fingerprint    " + (fp == null ? "(not computed: --header-only)" : fp.toHex()));
  }

  private static String relative(Instant when) {
    Duration d = Duration.between(Instant.now(), when);
    boolean past = d.isNegative();
    d = d.abs();
    String s = d.toDays() > 0 ? d.toDays() + "d " + d.toHoursPart() + "h"
        : d.toHours() > 0 ? d.toHours() + "h " + d.toMinutesPart() + "m" : d.toMinutes() + "m " + d.toSecondsPart() + "s";
    return past ? "expired " + s + " ago" : "in " + s;
  }
}
