package io.crowdbackup.s3;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.engine.receipt.Receipts;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One delivery's record object, {@code <prefix>deliveries/<fingerprint hex>}: the commit point of a
 * delivery (the content object means nothing without it). UTF-8 text, one {@code name value} per line, in
 * this order, every field required:
 *
 * <pre>
 * crowdbackup-s3-delivery 1
 * fingerprint &lt;64 hex digits, the envelope's fingerprint (also the key's last segment)&gt;
 * receipt &lt;base64 of the 143-byte signed receipt, returned byte for byte to every later delivery&gt;
 * content &lt;the content object's key in the bucket&gt;
 * size &lt;the delivered file's length in bytes, decimal&gt;
 * sha256 &lt;64 hex digits, the delivered file's SHA-256, computed by the opener while it wrote the file&gt;
 * name &lt;base64 of the UTF-8 file name the sender gave (unsanitised: it never becomes a path here)&gt;
 * media-type &lt;base64 of the UTF-8 media type the sender gave&gt;
 * </pre>
 *
 * A reader takes version 1 only and refuses anything else as {@link S3SinkException.Reason#DELIVERY_RECORD_CORRUPT}.
 */
final class DeliveryRecord {
  static final String MAGIC = "crowdbackup-s3-delivery";
  static final int VERSION = 1;
  /** Far above any record written (about 600 bytes with a 200-byte name): reading stops there. */
  static final int MAX_BYTES = 16 * 1024;
  private static final String[] FIELDS = {"fingerprint", "receipt", "content", "size", "sha256", "name", "media-type"};

  final Fingerprint fingerprint;
  private final byte[] receipt;
  final String contentKey;
  final long sizeBytes;
  private final byte[] sha256;
  final String name;
  final String mediaType;

  DeliveryRecord(Fingerprint fingerprint, byte[] receipt, String contentKey, long sizeBytes, byte[] sha256, String name,
      String mediaType) {
    this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    this.receipt = receipt.clone();
    this.contentKey = Objects.requireNonNull(contentKey, "contentKey");
    this.sizeBytes = sizeBytes;
    this.sha256 = sha256.clone();
    this.name = Objects.requireNonNull(name, "name");
    this.mediaType = Objects.requireNonNull(mediaType, "mediaType");
  }

  byte[] receipt() {
    return receipt.clone();
  }

  byte[] sha256() {
    return sha256.clone();
  }

  byte[] encode() {
    Base64.Encoder b64 = Base64.getEncoder();
    String text = MAGIC + " " + VERSION + "\n"
        + "fingerprint " + fingerprint.toHex() + "\n"
        + "receipt " + b64.encodeToString(receipt) + "\n"
        + "content " + contentKey + "\n"
        + "size " + sizeBytes + "\n"
        + "sha256 " + HexFormat.of().formatHex(sha256) + "\n"
        + "name " + b64.encodeToString(name.getBytes(StandardCharsets.UTF_8)) + "\n"
        + "media-type " + b64.encodeToString(mediaType.getBytes(StandardCharsets.UTF_8)) + "\n";
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Parses a record read from {@code object}, which must be the record of {@code expected}.
   *
   * @throws S3SinkException {@link S3SinkException.Reason#DELIVERY_RECORD_CORRUPT}, saying what is wrong
   */
  static DeliveryRecord decode(byte[] bytes, Fingerprint expected, String object) throws S3SinkException {
    try {
      String text = new String(bytes, StandardCharsets.UTF_8);
      String[] lines = text.split("\n", -1);
      if (lines.length != FIELDS.length + 2 || !lines[lines.length - 1].isEmpty()) {
        throw corrupt(object, "has " + (lines.length - 1) + " lines, expected " + (FIELDS.length + 1)
            + " ending in a newline (truncated?)");
      }
      if (!lines[0].startsWith(MAGIC + " ")) {
        throw corrupt(object, "does not start with \"" + MAGIC + "\"");
      }
      if (!lines[0].equals(MAGIC + " " + VERSION)) {
        throw corrupt(object, "is version \"" + lines[0].substring(MAGIC.length() + 1) + "\", this sink reads "
            + VERSION);
      }
      Map<String, String> v = new LinkedHashMap<>();
      for (int i = 0; i < FIELDS.length; i++) {
        String line = lines[i + 1];
        if (!line.startsWith(FIELDS[i] + " ")) {
          throw corrupt(object, "line " + (i + 2) + " is not '" + FIELDS[i] + " <value>'");
        }
        v.put(FIELDS[i], line.substring(FIELDS[i].length() + 1));
      }
      Fingerprint fp = Fingerprint.fromHex(v.get("fingerprint"));
      if (!fp.equals(expected)) {
        throw corrupt(object, "records fingerprint " + fp + ", expected " + expected);
      }
      Base64.Decoder b64 = Base64.getDecoder();
      byte[] receipt = b64.decode(v.get("receipt"));
      if (!Receipts.decode(receipt).fingerprint().equals(expected)) {
        throw corrupt(object, "holds a receipt for another fingerprint than " + expected);
      }
      long size = Long.parseLong(v.get("size"));
      if (size < 0) {
        throw corrupt(object, "records a negative size " + size);
      }
      byte[] sha = HexFormat.of().parseHex(v.get("sha256"));
      if (sha.length != 32) {
        throw corrupt(object, "records a SHA-256 of " + sha.length + " bytes, expected 32");
      }
      return new DeliveryRecord(fp, receipt, v.get("content"), size, sha,
          new String(b64.decode(v.get("name")), StandardCharsets.UTF_8),
          new String(b64.decode(v.get("media-type")), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | ReceiptException e) {
      throw corrupt(object, "has a bad value: " + e.getMessage());
    }
  }

  private static S3SinkException corrupt(String object, String message) {
    return new S3SinkException(S3SinkException.Reason.DELIVERY_RECORD_CORRUPT, object, "the delivery record " + message);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof DeliveryRecord)) {
      return false;
    }
    DeliveryRecord r = (DeliveryRecord) o;
    return fingerprint.equals(r.fingerprint) && Arrays.equals(receipt, r.receipt) && contentKey.equals(r.contentKey)
        && sizeBytes == r.sizeBytes && Arrays.equals(sha256, r.sha256) && name.equals(r.name)
        && mediaType.equals(r.mediaType);
  }

  @Override
  public int hashCode() {
    return fingerprint.hashCode();
  }
}
