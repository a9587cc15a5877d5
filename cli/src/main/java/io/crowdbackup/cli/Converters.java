package io.crowdbackup.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parsers for option values people type: durations like {@code 12h} and sizes like {@code 64KiB}. */
final class Converters {
  private Converters() {}

  /** {@code 90s}, {@code 30m}, {@code 12h}, {@code 2d}, {@code 1h30m}, or ISO-8601 {@code PT12H}. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    private static final Pattern PART = Pattern.compile("(\\d+)([smhd])");

    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      if (v.startsWith("p")) {
        try {
          return positive(Duration.parse(value.trim().toUpperCase(Locale.ROOT)), value);
        } catch (DateTimeParseException e) {
          throw new TypeConversionException("'" + value + "' is not a duration (try 12h, 90m, 2d or PT12H)");
        }
      }
      Matcher m = PART.matcher(v);
      Duration d = Duration.ZERO;
      int end = 0;
      while (m.find() && m.start() == end) {
        long n;
        try {
          n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
          throw new TypeConversionException("'" + value + "' is too large");
        }
        switch (m.group(2)) {
          case "s": d = d.plusSeconds(n); break;
          case "m": d = d.plusMinutes(n); break;
          case "h": d = d.plusHours(n); break;
          default: d = d.plusDays(n); break;
        }
        end = m.end();
      }
      if (end == 0 || end != v.length()) {
        throw new TypeConversionException("'" + value + "' is not a duration (try 12h, 90m, 2d or PT12H)");
      }
      return positive(d, value);
    }

    private static Duration positive(Duration d, String value) {
      if (d.isZero() || d.isNegative()) {
        throw new TypeConversionException("'" + value + "' must be longer than zero");
      }
      return d;
    }
  }

  /** A byte count: {@code 65536}, {@code 64k}, {@code 64KiB}, {@code 1m}, {@code 4MiB}. */
  static final class SizeConverter implements ITypeConverter<Integer> {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(|b|k|kb|kib|m|mb|mib)");

    @Override
    public Integer convert(String value) {
      Matcher m = SIZE.matcher(value.trim().toLowerCase(Locale.ROOT));
      if (!m.matches()) {
        throw new TypeConversionException("'" + value + "' is not a size (try 65536, 64KiB or 1MiB)");
      }
      long n = Long.parseLong(m.group(1));
      String unit = m.group(2);
      long factor = unit.startsWith("k") ? 1024 : unit.startsWith("m") ? 1024 * 1024 : 1;
      long bytes = n * factor;
      if (n > Integer.MAX_VALUE || bytes > Integer.MAX_VALUE) {
        throw new TypeConversionException("'" + value + "' is too large");
      }
      return (int) bytes;
    }
  }

  /** A byte count up to 1 TiB: {@code 1048576}, {@code 512KiB}, {@code 64MiB}, {@code 2GiB}, {@code 1TiB}. */
  static final class ByteCountConverter implements ITypeConverter<Long> {
    static final long MAX_BYTES = 1L << 40;
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)");

    @Override
    public Long convert(String value) {
      Matcher m = SIZE.matcher(value.trim().toLowerCase(Locale.ROOT));
      if (!m.matches() || m.group(1).length() > 13) {
        throw new TypeConversionException("'" + value + "' is not a size (try 500MiB, 2GiB or 1048576)");
      }
      long n = Long.parseLong(m.group(1));
      String unit = m.group(2);
      int shift = unit.isEmpty() || unit.equals("b") ? 0 : unit.startsWith("k") ? 10 : unit.startsWith("m") ? 20
          : unit.startsWith("g") ? 30 : 40;
      if (n == 0) {
        throw new TypeConversionException("'" + value + "' must be larger than zero");
      }
      if (n > (MAX_BYTES >> shift)) {
        throw new TypeConversionException("'" + value + "' is larger than 1TiB");
      }
      return n << shift;
    }
  }

  /** A whole percentage from 1 to 100, with or without the {@code %}: {@code 25}, {@code 25%}. */
  static final class PercentConverter implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      String v = value.trim();
      if (v.endsWith("%")) {
        v = v.substring(0, v.length() - 1).trim();
      }
      int p;
      try {
        p = Integer.parseInt(v);
      } catch (NumberFormatException e) {
        throw new TypeConversionException("'" + value + "' is not a percentage (try 25%)");
      }
      if (p < 1 || p > 100) {
        throw new TypeConversionException("'" + value + "' must be from 1% to 100%");
      }
      return p;
    }
  }
}
