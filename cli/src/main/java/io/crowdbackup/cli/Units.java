package io.crowdbackup.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/** How numbers are shown to people: binary sizes, relative times. */
final class Units {
  private Units() {}

  /**
   * {@code 512 B}, {@code 1.50 KiB}, {@code 23.4 MiB}, {@code 812 MiB}: three significant digits, rounded
   * down, so a quota that is nearly full never reads as full.
   */
  static String bytes(long n) {
    if (n < 1000) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = n;
    int i = -1;
    while (v >= 1000 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    double scale = v < 10 ? 100 : v < 100 ? 10 : 1;
    double shown = Math.floor(v * scale) / scale;
    return String.format(Locale.ROOT, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", shown, units[i]);
  }

  /** {@code in 11h 59m}, {@code expired 3m 2s ago}, relative to {@code nowEpochSecond}. */
  static String relative(long epochSecond, long nowEpochSecond) {
    Duration d = Duration.ofSeconds(epochSecond - nowEpochSecond);
    boolean past = d.isNegative() || d.isZero();
    d = d.abs();
    String s = d.toDays() > 0 ? d.toDays() + "d " + d.toHoursPart() + "h"
        : d.toHours() > 0 ? d.toHours() + "h " + d.toMinutesPart() + "m" : d.toMinutes() + "m " + d.toSecondsPart() + "s";
    return past ? "expired " + s + " ago" : "in " + s;
  }

  /** An epoch second as an ISO-8601 instant, or "never" for the uncapped maximum. */
  static String instant(long epochSecond) {
    return epochSecond == Long.MAX_VALUE ? "never" : Instant.ofEpochSecond(epochSecond).toString();
  }

  /** A percentage with one decimal, rounded down (so 100.0% means exactly full). */
  static String percent(long part, long whole) {
    double p = whole <= 0 ? 0.0 : Math.floor(1000.0 * part / whole) / 10;
    return String.format(Locale.ROOT, "%.1f%%", p);
  }
}
