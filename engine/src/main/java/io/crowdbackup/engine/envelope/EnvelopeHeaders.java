package io.crowdbackup.engine.envelope;

import io.crowdbackup.api.EnvelopeHeader;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;

/** The keyless header reader: what a holder runs on an offer. */
public final class EnvelopeHeaders {
  /** Largest number of bytes a header read ever buffers. */
  public static final int MAX_HEADER_BYTES = HeaderCodec.MAX_PIECE0_BYTES;

  private EnvelopeHeaders() {}

  /** Reads exactly the header's bytes from the channel and returns the checked public fields. */
  public static EnvelopeHeader read(ReadableByteChannel in) throws IOException {
    return HeaderCodec.decode(HeaderCodec.readPiece0(in));
  }

  /** Decodes a header from the start of a byte array (which may hold more of the envelope). */
  public static EnvelopeHeader decode(byte[] envelopePrefix) throws IOException {
    return read(java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(envelopePrefix)));
  }
}
