package io.crowdbackup.s3;

import io.crowdbackup.api.CrowdBackupException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The object store failed or holds something this sink cannot read, as opposed to the envelope being
 * rejected (an {@link io.crowdbackup.api.EnvelopeException}, passed through unchanged). Names the object
 * ({@code s3://bucket/key}) and a reason a program can act on. After any of these nothing new is visible
 * as delivered: a multipart upload in progress was aborted (or, if even the abort failed, is left for the
 * bucket's lifecycle rule), and the delivery record, the only thing that makes a delivery count, was not
 * written.
 */
public final class S3SinkException extends CrowdBackupException {
  private static final long serialVersionUID = 1L;

  /** Why. */
  public enum Reason {
    /**
     * The store could not be reached or answered a server error, throttling or a timeout: this side
     * failed, the same envelope may be delivered again later.
     */
    OBJECT_STORE_UNAVAILABLE,
    /**
     * The store refused a request for a reason retrying will not change (no such bucket, access denied,
     * a bad endpoint or region): a configuration to fix.
     */
    OBJECT_STORE_REFUSED,
    /** A delivery record in the bucket does not parse, or names another fingerprint than its key. */
    DELIVERY_RECORD_CORRUPT,
    /** The delivered file needs more than the store's 10,000 parts at the configured part size. */
    PART_LIMIT_EXCEEDED
  }

  private final Reason reason;
  private final String object;

  S3SinkException(Reason reason, String object, String message) {
    this(reason, object, message, null);
  }

  S3SinkException(Reason reason, String object, String message, @Nullable Throwable cause) {
    super(reason + ": " + object + ": " + message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.object = object;
  }

  @Override
  public Reason reason() {
    return reason;
  }

  /** The object (or bucket) the failure concerns, as {@code s3://bucket/key}. */
  public String object() {
    return object;
  }
}
