package io.crowdbackup.api.policy;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A holder's machine-readable "no" to an offered envelope, with what it would accept instead, so that
 * a source can try the next volunteer at once or take the counter-offer (a smaller envelope, a shorter
 * retention). Immutable.
 *
 * <p>The numbers are a snapshot at the moment of refusal, not a promise: another upload may take the
 * free bytes a moment later. A value that does not apply to the reason is {@link #NOT_APPLICABLE}.
 */
public final class Refusal {
  /** Marks a field that the refusal's reason leaves unset. */
  public static final long NOT_APPLICABLE = -1L;

  /**
   * Why an offer was refused. Stable names: they travel to peers. Bytes that arrive and are not the
   * envelope offered are the envelope's concern ({@link io.crowdbackup.api.EnvelopeException}
   * FINGERPRINT_MISMATCH), or MALFORMED here.
   */
  public enum Reason {
    /** Held plus reserved bytes would exceed the holder's storage limit. Try later or elsewhere. */
    QUOTA_FULL,
    /** This source peer already uses its share of the holder's storage. */
    PEER_SHARE_EXCEEDED,
    /** The envelope is larger than this holder ever accepts from this peer, even when empty. */
    TOO_LARGE,
    /** The retention asked for exceeds the longest this holder grants; see the counter-offer. */
    TTL_TOO_LONG,
    /** The envelope's own expiry has already passed. */
    EXPIRED,
    /** The holder already holds this fingerprint. */
    ALREADY_HELD,
    /** An upload of this fingerprint is in progress (possibly from another peer). */
    UPLOAD_IN_PROGRESS,
    /** The destination already has this fingerprint (the holder saw a valid receipt). */
    ALREADY_DELIVERED,
    /** The offer or the envelope's header is malformed (including a length that is not positive). */
    MALFORMED,
    /** The holder is not accepting custody at all right now (disabled, shutting down). */
    NOT_ACCEPTING
  }

  private final Reason reason;
  private final String message;
  private final long bytesFree;
  private final long acceptableBytes;
  private final long longestRetentionSeconds;
  private final long counterOfferExpiresAtEpochSecond;

  private Refusal(Reason reason, String message, long bytesFree, long acceptableBytes,
      long longestRetentionSeconds, long counterOfferExpiresAtEpochSecond) {
    this.reason = Objects.requireNonNull(reason, "reason");
    this.message = Objects.requireNonNull(message, "message");
    this.bytesFree = bytesFree;
    this.acceptableBytes = acceptableBytes;
    this.longestRetentionSeconds = longestRetentionSeconds;
    this.counterOfferExpiresAtEpochSecond = counterOfferExpiresAtEpochSecond;
  }

  /** A refusal that carries only a reason and a message for a person. */
  public static Refusal of(Reason reason, String message) {
    return new Refusal(reason, message, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE);
  }

  /**
   * A refusal about space.
   *
   * @param bytesFree storage the holder has free overall
   * @param acceptableBytes the largest envelope this holder would accept from this peer right now
   */
  public static Refusal ofSpace(Reason reason, String message, long bytesFree, long acceptableBytes) {
    return new Refusal(reason, message, bytesFree, acceptableBytes, NOT_APPLICABLE, NOT_APPLICABLE);
  }

  /**
   * A refusal about time.
   *
   * @param longestRetentionSeconds the longest retention this holder grants
   * @param counterOfferExpiresAtEpochSecond the latest expiry the holder would accept now, or
   *     {@link #NOT_APPLICABLE} when it offers none (for an envelope already expired)
   */
  public static Refusal ofTime(Reason reason, String message, long longestRetentionSeconds,
      long counterOfferExpiresAtEpochSecond) {
    return new Refusal(reason, message, NOT_APPLICABLE, NOT_APPLICABLE, longestRetentionSeconds,
        counterOfferExpiresAtEpochSecond);
  }

  public Reason reason() {
    return reason;
  }

  /** For a person: what was refused, with actual against allowed values. */
  public String message() {
    return message;
  }

  /** Bytes free on the holder overall, or {@link #NOT_APPLICABLE}. */
  public long bytesFree() {
    return bytesFree;
  }

  /** The largest declared length this holder would accept from this peer now, or {@link #NOT_APPLICABLE}. */
  public long acceptableBytes() {
    return acceptableBytes;
  }

  /** The longest retention this holder grants, seconds, or {@link #NOT_APPLICABLE}. */
  public long longestRetentionSeconds() {
    return longestRetentionSeconds;
  }

  /** The expiry the holder would accept instead, epoch seconds, or {@link #NOT_APPLICABLE}. */
  public long counterOfferExpiresAtEpochSecond() {
    return counterOfferExpiresAtEpochSecond;
  }

  /** This refusal as an exception, for code paths that throw. */
  public RefusalException toException() {
    return new RefusalException(this);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof Refusal)) {
      return false;
    }
    Refusal r = (Refusal) o;
    return reason == r.reason
        && message.equals(r.message)
        && bytesFree == r.bytesFree
        && acceptableBytes == r.acceptableBytes
        && longestRetentionSeconds == r.longestRetentionSeconds
        && counterOfferExpiresAtEpochSecond == r.counterOfferExpiresAtEpochSecond;
  }

  @Override
  public int hashCode() {
    return Objects.hash(reason, message, bytesFree, acceptableBytes, longestRetentionSeconds,
        counterOfferExpiresAtEpochSecond);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Refusal{").append(reason).append(": ").append(message);
    if (bytesFree != NOT_APPLICABLE) {
      sb.append(", bytesFree=").append(bytesFree);
    }
    if (acceptableBytes != NOT_APPLICABLE) {
      sb.append(", acceptableBytes=").append(acceptableBytes);
    }
    if (longestRetentionSeconds != NOT_APPLICABLE) {
      sb.append(", longestRetentionSeconds=").append(longestRetentionSeconds);
    }
    if (counterOfferExpiresAtEpochSecond != NOT_APPLICABLE) {
      sb.append(", counterOfferExpiresAtEpochSecond=").append(counterOfferExpiresAtEpochSecond);
    }
    return sb.append('}').toString();
  }
}
