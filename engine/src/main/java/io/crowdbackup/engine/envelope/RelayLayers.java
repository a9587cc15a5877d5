package io.crowdbackup.engine.envelope;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeException.Reason;
import io.crowdbackup.api.EnvelopeHeader;
import java.time.Instant;

/**
 * The relay's duty toward the outer layer ({@code docs/envelope-format.md} §14): checked after it opened
 * the outer envelope and read the inner header, before it acknowledges the outer one. An outer layer may
 * not outlive its inner envelope: holders keep the outer until its expiry and the relay forwards the inner
 * one, so an outer expiry after the inner's would have the venue hold bytes the destination may already
 * refuse as expired, on the source's word alone.
 */
public final class RelayLayers {
  private RelayLayers() {}

  /** Refuses ({@link Reason#FIELD_OUT_OF_BOUNDS}) an outer layer whose expiry is later than its inner's. */
  public static void checkOuterAgainstInner(EnvelopeHeader outer, EnvelopeHeader inner) throws EnvelopeException {
    if (outer.expiresAtEpochSecond() > inner.expiresAtEpochSecond()) {
      throw new EnvelopeException(Reason.FIELD_OUT_OF_BOUNDS, "the outer layer expires at "
          + Instant.ofEpochSecond(outer.expiresAtEpochSecond()) + ", after its inner envelope ("
          + Instant.ofEpochSecond(inner.expiresAtEpochSecond()) + "): an outer layer may not outlive it");
    }
  }
}
