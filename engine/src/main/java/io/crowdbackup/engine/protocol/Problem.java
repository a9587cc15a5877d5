package io.crowdbackup.engine.protocol;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.policy.Refusal;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An RFC 9457 problem detail ({@code application/problem+json}): what every refusal and error of the
 * protocol looks like on the wire. {@code type} is a stable URN per reason ({@link Type}); {@code reason}
 * repeats it as an enum name for code that switches on it; the numbers a peer needs to act (bytes free,
 * the acceptable expiry, the durable offset, a stored receipt) are extension members. A problem never
 * carries a local path or anything else about the holder beyond those numbers. Immutable.
 */
public final class Problem {
  public static final String MEDIA_TYPE = "application/problem+json";
  /** Prefix of every problem type of this protocol. */
  public static final String TYPE_PREFIX = "urn:crowdbackup:problem:";

  /** Every problem type, with its HTTP status. The refusal types share their names with {@link Refusal.Reason}. */
  public enum Type {
    QUOTA_FULL(507, "The holder's storage for others is full"),
    PEER_SHARE_EXCEEDED(507, "This peer already uses its share of the holder's storage"),
    TOO_LARGE(413, "The envelope is larger than this holder accepts"),
    /** The counter-offer: accepted with an expiry no later than {@code counterOfferExpiresAtEpochSecond}. */
    TTL_TOO_LONG(409, "Counter-offer: the holder keeps envelopes for a shorter time"),
    EXPIRED(422, "The envelope has expired"),
    ALREADY_HELD(409, "The holder already holds this envelope"),
    UPLOAD_IN_PROGRESS(409, "An upload of this envelope is in progress"),
    /** At a holder: it saw a valid receipt. At a destination: with the stored {@code receipt}. */
    ALREADY_DELIVERED(409, "The envelope was already delivered"),
    FINGERPRINT_MISMATCH(422, "The bytes do not hash to the fingerprint offered"),
    MALFORMED(400, "The offer or the envelope is malformed"),
    NOT_ACCEPTING(503, "The holder is not accepting envelopes now"),
    /** The request broke the protocol's grammar or bounds (a header, the JSON body). */
    BAD_REQUEST(400, "The request is malformed"),
    UNSUPPORTED_VERSION(412, "Unsupported protocol version"),
    NOT_FOUND(404, "No such resource"),
    METHOD_NOT_ALLOWED(405, "Method not allowed"),
    UNSUPPORTED_MEDIA_TYPE(415, "Unsupported media type"),
    /** {@code Upload-Offset} is not where the upload continues; {@code uploadOffset} says where it does. */
    OFFSET_MISMATCH(409, "Upload-Offset does not match the upload"),
    /** More bytes than {@code Upload-Length} declared; the upload was ended and nothing kept. */
    UPLOAD_TOO_LONG(413, "More bytes than the upload declared"),
    CHECKSUM_MISMATCH(Tus.STATUS_CHECKSUM_MISMATCH, "Upload-Checksum does not match the body"),
    /** Another request is writing this upload right now. */
    UPLOAD_BUSY(423, "The upload is busy with another request"),
    /** A receipt or release did not verify; {@code receiptReason} says why. The blob stays. */
    RECEIPT_REFUSED(422, "The receipt or release was refused"),
    /** The destination could not open the envelope; {@code envelopeReason} says why. Nothing was kept. */
    ENVELOPE_REJECTED(422, "The envelope was rejected"),
    /** This side failed (disk, I/O); the request may be retried later, see Retry-After. */
    UNAVAILABLE(503, "Temporarily unavailable");

    private final int status;
    private final String title;

    Type(int status, String title) {
      this.status = status;
      this.title = title;
    }

    public int status() {
      return status;
    }

    public String title() {
      return title;
    }

    /** {@code urn:crowdbackup:problem:} and the name in lower kebab case. */
    public String uri() {
      return TYPE_PREFIX + name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The type for a URI, or {@code null} for one this version does not know. */
    public static @Nullable Type ofUri(@Nullable String uri) {
      if (uri == null || !uri.startsWith(TYPE_PREFIX)) {
        return null;
      }
      String name = uri.substring(TYPE_PREFIX.length()).toUpperCase(Locale.ROOT).replace('-', '_');
      for (Type t : values()) {
        if (t.name().equals(name)) {
          return t;
        }
      }
      return null;
    }

    static Type of(Refusal.Reason r) {
      return valueOf(r.name());
    }
  }

  // Extension members this protocol defines.
  public static final String REASON = "reason";
  public static final String BYTES_FREE = "bytesFree";
  public static final String ACCEPTABLE_BYTES = "acceptableBytes";
  public static final String LONGEST_RETENTION_SECONDS = "longestRetentionSeconds";
  public static final String COUNTER_OFFER_EXPIRES = "counterOfferExpiresAtEpochSecond";
  public static final String UPLOAD_OFFSET = "uploadOffset";
  public static final String RECEIPT = "receipt";
  public static final String RECEIPT_REASON = "receiptReason";
  public static final String ENVELOPE_REASON = "envelopeReason";

  private final String type;
  private final int status;
  private final String title;
  private final String detail;
  private final Map<String, Object> extensions;

  private Problem(String type, int status, String title, String detail, Map<String, Object> extensions) {
    this.type = type;
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.extensions = Collections.unmodifiableMap(extensions);
  }

  /** A problem of a known type; {@code reason} is set to the type's name. */
  public static Problem of(Type type, String detail) {
    Map<String, Object> ext = new LinkedHashMap<>();
    ext.put(REASON, type.name());
    return new Problem(type.uri(), type.status(), type.title(), Objects.requireNonNull(detail, "detail"), ext);
  }

  /**
   * The wire form of bytes that are not the envelope offered, at a holder or a destination:
   * {@code fingerprint-mismatch} or {@code envelope-rejected}, with {@code envelopeReason}. Nothing was kept.
   */
  public static Problem of(EnvelopeException e) {
    Type t = e.reason() == EnvelopeException.Reason.FINGERPRINT_MISMATCH
        ? Type.FINGERPRINT_MISMATCH : Type.ENVELOPE_REJECTED;
    return of(t, "the envelope was rejected: " + peerSafe(e.getMessage()) + "; nothing was kept")
        .with(ENVELOPE_REASON, e.reason().name());
  }

  /** The wire form of a holder's refusal, with every number it carries. */
  public static Problem of(Refusal r) {
    Type t = Type.of(r.reason());
    Map<String, Object> ext = new LinkedHashMap<>();
    ext.put(REASON, t.name());
    putIfSet(ext, BYTES_FREE, r.bytesFree());
    putIfSet(ext, ACCEPTABLE_BYTES, r.acceptableBytes());
    putIfSet(ext, LONGEST_RETENTION_SECONDS, r.longestRetentionSeconds());
    putIfSet(ext, COUNTER_OFFER_EXPIRES, r.counterOfferExpiresAtEpochSecond());
    return new Problem(t.uri(), t.status(), t.title(), peerSafe(r.message()), ext);
  }

  private static final java.util.regex.Pattern LOCAL_PATH = java.util.regex.Pattern.compile(
      "\\[[^\\]]*[/\\\\][^\\]]*\\]|(?<![\\w.])(?:[A-Za-z]:)?[/\\\\][^\\s\\]\\[,;'\"]*[/\\\\][^\\s\\]\\[,;'\"]*");

  /**
   * {@code message} without anything that looks like a local file path ({@code [/x/y]} or {@code /x/y}),
   * which the store's messages carry for the operator: a peer learns the reason and numbers, never where
   * this device keeps things.
   */
  public static String peerSafe(String message) {
    return LOCAL_PATH.matcher(message).replaceAll("(local file)");
  }

  private static void putIfSet(Map<String, Object> ext, String name, long v) {
    if (v != Refusal.NOT_APPLICABLE) {
      ext.put(name, v);
    }
  }

  /** This problem with one more extension member (a String or a Long). */
  public Problem with(String name, Object value) {
    if (!(value instanceof String) && !(value instanceof Long)) {
      throw new IllegalArgumentException("extension '" + name + "' must be a String or a Long, was " + value);
    }
    Map<String, Object> ext = new LinkedHashMap<>(extensions);
    ext.put(name, value);
    return new Problem(type, status, title, detail, ext);
  }

  /** This problem with one more integer extension member. */
  public Problem with(String name, long value) {
    return with(name, (Object) value);
  }

  public String type() {
    return type;
  }

  /** The known type, or {@code null} for a type this version does not know (treat as its status says). */
  public @Nullable Type knownType() {
    return Type.ofUri(type);
  }

  public int status() {
    return status;
  }

  public String title() {
    return title;
  }

  public String detail() {
    return detail;
  }

  public Map<String, Object> extensions() {
    return extensions;
  }

  /** An integer extension member, or {@code fallback}. */
  public long number(String name, long fallback) {
    Object v = extensions.get(name);
    return v instanceof Long ? (Long) v : fallback;
  }

  /** A string extension member, or {@code null}. */
  public @Nullable String text(String name) {
    Object v = extensions.get(name);
    return v instanceof String ? (String) v : null;
  }

  /**
   * The refusal this problem carries, or {@code null} when it is not one of a holder's refusal types.
   * The numbers a peer needs survive the round trip.
   *
   * @throws ProtocolException MALFORMED when a number the refusal carries is out of its range (a negative
   *     byte count or retention, an expiry outside 0..{@value OfferMessage#MAX_EPOCH_SECOND}), or is not an
   *     integer: a peer's bad numbers are refused here rather than acted on
   */
  public @Nullable Refusal toRefusal() throws ProtocolException {
    Type t = knownType();
    if (t == null) {
      return null;
    }
    Refusal.Reason reason;
    try {
      reason = Refusal.Reason.valueOf(t.name());
    } catch (IllegalArgumentException e) {
      return null;
    }
    long free = refusalNumber(BYTES_FREE, Long.MAX_VALUE);
    long acceptable = refusalNumber(ACCEPTABLE_BYTES, Long.MAX_VALUE);
    long longest = refusalNumber(LONGEST_RETENTION_SECONDS, Long.MAX_VALUE);
    long counter = refusalNumber(COUNTER_OFFER_EXPIRES, OfferMessage.MAX_EPOCH_SECOND);
    if (free != Refusal.NOT_APPLICABLE || acceptable != Refusal.NOT_APPLICABLE) {
      return Refusal.ofSpace(reason, detail, free, acceptable);
    }
    if (longest != Refusal.NOT_APPLICABLE || counter != Refusal.NOT_APPLICABLE) {
      return Refusal.ofTime(reason, detail, longest, counter);
    }
    return Refusal.of(reason, detail);
  }

  /**
   * A refusal's number: absent is {@link Refusal#NOT_APPLICABLE}; present, an integer in 0..{@code max}.
   * (The sentinel itself on the wire is refused: it would read as "absent".)
   */
  private long refusalNumber(String name, long max) throws ProtocolException {
    Object v = extensions.get(name);
    if (v == null) {
      return Refusal.NOT_APPLICABLE;
    }
    if (!(v instanceof Long) || (Long) v < 0 || (Long) v > max) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, "problem member '" + name + "'",
          "must be an integer in 0.." + max + " but was " + (v instanceof String ? "the string " : "") + v);
    }
    return (Long) v;
  }

  /** The {@code application/problem+json} body. */
  public byte[] encode() {
    Json.Writer w = Json.object().put("type", type).put("title", title);
    if (status != 0) {
      w.put("status", status); // 0: a decoded problem without one; 0 is not a status decode accepts
    }
    w.put("detail", detail);
    for (Map.Entry<String, Object> e : extensions.entrySet()) {
      if (e.getValue() instanceof Long) {
        w.put(e.getKey(), (Long) e.getValue());
      } else {
        w.put(e.getKey(), (String) e.getValue());
      }
    }
    return w.toBytes();
  }

  /**
   * Parses a problem body (strict, bounded). Unknown string and integer members are kept; members of other
   * kinds are ignored, as RFC 9457 asks of extensions a client does not know.
   */
  public static Problem decode(byte[] body) throws ProtocolException {
    Json.Obj o = Json.parseObject(body, "problem JSON");
    String type = o.optString("type", "about:blank");
    int status = (int) o.optInteger("status", 100, 599, 0);
    String title = o.optString("title", "");
    String detail = o.optString("detail", "");
    Map<String, Object> ext = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : o.members().entrySet()) {
      String k = e.getKey();
      if (k.equals("type") || k.equals("status") || k.equals("title") || k.equals("detail")) {
        continue;
      }
      if (e.getValue() instanceof String || e.getValue() instanceof Long) {
        ext.put(k, e.getValue());
      }
    }
    return new Problem(type, status, title, detail, ext);
  }

  @Override
  public String toString() {
    return "Problem{" + type + " " + status + ": " + detail + (extensions.isEmpty() ? "" : " " + extensions) + "}";
  }
}
