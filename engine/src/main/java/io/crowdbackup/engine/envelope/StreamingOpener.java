package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeException.Reason;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.EnvelopeOpener;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.InnerMetadata;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.SecretAccess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Opens envelopes addressed to one destination key pair. Checks, in order: prelude and header bounds,
 * that the header names this key, the header MAC, then every chunk as it arrives (tag, counter, final
 * flag, framing, LZ4 block), the metadata, the plaintext's length against the metadata, the absence of
 * trailing bytes, and the fingerprint. While writing the plaintext it computes its SHA-256, the file hash
 * the destination records with the delivery ({@link OpenResult#plaintextSha256()}). See {@link EnvelopeOpener} for when plaintext may be
 * trusted. Buffers: two of at most one chunk each, allocated only after the header has been checked.
 */
public final class StreamingOpener implements EnvelopeOpener {
  private final DestinationKeyPair keys;

  public StreamingOpener(DestinationKeyPair keys) {
    this.keys = Objects.requireNonNull(keys, "keys");
  }

  @Override
  public OpenResult open(ReadableByteChannel envelope, WritableByteChannel plaintextOut) throws IOException {
    return open(envelope, plaintextOut, null);
  }

  @Override
  public OpenResult open(ReadableByteChannel envelope, WritableByteChannel plaintextOut, @Nullable Fingerprint expected)
      throws IOException {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(plaintextOut, "plaintextOut");
    byte[] piece0 = HeaderCodec.readPiece0(envelope);
    EnvelopeHeader header = HeaderCodec.decode(piece0);
    byte[] myReceiptKey = keys.card().receiptKey();
    if (!Arrays.equals(header.receiptKey(), myReceiptKey)) {
      throw new EnvelopeException(Reason.NOT_FOR_THIS_KEY, "the header names receipt key "
          + Hex.of(header.receiptKey()) + ", this destination's is " + Hex.of(myReceiptKey));
    }
    byte[] secret = keys.agreementPrivateKey(SecretAccess.explicitly());
    KeySchedule schedule;
    try {
      schedule = KeySchedule.forOpening(secret, keys.card().agreementKey(), header.ephemeralKey(), header.salt());
    } finally {
      Arrays.fill(secret, (byte) 0);
    }
    byte[] macKey = schedule.headerMacKey();
    if (!KeySchedule.macMatches(KeySchedule.headerMac(macKey, piece0, piece0.length - HEADER_MAC_BYTES), piece0)) {
      schedule.destroy();
      throw new EnvelopeException(Reason.HEADER_AUTHENTICATION_FAILED,
          "header MAC does not verify under this destination's key: the header was altered, or the envelope was"
              + " sealed to another agreement key with this receipt key");
    }
    MessageDigest pieceDigest = FingerprintAccumulator.Sha256.newDigest();
    byte[] piece0Digest = pieceDigest.digest(piece0);
    byte[] keyAndPrefix = schedule.payloadKeyAndNoncePrefix(piece0Digest);
    schedule.destroy();
    ChunkCipher cipher = new ChunkCipher(keyAndPrefix, piece0Digest);
    Arrays.fill(keyAndPrefix, (byte) 0);

    FingerprintAccumulator fingerprint = new FingerprintAccumulator();
    fingerprint.addPieceDigest(piece0Digest);
    MessageDigest plaintextSha = FingerprintAccumulator.Sha256.newDigest();

    int chunk = header.chunkSizeBytes();
    int maxCiphertext = maxDataCiphertextBytes(chunk);
    byte[] record = new byte[RECORD_LENGTH_FIELD_BYTES + maxCiphertext];
    byte[] plain = new byte[1 + chunk];
    byte[] inflated = new byte[chunk];
    byte[] digest = new byte[32];
    long position = piece0.length;
    long finalStart = header.envelopeLengthBytes() - FINAL_RECORD_BYTES;
    long counter = 0;
    long plaintextLength = 0;
    boolean sawShortChunk = false;

    while (position < finalStart) {
      int ctLength = readRecordLength(envelope, record, position, counter);
      if (ctLength < MIN_DATA_CIPHERTEXT_BYTES || ctLength > maxCiphertext
          || position + RECORD_LENGTH_FIELD_BYTES + ctLength > finalStart) {
        throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "record " + counter + " at offset " + position
            + " declares " + ctLength + " bytes; allowed " + MIN_DATA_CIPHERTEXT_BYTES + ".."
            + Math.min(maxCiphertext, finalStart - position - RECORD_LENGTH_FIELD_BYTES));
      }
      readRecordBody(envelope, record, ctLength, position, counter);
      int recordLength = RECORD_LENGTH_FIELD_BYTES + ctLength;
      pieceDigest.update(record, 0, recordLength);
      finishDigest(pieceDigest, digest);
      fingerprint.addPieceDigest(digest);
      if (counter >= 0xFFFF_FFFFL) {
        throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "more than 2^32 - 1 chunks");
      }
      int ptLength = cipher.decrypt(counter, false, record, RECORD_LENGTH_FIELD_BYTES, ctLength, plain, 0);
      if (ptLength < 0) {
        throw new EnvelopeException(Reason.BAD_CHUNK_TAG, "chunk " + counter + " at offset " + position
            + " does not authenticate (altered, reordered, duplicated, or from another envelope)");
      }
      if (sawShortChunk) {
        throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "chunk " + counter
            + " follows a short chunk; only the last data chunk may be shorter than " + chunk + " bytes");
      }
      int encoding = plain[0] & 0xff;
      byte[] body;
      int bodyOffset;
      int bodyLength;
      if (encoding == ENCODING_RAW) {
        body = plain;
        bodyOffset = 1;
        bodyLength = ptLength - 1;
      } else if (encoding == ENCODING_LZ4) {
        try {
          bodyLength = Lz4Block.decode(plain, 1, ptLength - 1, inflated, chunk);
        } catch (Lz4Block.MalformedBlockException e) {
          throw new EnvelopeException(Reason.BAD_COMPRESSION,
              "chunk " + counter + " holds an LZ4 block that breaks the format's block rules: " + e.getMessage());
        }
        body = inflated;
        bodyOffset = 0;
      } else {
        throw new EnvelopeException(encoding == ENCODING_METADATA ? Reason.BAD_METADATA : Reason.BAD_COMPRESSION,
            "data chunk " + counter + " has encoding " + encoding + ", expected 0 (raw) or 1 (LZ4)");
      }
      if (bodyLength <= 0) {
        throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "data chunk " + counter + " is empty");
      }
      if (bodyLength < chunk) {
        sawShortChunk = true;
      }
      plaintextSha.update(body, bodyOffset, bodyLength);
      IoUtil.writeFully(plaintextOut, ByteBuffer.wrap(body, bodyOffset, bodyLength));
      plaintextLength += bodyLength;
      position += recordLength;
      counter++;
    }

    int finalLength = readRecordLength(envelope, record, position, counter);
    if (finalLength != FINAL_RECORD_CIPHERTEXT_BYTES) {
      throw new EnvelopeException(Reason.BAD_RECORD_LENGTH, "final record at offset " + position + " declares "
          + finalLength + " bytes, expected " + FINAL_RECORD_CIPHERTEXT_BYTES);
    }
    readRecordBody(envelope, record, finalLength, position, counter);
    pieceDigest.update(record, 0, FINAL_RECORD_BYTES);
    finishDigest(pieceDigest, digest);
    fingerprint.addPieceDigest(digest);
    int metaLength = cipher.decrypt(counter, true, record, RECORD_LENGTH_FIELD_BYTES, finalLength, plain, 0);
    if (metaLength < 0) {
      boolean dataChunk = cipher.decrypt(counter, false, record, RECORD_LENGTH_FIELD_BYTES, finalLength, plain, 0) >= 0;
      throw new EnvelopeException(dataChunk ? Reason.MISSING_FINAL_CHUNK : Reason.BAD_CHUNK_TAG,
          "final chunk " + counter + " at offset " + position
              + (dataChunk ? " is a data chunk: the envelope was cut short" : " does not authenticate"));
    }
    if (envelope.read(ByteBuffer.wrap(digest, 0, 1)) > 0) {
      throw new EnvelopeException(Reason.TRAILING_DATA,
          "bytes follow the final chunk at offset " + header.envelopeLengthBytes());
    }
    InnerMetadata metadata = MetadataCodec.decode(plain, metaLength);
    if (metadata.plaintextLengthBytes() != plaintextLength) {
      throw new EnvelopeException(Reason.PLAINTEXT_MISMATCH, "metadata says " + metadata.plaintextLengthBytes()
          + " plaintext bytes, the chunks held " + plaintextLength);
    }
    Fingerprint actual = fingerprint.finish();
    if (expected != null && !expected.equals(actual)) {
      throw new EnvelopeException(Reason.FINGERPRINT_MISMATCH,
          "fingerprint is " + actual + ", expected " + expected);
    }
    return new OpenResult(actual, header, metadata, plaintextSha.digest());
  }

  /** Finishes a piece digest into a reused buffer: no allocation per chunk. */
  private static void finishDigest(MessageDigest md, byte[] out) {
    try {
      md.digest(out, 0, 32);
    } catch (java.security.DigestException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int readRecordLength(ReadableByteChannel in, byte[] record, long position, long counter)
      throws IOException {
    ByteBuffer b = ByteBuffer.wrap(record, 0, RECORD_LENGTH_FIELD_BYTES);
    int got = IoUtil.readFully(in, b);
    if (got == 0) {
      throw new EnvelopeException(Reason.MISSING_FINAL_CHUNK, "stream ended at offset " + position
          + (counter == 0 ? " after the header" : " after chunk " + (counter - 1)) + ", before the final chunk");
    }
    if (got < RECORD_LENGTH_FIELD_BYTES) {
      throw new EnvelopeException(Reason.TRUNCATED, "stream ended at offset " + (position + got)
          + ", inside the length field of record " + counter);
    }
    return ((record[0] & 0xff) << 24) | ((record[1] & 0xff) << 16) | ((record[2] & 0xff) << 8) | (record[3] & 0xff);
  }

  private static void readRecordBody(ReadableByteChannel in, byte[] record, int length, long position,
      long counter) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(record, RECORD_LENGTH_FIELD_BYTES, length);
    int got = IoUtil.readFully(in, b);
    if (got < length) {
      throw new EnvelopeException(Reason.TRUNCATED, "stream ended at offset "
          + (position + RECORD_LENGTH_FIELD_BYTES + got) + ", inside record " + counter + " (" + length + " bytes)");
    }
  }
}
