package io.crowdbackup.engine.protocol;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.UploadRequest;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An offer on the wire: the body of {@code POST /v1/offers}, or the {@code Upload-Metadata} of a tus
 * creation (whose {@code Upload-Length} is the length). Times are integer epoch seconds (UTC), never
 * ISO strings: one form, no time-zone parsing on a phone. Immutable.
 *
 * <p>{@code peer} is the label the source gives itself. It is shown and logged, never trusted: who the
 * peer is, for shares and bandwidth, is the holder's decision from what it observes
 * ({@code docs/decisions/0005-peer-identity.md}).
 */
public final class OfferMessage {
  public static final String FINGERPRINT = "fingerprint";
  public static final String LENGTH_BYTES = "lengthBytes";
  public static final String EXPIRES = "expiresAtEpochSecond";
  public static final String PEER = "peer";
  public static final String REQUIRE_FULL_RETENTION = "requireFullRetention";
  /** Bound on the peer label, UTF-8 bytes (the store's bound on a peer name). */
  public static final int MAX_PEER_BYTES = UploadRequest.MAX_PEER_BYTES;
  /** The latest expiry accepted on the wire: year 9999, so that any date formatting stays sane. */
  public static final long MAX_EPOCH_SECOND = 253_402_300_799L;
  /** The JSON bound of an offer: a few hundred bytes in practice. */
  static final Json.Limits LIMITS = Json.Limits.of(4096, 1, 1024, 16);

  private final Fingerprint fingerprint;
  private final long lengthBytes;
  private final long expiresAtEpochSecond;
  private final @Nullable String peer;
  private final boolean requireFullRetention;

  /**
   * @param peer the source's label for itself, 1..255 UTF-8 bytes, or {@code null} for none
   */
  public OfferMessage(Fingerprint fingerprint, long lengthBytes, long expiresAtEpochSecond, @Nullable String peer,
      boolean requireFullRetention) {
    this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    if (lengthBytes <= 0) {
      throw new IllegalArgumentException("lengthBytes must be positive but was " + lengthBytes);
    }
    if (expiresAtEpochSecond < 0 || expiresAtEpochSecond > MAX_EPOCH_SECOND) {
      throw new IllegalArgumentException("expiresAtEpochSecond must be in 0.." + MAX_EPOCH_SECOND + " but was "
          + expiresAtEpochSecond);
    }
    String bad = peer == null ? null : peerProblem(peer);
    if (bad != null) {
      // The same rule as decoding: a label the wire form would refuse is refused here, not by every holder.
      throw new IllegalArgumentException("peer " + bad);
    }
    this.lengthBytes = lengthBytes;
    this.expiresAtEpochSecond = expiresAtEpochSecond;
    this.peer = peer;
    this.requireFullRetention = requireFullRetention;
  }

  public Fingerprint fingerprint() {
    return fingerprint;
  }

  /** The exact envelope length, bytes. */
  public long lengthBytes() {
    return lengthBytes;
  }

  /** The envelope header's expiry, as the source states it. */
  public long expiresAtEpochSecond() {
    return expiresAtEpochSecond;
  }

  /** The source's own label, or {@code null}. */
  public @Nullable String peer() {
    return peer;
  }

  public boolean requireFullRetention() {
    return requireFullRetention;
  }

  /** This offer with another expiry: taking a counter-offer. */
  public OfferMessage withExpiresAtEpochSecond(long epochSecond) {
    return new OfferMessage(fingerprint, lengthBytes, epochSecond, peer, requireFullRetention);
  }

  /** The JSON body of {@code POST /v1/offers}. */
  public byte[] encode() {
    Json.Writer w = Json.object().put(FINGERPRINT, fingerprint.toHex()).put(LENGTH_BYTES, lengthBytes)
        .put(EXPIRES, expiresAtEpochSecond).put(PEER, peer);
    if (requireFullRetention) {
      w.put(REQUIRE_FULL_RETENTION, true);
    }
    return w.toBytes();
  }

  /** Parses the JSON body of {@code POST /v1/offers}; unknown members are ignored. */
  public static OfferMessage decode(byte[] json) throws ProtocolException {
    Json.Obj o = Json.parseObject(json, "offer JSON", LIMITS);
    return new OfferMessage(fingerprint(o.string(FINGERPRINT), "offer JSON member 'fingerprint'"),
        o.integer(LENGTH_BYTES, 1, Long.MAX_VALUE), o.integer(EXPIRES, 0, MAX_EPOCH_SECOND),
        peer(o.optString(PEER), "offer JSON member 'peer'"), o.optBoolean(REQUIRE_FULL_RETENTION, false));
  }

  /** The {@code Upload-Metadata} pairs of a tus creation carrying this offer. */
  public Map<String, String> toTusMetadata() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(FINGERPRINT, fingerprint.toHex());
    m.put(EXPIRES, Long.toString(expiresAtEpochSecond));
    if (peer != null) {
      m.put(PEER, peer);
    }
    if (requireFullRetention) {
      m.put(REQUIRE_FULL_RETENTION, "true");
    }
    return m;
  }

  /**
   * The offer a tus creation makes: its parsed {@code Upload-Metadata} and {@code Upload-Length}. Other
   * metadata keys (a stock client's {@code filename}) are ignored.
   */
  public static OfferMessage fromTus(Map<String, String> metadata, long uploadLength) throws ProtocolException {
    String fp = metadata.get(FINGERPRINT);
    String exp = metadata.get(EXPIRES);
    if (fp == null || exp == null) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, Tus.UPLOAD_METADATA,
          "must carry '" + FINGERPRINT + "' and '" + EXPIRES + "'");
    }
    if (uploadLength <= 0) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, Tus.UPLOAD_LENGTH,
          "must be positive but is " + uploadLength);
    }
    long expires = Tus.parseNonNegative(Tus.UPLOAD_METADATA + " value of '" + EXPIRES + "'", exp);
    if (expires > MAX_EPOCH_SECOND) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, Tus.UPLOAD_METADATA,
          "'" + EXPIRES + "' is " + expires + ", at most " + MAX_EPOCH_SECOND);
    }
    String full = metadata.getOrDefault(REQUIRE_FULL_RETENTION, "false");
    if (!full.equals("true") && !full.equals("false")) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, Tus.UPLOAD_METADATA,
          "'" + REQUIRE_FULL_RETENTION + "' must be true or false");
    }
    return new OfferMessage(fingerprint(fp, Tus.UPLOAD_METADATA + " value of '" + FINGERPRINT + "'"),
        uploadLength, expires, peer(metadata.get(PEER), Tus.UPLOAD_METADATA + " value of '" + PEER + "'"),
        full.equals("true"));
  }

  /** Parses 64 hex digits, as a protocol error rather than an argument error. */
  public static Fingerprint fingerprint(String hex, String what) throws ProtocolException {
    if (hex.length() != 64) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, what,
          "must be 64 hex digits but has " + hex.length() + " characters");
    }
    for (int i = 0; i < 64; i++) {
      if (!isAsciiHex(hex.charAt(i))) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, what, "must be 64 hex digits");
      }
    }
    return Fingerprint.fromHex(hex);
  }

  /** {@code [0-9a-fA-F]} only: {@link Character#digit} also takes fullwidth and other Unicode digits. */
  static boolean isAsciiHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  private static @Nullable String peer(@Nullable String peer, String what) throws ProtocolException {
    String bad = peer == null ? null : peerProblem(peer);
    if (bad != null) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, what, bad);
    }
    return peer;
  }

  /** What is wrong with a peer label (1..255 UTF-8 bytes, no control character, no lone surrogate), or null. */
  private static @Nullable String peerProblem(String peer) {
    for (int i = 0; i < peer.length(); i++) {
      char c = peer.charAt(i);
      if (Character.isISOControl(c)) {
        return "has a control character";
      }
      if (Character.isHighSurrogate(c) && i + 1 < peer.length() && Character.isLowSurrogate(peer.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return "has a lone surrogate (not UTF-8 text)";
      }
    }
    int n = peer.getBytes(StandardCharsets.UTF_8).length;
    return n == 0 || n > MAX_PEER_BYTES ? "must be 1.." + MAX_PEER_BYTES + " UTF-8 bytes but is " + n : null;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof OfferMessage)) {
      return false;
    }
    OfferMessage m = (OfferMessage) o;
    return fingerprint.equals(m.fingerprint) && lengthBytes == m.lengthBytes
        && expiresAtEpochSecond == m.expiresAtEpochSecond && Objects.equals(peer, m.peer)
        && requireFullRetention == m.requireFullRetention;
  }

  @Override
  public int hashCode() {
    return Objects.hash(fingerprint, lengthBytes, expiresAtEpochSecond, peer, requireFullRetention);
  }

  @Override
  public String toString() {
    return "OfferMessage{" + fingerprint + ", " + lengthBytes + " bytes, expires " + expiresAtEpochSecond
        + (peer == null ? "" : ", peer '" + peer + "'") + (requireFullRetention ? ", full retention" : "") + "}";
  }
}
