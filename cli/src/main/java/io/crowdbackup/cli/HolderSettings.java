package io.crowdbackup.cli;

import io.crowdbackup.engine.custody.HolderConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.TypeConversionException;

/**
 * A holder's policy settings: quota, per-peer share, longest retention, largest envelope. Read from a small
 * {@code key = value} file ({@value #FILE_NAME} in the holder folder, format in {@code docs/cli.md}),
 * overridden by command-line options. Immutable; the policy itself is the engine's, these are only its
 * numbers.
 */
final class HolderSettings {
  /** The settings file's name inside a holder folder. */
  static final String FILE_NAME = "store.conf";
  /** Bound on the settings file: a handful of lines in practice. */
  static final int MAX_FILE_BYTES = 16 * 1024;

  static final long DEFAULT_QUOTA_BYTES = 1L << 30;
  static final int DEFAULT_PEER_SHARE_PERCENT = 25;
  static final long DEFAULT_MAX_RETENTION_SECONDS = HolderConfig.DEFAULT_MAX_RETENTION.getSeconds();

  static final String QUOTA = "quota";
  static final String PEER_SHARE = "peer-share";
  static final String MAX_RETENTION = "max-retention";
  static final String MAX_ENVELOPE = "max-envelope";

  final long quotaBytes;
  final int peerSharePercent;
  final long maxRetentionSeconds;
  /** The largest envelope accepted, or 0 for "as large as the quota and share allow". */
  final long maxEnvelopeBytes;
  /** Where each setting came from: "default", the file's path, or "option". */
  final Map<String, String> origin;

  private HolderSettings(long quotaBytes, int peerSharePercent, long maxRetentionSeconds, long maxEnvelopeBytes,
      Map<String, String> origin) {
    this.quotaBytes = quotaBytes;
    this.peerSharePercent = peerSharePercent;
    this.maxRetentionSeconds = maxRetentionSeconds;
    this.maxEnvelopeBytes = maxEnvelopeBytes;
    this.origin = origin;
  }

  static HolderSettings defaults() {
    Map<String, String> origin = new LinkedHashMap<>();
    for (String k : new String[] {QUOTA, PEER_SHARE, MAX_RETENTION, MAX_ENVELOPE}) {
      origin.put(k, "default");
    }
    return new HolderSettings(DEFAULT_QUOTA_BYTES, DEFAULT_PEER_SHARE_PERCENT, DEFAULT_MAX_RETENTION_SECONDS, 0,
        origin);
  }

  static HolderSettings of(long quotaBytes, int peerSharePercent, long maxRetentionSeconds, long maxEnvelopeBytes) {
    return defaults().with(quotaBytes, peerSharePercent, maxRetentionSeconds, maxEnvelopeBytes, "given");
  }

  /** These settings with the non-null values replaced; {@code from} names where they came from. */
  HolderSettings with(Long quota, Integer share, Long retentionSeconds, Long maxEnvelope, String from) {
    Map<String, String> o = new LinkedHashMap<>(origin);
    if (quota != null) {
      o.put(QUOTA, from);
    }
    if (share != null) {
      o.put(PEER_SHARE, from);
    }
    if (retentionSeconds != null) {
      o.put(MAX_RETENTION, from);
    }
    if (maxEnvelope != null) {
      o.put(MAX_ENVELOPE, from);
    }
    return new HolderSettings(quota != null ? quota : quotaBytes, share != null ? share : peerSharePercent,
        retentionSeconds != null ? retentionSeconds : maxRetentionSeconds,
        maxEnvelope != null ? maxEnvelope : maxEnvelopeBytes, o);
  }

  /**
   * The defaults overridden by {@code file}, if it exists.
   *
   * @throws CliException USAGE naming the file and line for an unknown, repeated or bad setting; IO if the
   *     file cannot be read
   */
  static HolderSettings load(Path file) throws CliException {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_FILE_BYTES + 1);
    } catch (NoSuchFileException e) {
      return defaults();
    } catch (IOException e) {
      throw Failures.io(file, e);
    }
    if (bytes.length > MAX_FILE_BYTES) {
      throw bad(file, 0, "larger than " + MAX_FILE_BYTES + " bytes: not a settings file");
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw bad(file, 0, "not UTF-8 text");
    }
    Long quota = null;
    Integer share = null;
    Long retention = null;
    Long maxEnvelope = null;
    Map<String, Integer> seen = new LinkedHashMap<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      int lineNo = i + 1;
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq < 0) {
        throw bad(file, lineNo, "expected 'key = value', got '" + printable(line) + "'");
      }
      String key = line.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      String value = line.substring(eq + 1).strip();
      Integer before = seen.put(key, lineNo);
      if (before != null) {
        throw bad(file, lineNo, "'" + printable(key) + "' is set twice (first on line " + before + ")");
      }
      try {
        switch (key) {
          case QUOTA:
            quota = new Converters.ByteCountConverter().convert(value);
            break;
          case PEER_SHARE:
            share = new Converters.PercentConverter().convert(value);
            break;
          case MAX_RETENTION:
            retention = new Converters.DurationConverter().convert(value).getSeconds();
            break;
          case MAX_ENVELOPE:
            maxEnvelope = value.equalsIgnoreCase("none") ? 0L : new Converters.ByteCountConverter().convert(value);
            break;
          default:
            throw bad(file, lineNo, "unknown setting '" + printable(key) + "' (known: " + QUOTA + ", " + PEER_SHARE
                + ", " + MAX_RETENTION + ", " + MAX_ENVELOPE + ")");
        }
      } catch (TypeConversionException e) {
        throw bad(file, lineNo, key + ": " + e.getMessage());
      }
    }
    return defaults().with(quota, share, retention, maxEnvelope, file.toString());
  }

  /** The settings as the file format, with a comment that says what each one does. */
  String encode() {
    StringBuilder b = new StringBuilder();
    b.append("# crowdbackup holder settings (docs/cli.md, \"The settings file\")\n");
    b.append("# bytes held for others, at most\n").append(QUOTA).append(" = ").append(size(quotaBytes)).append('\n');
    b.append("# the most one source peer may use, percent of the quota\n").append(PEER_SHARE).append(" = ")
        .append(peerSharePercent).append("%\n");
    b.append("# the longest this holder keeps an envelope for others\n").append(MAX_RETENTION).append(" = ")
        .append(duration(maxRetentionSeconds)).append('\n');
    b.append("# the largest envelope accepted (none: as large as quota and share allow)\n").append(MAX_ENVELOPE)
        .append(" = ").append(maxEnvelopeBytes == 0 ? "none" : size(maxEnvelopeBytes)).append('\n');
    return b.toString();
  }

  /** A byte count in the largest binary unit that divides it. */
  static String size(long bytes) {
    String[] units = {"TiB", "GiB", "MiB", "KiB"};
    int[] shifts = {40, 30, 20, 10};
    for (int i = 0; i < units.length; i++) {
      long unit = 1L << shifts[i];
      if (bytes >= unit && bytes % unit == 0) {
        return (bytes >> shifts[i]) + units[i];
      }
    }
    return Long.toString(bytes);
  }

  /** Seconds as {@code 12h}, {@code 90m}, {@code 1h30m} or {@code 45s}. */
  static String duration(long seconds) {
    Duration d = Duration.ofSeconds(seconds);
    StringBuilder b = new StringBuilder();
    if (d.toDays() > 0) {
      b.append(d.toDays()).append('d');
    }
    if (d.toHoursPart() > 0) {
      b.append(d.toHoursPart()).append('h');
    }
    if (d.toMinutesPart() > 0) {
      b.append(d.toMinutesPart()).append('m');
    }
    if (d.toSecondsPart() > 0 || b.length() == 0) {
      b.append(d.toSecondsPart()).append('s');
    }
    return b.toString();
  }

  private static CliException bad(Path file, int line, String what) {
    return new CliException(ExitCodes.USAGE, "BAD_SETTINGS", file.toString(),
        file + (line > 0 ? " line " + line : "") + ": " + what, null);
  }

  private static String printable(String s) {
    String q = OpenCommand.quoted(s.length() > 60 ? s.substring(0, 60) + "…" : s);
    return q.substring(1, q.length() - 1);
  }
}
