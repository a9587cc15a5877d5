package io.crowdbackup.api;

import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;

/**
 * Seals a plaintext into one envelope for one destination. One pass over the plaintext encrypts and
 * fingerprints it; memory does not grow with its size. There is no way to pass a key, nonce or counter:
 * the sealer draws the ephemeral key and salt itself.
 */
public interface EnvelopeSealer extends AutoCloseable {
  /**
   * Seals exactly {@code plaintextLengthBytes} bytes read from {@code plaintext} and writes the envelope to
   * {@code envelopeOut}. The length is needed in advance because the header, which is written first,
   * carries the envelope's exact length. {@link Compression#OFF} applies whatever the request says,
   * since deciding per chunk needs a second look at the plaintext; use {@link #seal(SealRequest, Path,
   * WritableByteChannel)} for compression.
   *
   * @throws EnvelopeException with {@link EnvelopeException.Reason#PLAINTEXT_LENGTH_MISMATCH} when the
   *     channel ends early or has more bytes; what was written to {@code envelopeOut} is then not a valid
   *     envelope
   */
  SealResult seal(SealRequest request, ReadableByteChannel plaintext, long plaintextLengthBytes,
      WritableByteChannel envelopeOut) throws IOException;

  /** Seals a file, honouring the request's compression (which reads the file once more to plan chunks). */
  SealResult seal(SealRequest request, Path plaintextFile, WritableByteChannel envelopeOut) throws IOException;

  /** Stops the sealer's worker threads, if it has any. Safe twice; a no-op for a single-threaded sealer. */
  @Override
  default void close() {}
}
