package io.crowdbackup.engine.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The tus 1.0 resumable-upload subset the protocol speaks (core, creation, expiration, termination,
 * checksum with sha256): header names, and parsers and formatters for its header values. Each parser takes
 * the raw header value a peer sent (or {@code null} when absent) and either returns a checked value or
 * throws a {@link ProtocolException} naming the header. Bounds are fixed here, so a header can never make
 * the parser allocate more than {@link #MAX_METADATA_CHARS} characters' worth.
 */
public final class Tus {
  public static final String VERSION = "1.0.0";
  public static final String EXTENSIONS = "creation,creation-with-upload,expiration,termination,checksum";
  public static final String CHECKSUM_ALGORITHMS = "sha256";
  /** The media type of a PATCH body. */
  public static final String OFFSET_OCTET_STREAM = "application/offset+octet-stream";

  public static final String TUS_RESUMABLE = "Tus-Resumable";
  public static final String TUS_VERSION = "Tus-Version";
  public static final String TUS_EXTENSION = "Tus-Extension";
  public static final String TUS_MAX_SIZE = "Tus-Max-Size";
  public static final String TUS_CHECKSUM_ALGORITHM = "Tus-Checksum-Algorithm";
  public static final String UPLOAD_OFFSET = "Upload-Offset";
  public static final String UPLOAD_LENGTH = "Upload-Length";
  public static final String UPLOAD_METADATA = "Upload-Metadata";
  public static final String UPLOAD_EXPIRES = "Upload-Expires";
  public static final String UPLOAD_CHECKSUM = "Upload-Checksum";

  /** tus's status for a PATCH whose {@code Upload-Checksum} does not match its body. */
  public static final int STATUS_CHECKSUM_MISMATCH = 460;

  /** Bound on an {@code Upload-Metadata} value, characters. */
  public static final int MAX_METADATA_CHARS = 4096;
  /** Bound on the number of metadata pairs. */
  public static final int MAX_METADATA_PAIRS = 32;
  /** Bound on a metadata key, characters. */
  public static final int MAX_METADATA_KEY_CHARS = 64;

  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

  private Tus() {}

  /**
   * Checks {@code Tus-Resumable}: required on every request but OPTIONS, and it must be {@value #VERSION}.
   *
   * @throws ProtocolException UNSUPPORTED_VERSION (answered 412 with {@code Tus-Version})
   */
  public static void requireResumable(@Nullable String value) throws ProtocolException {
    if (value == null) {
      throw new ProtocolException(ProtocolException.Reason.UNSUPPORTED_VERSION, TUS_RESUMABLE,
          "is missing; this server speaks tus " + VERSION);
    }
    if (!VERSION.equals(value.trim())) {
      throw new ProtocolException(ProtocolException.Reason.UNSUPPORTED_VERSION, TUS_RESUMABLE,
          "is '" + printable(value) + "'; this server speaks tus " + VERSION);
    }
  }

  /** A required non-negative decimal integer header ({@code Upload-Offset}, {@code Upload-Length}). */
  public static long parseNonNegative(String header, @Nullable String value) throws ProtocolException {
    if (value == null) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, header, "is missing");
    }
    String v = value.trim();
    if (v.isEmpty() || v.length() > 19) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, header,
          "must be 1..19 decimal digits but is '" + printable(value) + "'");
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, header,
            "must be a non-negative decimal integer but is '" + printable(value) + "'");
      }
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, header, "is beyond the 64-bit range");
    }
  }

  /**
   * Parses {@code Upload-Metadata}: comma-separated pairs of a key and an optional base64 value, separated
   * by one space. Keys are unique, ASCII, without spaces or commas. Values decode as UTF-8 text.
   *
   * @return the pairs in order; a key without a value maps to {@code ""}
   */
  public static Map<String, String> parseMetadata(@Nullable String value) throws ProtocolException {
    if (value == null || value.isEmpty()) {
      return Collections.emptyMap();
    }
    if (value.length() > MAX_METADATA_CHARS) {
      throw new ProtocolException(ProtocolException.Reason.TOO_LARGE, UPLOAD_METADATA,
          "is " + value.length() + " characters, at most " + MAX_METADATA_CHARS + " allowed");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : value.split(",", -1)) {
      String p = pair.trim();
      if (p.isEmpty()) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, UPLOAD_METADATA, "has an empty pair");
      }
      int space = p.indexOf(' ');
      String key = space < 0 ? p : p.substring(0, space);
      String encoded = space < 0 ? "" : p.substring(space + 1);
      if (key.isEmpty() || key.length() > MAX_METADATA_KEY_CHARS) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, UPLOAD_METADATA,
            "key must be 1.." + MAX_METADATA_KEY_CHARS + " characters");
      }
      for (int i = 0; i < key.length(); i++) {
        char c = key.charAt(i);
        if (c <= 0x20 || c >= 0x7f) {
          throw new ProtocolException(ProtocolException.Reason.MALFORMED, UPLOAD_METADATA,
              "key '" + printable(key) + "' has a character outside printable ASCII");
        }
      }
      if (encoded.indexOf(' ') >= 0) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, UPLOAD_METADATA,
            "value of '" + key + "' has more than one part");
      }
      if (out.containsKey(key)) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, UPLOAD_METADATA,
            "key '" + key + "' appears twice");
      }
      if (out.size() == MAX_METADATA_PAIRS) {
        throw new ProtocolException(ProtocolException.Reason.TOO_LARGE, UPLOAD_METADATA,
            "has more than " + MAX_METADATA_PAIRS + " pairs");
      }
      out.put(key, encoded.isEmpty() ? "" : decodeText(encoded, UPLOAD_METADATA + " value of '" + key + "'"));
    }
    return Collections.unmodifiableMap(out);
  }

  /** Formats {@code Upload-Metadata} from pairs (keys as {@link #parseMetadata} allows them). */
  public static String formatMetadata(Map<String, String> pairs) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : pairs.entrySet()) {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(e.getKey());
      if (!e.getValue().isEmpty()) {
        sb.append(' ').append(Base64.getEncoder().encodeToString(e.getValue().getBytes(StandardCharsets.UTF_8)));
      }
    }
    return sb.toString();
  }

  /**
   * Parses {@code Upload-Checksum}: {@code "sha256 <base64 of 32 bytes>"}.
   *
   * @return the 32-byte digest, or {@code null} when the header is absent
   * @throws ProtocolException MALFORMED, or UNSUPPORTED_VERSION for another algorithm (answered 400 with
   *     the supported list, as tus asks)
   */
  public static byte @Nullable [] parseChecksum(@Nullable String value) throws ProtocolException {
    if (value == null) {
      return null;
    }
    String v = value.trim();
    int space = v.indexOf(' ');
    if (space < 0 || v.length() > 128) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, UPLOAD_CHECKSUM,
          "must be '<algorithm> <base64 digest>' but is '" + printable(value) + "'");
    }
    String algorithm = v.substring(0, space);
    if (!CHECKSUM_ALGORITHMS.equals(algorithm)) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, UPLOAD_CHECKSUM,
          "algorithm '" + printable(algorithm) + "' is not supported; use " + CHECKSUM_ALGORITHMS);
    }
    byte[] digest;
    try {
      digest = Base64.getDecoder().decode(v.substring(space + 1));
    } catch (IllegalArgumentException e) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, UPLOAD_CHECKSUM, "digest is not base64");
    }
    if (digest.length != 32) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, UPLOAD_CHECKSUM,
          "sha256 digest is " + digest.length + " bytes, expected 32");
    }
    return digest;
  }

  /** {@code Upload-Checksum} for a body with this SHA-256 digest. */
  public static String formatChecksum(byte[] sha256) {
    return CHECKSUM_ALGORITHMS + " " + Base64.getEncoder().encodeToString(sha256);
  }

  /** An HTTP date (IMF-fixdate, RFC 9110) for {@code Upload-Expires}. */
  public static String formatHttpDate(long epochSecond) {
    return HTTP_DATE.format(Instant.ofEpochSecond(epochSecond));
  }

  /** Base64 (standard alphabet, padded or not) of UTF-8 text. */
  static String decodeText(String base64, String what) throws ProtocolException {
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, what, "is not base64");
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, what, "is not UTF-8 text");
    }
  }

  /**
   * A peer's value, cut short and with control characters and lone surrogates replaced, for an error
   * message: it goes back to the peer in a problem document, which must stay well-formed UTF-8.
   */
  static String printable(String s) {
    int end = Math.min(s.length(), 80);
    if (end < s.length() && Character.isHighSurrogate(s.charAt(end - 1))) {
      end--; // never cut a surrogate pair in two
    }
    StringBuilder sb = new StringBuilder(end + 3);
    for (int i = 0; i < end; i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1))) {
        sb.append(c).append(s.charAt(++i));
      } else {
        sb.append(c < 0x20 || c == 0x7f || Character.isSurrogate(c) ? '?' : c);
      }
    }
    return end < s.length() ? sb.append("...").toString() : sb.toString();
  }
}
