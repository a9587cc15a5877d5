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

  /**
   * Seals a plaintext of unknown length, read from {@code plaintext} to its end, honouring the request's
   * compression. Like {@link #openSealingChannel}, which it uses: the plaintext passes once through an
   * encrypted spool file in {@code spoolDirectory}, deleted before this returns.
   */
  SealResult sealStream(SealRequest request, ReadableByteChannel plaintext, Path spoolDirectory,
      WritableByteChannel envelopeOut) throws IOException;

  /**
   * A channel to write a plaintext of unknown length into; {@link SealingChannel#finish()} then writes the
   * envelope to {@code envelopeOut}. The header carries the envelope's exact length, and with compression
   * that length depends on every chunk, so the plaintext is spooled, chunk by chunk, to a file in {@code
   * spoolDirectory} (which should be on the device's own storage): encrypted under a random key that only
   * this channel holds (a spool left behind by a crash is unreadable), planned as it arrives (each chunk
   * compressed once to learn its size), and read back once by {@code finish()}. Memory stays bounded; disk
   * use is the plaintext's size until {@code finish()} or {@code close()} deletes the spool.
   */
  SealingChannel openSealingChannel(SealRequest request, Path spoolDirectory, WritableByteChannel envelopeOut)
      throws IOException;

  /** Stops the sealer's worker threads, if it has any. Safe twice; a no-op for a single-threaded sealer. */
  @Override
  default void close() {}
}
