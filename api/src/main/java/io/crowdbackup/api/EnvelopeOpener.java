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
 * normal return, discarding it on any exception. An opener with worker threads verifies chunks ahead on
 * them but still writes in order, and nothing after a chunk that failed.
 */
public interface EnvelopeOpener extends AutoCloseable {
  /** Opens an envelope. */
  OpenResult open(ReadableByteChannel envelope, WritableByteChannel plaintextOut) throws IOException;

  /**
   * Opens an envelope and also requires its fingerprint to be {@code expected}.
   *
   * @throws EnvelopeException with {@link EnvelopeException.Reason#FINGERPRINT_MISMATCH} otherwise
   */
  OpenResult open(ReadableByteChannel envelope, WritableByteChannel plaintextOut, Fingerprint expected)
      throws IOException;

  /** Stops the opener's worker threads, if it has any. Safe twice; a no-op for a single-threaded opener. */
  @Override
  default void close() {}
}
