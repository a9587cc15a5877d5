package io.crowdbackup.api;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/**
 * The push side of sealing a plaintext whose length is not known up front (a camera stream, an Android
 * {@code content://} URI): write the plaintext in, then {@link #finish()} writes the envelope and says what
 * it is. Nothing reaches the envelope output before {@code finish()}, because the envelope's header, its
 * first bytes, carries the envelope's exact length (see {@link EnvelopeSealer#openSealingChannel}).
 *
 * <p>{@link #close()} without {@code finish()} abandons the seal: the spool is deleted and nothing is
 * written. Closing twice, or after {@code finish()}, is harmless.
 */
public interface SealingChannel extends WritableByteChannel {
  /** Seals everything written so far, writes the whole envelope, and closes this channel. */
  SealResult finish() throws IOException;

  /** Plaintext bytes written so far. */
  long plaintextBytesWritten();
}
