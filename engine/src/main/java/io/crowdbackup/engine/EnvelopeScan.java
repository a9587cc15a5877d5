package io.crowdbackup.engine;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A keyless check of an envelope as its bytes arrive ({@link Envelopes#newScan()}): header bounds, record
 * framing, length and the fingerprint, in bounded memory whatever the envelope's size. Feed it slices of
 * any size; it cannot check chunk tags (that needs the destination's key), so a holder compares the
 * fingerprint with the one it was offered.
 */
public interface EnvelopeScan {
  /** Consumes all of {@code src}; throws {@link EnvelopeException} at the first byte that breaks the format. */
  void update(ByteBuffer src) throws IOException;

  /** The header, once its bytes have arrived; {@code null} before. */
  EnvelopeHeader header();

  /** Bytes consumed so far. */
  long position();

  /** Whether what arrived is exactly one complete envelope; returns its fingerprint. */
  Fingerprint finish() throws EnvelopeException;
}
