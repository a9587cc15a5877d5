package io.crowdbackup.engine.policy;

import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import java.time.Instant;
import java.util.Objects;

/**
 * How long a holder keeps custody: until the earlier of the envelope's own expiry and
 * {@code now + maxRetentionSeconds} (default 12 h). Times are custody time ({@link CustodyClock}).
 *
 * <p>Two ways to apply it. {@link #custodyExpiresAtEpochSecond} is what a holder does by default: it
 * accepts any envelope that has not expired yet and simply keeps it no longer than its maximum.
 * {@link #grant} is for an offer that asks for a retention explicitly: asking for more than the holder
 * grants is refused with {@code TTL_TOO_LONG} and a counter-offer (the latest expiry it would accept),
 * so that a source can take it or try the next volunteer.
 */
public final class RetentionPolicy {
  /** Twelve hours: the design's default retention. */
  public static final long DEFAULT_MAX_RETENTION_SECONDS = 12L * 60 * 60;

  private final long maxRetentionSeconds;
  private final RefusalCounter refusals;

  private RetentionPolicy(long maxRetentionSeconds, RefusalCounter refusals) {
    if (maxRetentionSeconds <= 0) {
      throw new IllegalArgumentException("maxRetentionSeconds must be positive but was " + maxRetentionSeconds);
    }
    this.maxRetentionSeconds = maxRetentionSeconds;
    this.refusals = Objects.requireNonNull(refusals, "refusals");
  }

  /** The default 12-hour retention, counting its refusals in {@code refusals}. */
  public static RetentionPolicy defaults(RefusalCounter refusals) {
    return new RetentionPolicy(DEFAULT_MAX_RETENTION_SECONDS, refusals);
  }

  public static RetentionPolicy withMaxRetentionSeconds(long maxRetentionSeconds, RefusalCounter refusals) {
    return new RetentionPolicy(maxRetentionSeconds, refusals);
  }

  public long maxRetentionSeconds() {
    return maxRetentionSeconds;
  }

  /** The latest expiry this holder grants for custody accepted at {@code nowEpochSecond}. */
  public long longestExpiresAtEpochSecond(long nowEpochSecond) {
    return saturatedAdd(nowEpochSecond, maxRetentionSeconds);
  }

  /**
   * When custody accepted now ends: {@code min(envelope expiry, now + max retention)}.
   *
   * @throws RefusalException EXPIRED if the envelope's expiry is not after {@code nowEpochSecond}
   */
  public long custodyExpiresAtEpochSecond(long envelopeExpiresAtEpochSecond, long nowEpochSecond)
      throws RefusalException {
    requireNotExpired(envelopeExpiresAtEpochSecond, nowEpochSecond);
    return Math.min(envelopeExpiresAtEpochSecond, longestExpiresAtEpochSecond(nowEpochSecond));
  }

  /**
   * Answers an offer that asks to be kept until {@code requestedExpiresAtEpochSecond}: grants exactly
   * that, or refuses.
   *
   * @throws RefusalException EXPIRED if the requested expiry is not after now; TTL_TOO_LONG, with
   *     {@link Refusal#counterOfferExpiresAtEpochSecond()} = {@code now + max retention}, if it is later
   *     than this holder grants
   */
  public long grant(long requestedExpiresAtEpochSecond, long nowEpochSecond) throws RefusalException {
    requireNotExpired(requestedExpiresAtEpochSecond, nowEpochSecond);
    long longest = longestExpiresAtEpochSecond(nowEpochSecond);
    if (requestedExpiresAtEpochSecond > longest) {
      throw refusals.record(Refusal.ofTime(Refusal.Reason.TTL_TOO_LONG,
          "retention until " + isoInstant(requestedExpiresAtEpochSecond) + " is "
              + (requestedExpiresAtEpochSecond - nowEpochSecond) + " s, longer than the " + maxRetentionSeconds
              + " s this holder grants; it would keep it until " + isoInstant(longest),
          maxRetentionSeconds, longest)).toException();
    }
    return requestedExpiresAtEpochSecond;
  }

  /** Whether custody that ends at {@code expiresAtEpochSecond} has ended at {@code nowEpochSecond}. */
  public static boolean isExpired(long expiresAtEpochSecond, long nowEpochSecond) {
    return nowEpochSecond >= expiresAtEpochSecond;
  }

  private void requireNotExpired(long expiresAtEpochSecond, long nowEpochSecond) throws RefusalException {
    if (isExpired(expiresAtEpochSecond, nowEpochSecond)) {
      throw refusals.record(Refusal.ofTime(Refusal.Reason.EXPIRED,
          "expiry " + isoInstant(expiresAtEpochSecond) + " is not after now, " + isoInstant(nowEpochSecond),
          maxRetentionSeconds, Refusal.NOT_APPLICABLE)).toException();
    }
  }

  /**
   * An epoch second as a person reads it in a refusal, ISO-8601 like the CLI ("2026-06-13T14:00:00Z"); the
   * number itself where it has no instant (beyond year 1,000,000,000). The refusal's fields keep the number.
   */
  public static String isoInstant(long epochSecond) {
    return epochSecond < Instant.MIN.getEpochSecond() || epochSecond > Instant.MAX.getEpochSecond()
        ? "epoch second " + epochSecond : Instant.ofEpochSecond(epochSecond).toString();
  }

  private static long saturatedAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }

  @Override
  public String toString() {
    return "RetentionPolicy{maxRetentionSeconds=" + maxRetentionSeconds + "}";
  }
}
