package io.crowdbackup.engine.protocol;

import io.crowdbackup.api.Fingerprint;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The batch question a forwarder asks a destination before sending anything ({@code POST
 * /v1/deliveries/query}): "which of these fingerprints do you have?", and its answer: the delivered ones,
 * each with its stored receipt (the 143-byte wire form, base64). A fingerprint not in the answer is not
 * delivered there. At most {@link #MAX_FINGERPRINTS} per request.
 */
public final class DeliveryQuery {
  public static final int MAX_FINGERPRINTS = 1000;
  /** 1000 entries of ~270 bytes each fit. */
  static final Json.Limits LIMITS = Json.Limits.of(512 * 1024, 3, 256, MAX_FINGERPRINTS);

  private DeliveryQuery() {}

  /** The request body. */
  public static byte[] encodeRequest(List<Fingerprint> fingerprints) {
    if (fingerprints.size() > MAX_FINGERPRINTS) {
      throw new IllegalArgumentException("at most " + MAX_FINGERPRINTS + " fingerprints per query, got "
          + fingerprints.size());
    }
    List<String> hex = new ArrayList<>(fingerprints.size());
    for (Fingerprint f : fingerprints) {
      hex.add(f.toHex());
    }
    return Json.object().putStrings("fingerprints", hex).toBytes();
  }

  /** Parses a request body; duplicates collapse, order is kept. */
  public static List<Fingerprint> decodeRequest(byte[] json) throws ProtocolException {
    Json.Obj o = Json.parseObject(json, "delivery query JSON", LIMITS);
    LinkedHashSet<Fingerprint> out = new LinkedHashSet<>();
    for (Object v : o.array("fingerprints")) {
      if (!(v instanceof String)) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, "delivery query JSON member 'fingerprints'",
            "holds " + Json.kindOf(v) + ", expected fingerprint strings");
      }
      out.add(OfferMessage.fingerprint((String) v, "delivery query fingerprint"));
    }
    return new ArrayList<>(out);
  }

  /** The answer body: each delivered fingerprint with its receipt bytes. */
  public static byte[] encodeResponse(Map<Fingerprint, byte[]> delivered) {
    List<Json.Writer> entries = new ArrayList<>(delivered.size());
    for (Map.Entry<Fingerprint, byte[]> e : delivered.entrySet()) {
      entries.add(Json.object().put("fingerprint", e.getKey().toHex())
          .put("receipt", Base64.getEncoder().encodeToString(e.getValue())));
    }
    return Json.object().putObjects("deliveries", entries).toBytes();
  }

  /**
   * Parses an answer. The receipts are only bytes here: the caller verifies each against the header of
   * the envelope it holds before believing it.
   */
  public static Map<Fingerprint, byte[]> decodeResponse(byte[] json) throws ProtocolException {
    Json.Obj o = Json.parseObject(json, "delivery query answer JSON", LIMITS);
    Map<Fingerprint, byte[]> out = new LinkedHashMap<>();
    for (Object v : o.array("deliveries")) {
      if (!(v instanceof Json.Obj)) {
        throw new ProtocolException(ProtocolException.Reason.MALFORMED, "delivery query answer JSON",
            "'deliveries' holds " + Json.kindOf(v) + ", expected objects");
      }
      Json.Obj d = (Json.Obj) v;
      Fingerprint fp = OfferMessage.fingerprint(d.string("fingerprint"), "delivery query answer fingerprint");
      out.put(fp, decodeReceipt(d.string("receipt"), "delivery query answer receipt of " + fp));
    }
    return Collections.unmodifiableMap(out);
  }

  /** Base64 of a receipt, bounded to the receipt's size before decoding. */
  public static byte[] decodeReceipt(String base64, String what) throws ProtocolException {
    if (base64.length() > 256) {
      throw new ProtocolException(ProtocolException.Reason.TOO_LARGE, what,
          "is " + base64.length() + " characters, a receipt is 192");
    }
    try {
      return Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new ProtocolException(ProtocolException.Reason.MALFORMED, what, "is not base64");
    }
  }
}
