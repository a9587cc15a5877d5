package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import io.crowdbackup.api.ContentKind;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeException.Reason;
import io.crowdbackup.api.InnerMetadata;
import io.crowdbackup.api.SealRequest;
import java.nio.BufferUnderflowException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The final chunk's plaintext: encoding byte 2, the metadata, zero padding to a fixed 512 bytes.
 *
 * <pre>
 *   u8  encoding = 2        u8  content kind        u64 plaintext length
 *   i64 created (epoch ms)                          (format v2: no plaintext SHA-256)
 *   u8  name length (0..255)         name, UTF-8
 *   u8  media type length (0..127)   media type, printable ASCII
 *   zero bytes up to 512
 * </pre>
 *
 * Anyone holding the destination's public card can seal to it, so an authenticated final chunk is still
 * untrusted input: every field is checked.
 */
final class MetadataCodec {
  private MetadataCodec() {}

  static byte[] encode(InnerMetadata m) {
    byte[] name = m.name().getBytes(StandardCharsets.UTF_8);
    byte[] type = m.mediaType().getBytes(StandardCharsets.US_ASCII);
    if (name.length > SealRequest.MAX_NAME_BYTES || type.length > SealRequest.MAX_MEDIA_TYPE_BYTES) {
      throw new IllegalArgumentException("metadata name or media type exceeds its bound");
    }
    ByteBuffer b = ByteBuffer.allocate(METADATA_PLAINTEXT_BYTES);
    b.put((byte) ENCODING_METADATA).put((byte) m.contentKind().code()).putLong(m.plaintextLengthBytes());
    b.putLong(m.createdAtEpochMillis());
    b.put((byte) name.length).put(name).put((byte) type.length).put(type);
    return b.array();
  }

  static InnerMetadata decode(byte[] p, int length) throws EnvelopeException {
    if (length != METADATA_PLAINTEXT_BYTES) {
      throw new EnvelopeException(Reason.BAD_METADATA,
          "final chunk holds " + length + " plaintext bytes, expected " + METADATA_PLAINTEXT_BYTES);
    }
    ByteBuffer b = ByteBuffer.wrap(p, 0, length);
    try {
      int encoding = b.get() & 0xff;
      if (encoding != ENCODING_METADATA) {
        throw new EnvelopeException(Reason.BAD_METADATA,
            "final chunk encoding " + encoding + ", expected " + ENCODING_METADATA);
      }
      int kindCode = b.get() & 0xff;
      ContentKind kind = ContentKind.ofCode(kindCode);
      if (kind == null) {
        throw new EnvelopeException(Reason.BAD_METADATA, "content kind " + kindCode + " is undefined");
      }
      long plaintextLength = b.getLong();
      if (plaintextLength < 0 || plaintextLength > MAX_ENVELOPE_BYTES) {
        throw new EnvelopeException(Reason.BAD_METADATA, "plaintext length " + plaintextLength + " out of bounds");
      }
      long created = b.getLong();
      int nameLength = b.get() & 0xff;
      String name = utf8(p, b.position(), nameLength);
      ((Buffer) b).position(b.position() + nameLength);
      int typeLength = b.get() & 0xff;
      if (typeLength > SealRequest.MAX_MEDIA_TYPE_BYTES) {
        throw new EnvelopeException(Reason.BAD_METADATA,
            "media type length " + typeLength + ", at most " + SealRequest.MAX_MEDIA_TYPE_BYTES);
      }
      byte[] type = new byte[typeLength];
      b.get(type);
      for (int i = 0; i < type.length; i++) {
        if (type[i] < 0x21 || type[i] > 0x7e) {
          throw new EnvelopeException(Reason.BAD_METADATA, "media type byte " + i + " is not printable ASCII");
        }
      }
      while (b.hasRemaining()) {
        if (b.get() != 0) {
          throw new EnvelopeException(Reason.BAD_METADATA,
              "metadata padding byte at " + (b.position() - 1) + " is not zero");
        }
      }
      return new InnerMetadata(name, new String(type, StandardCharsets.US_ASCII), plaintextLength, created,
          kind);
    } catch (BufferUnderflowException e) {
      throw new EnvelopeException(Reason.BAD_METADATA, "metadata fields overrun the 512-byte final chunk", e);
    }
  }

  private static String utf8(byte[] p, int offset, int length) throws EnvelopeException {
    if (offset + length > METADATA_PLAINTEXT_BYTES) {
      throw new EnvelopeException(Reason.BAD_METADATA, "name overruns the final chunk");
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(p, offset, length))
          .toString();
    } catch (CharacterCodingException e) {
      throw new EnvelopeException(Reason.BAD_METADATA, "name is not valid UTF-8", e);
    }
  }
}
