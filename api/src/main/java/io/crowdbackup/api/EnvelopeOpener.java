package io.crowdbackup.api;

import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Opens envelopes addressed to one destination key: checks every chunk, the metadata and the fingerprint,
 * and writes the plaintext.
 *
 * <p><b>When plaintext may be trusted.</b> Plaintext is written to {@code plaintextOut} chunk by chunk as
 * each chunk authenticates, so memory stays bounded. Each chunk on its own is genuine, but the whole is
 * genuine and complete only once {@code open} returns normally: a truncated envelope fails with an
 * exception after some chunks were written. Callers write to a temporary place and publish it only on a
 * normal return, discarding it on any exception.
 */
public interface EnvelopeOpener {
  /** Opens an envelope. */
  OpenResult open(ReadableByteChannel envelope, WritableByteChannel plaintextOut) throws IOException;

  /**
   * Opens an envelope and also requires its fingerprint to be {@code expected}.
   *
   * @throws EnvelopeException with {@link EnvelopeException.Reason#FINGERPRINT_MISMATCH} otherwise
   */
  OpenResult open(ReadableByteChannel envelope, WritableByteChannel plaintextOut, Fingerprint expected)
      throws IOException;
}
