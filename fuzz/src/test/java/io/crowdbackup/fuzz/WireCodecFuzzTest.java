package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.Contract.check;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.engine.protocol.DeliveryQuery;
import io.crowdbackup.engine.protocol.Json;
import io.crowdbackup.engine.protocol.OfferMessage;
import io.crowdbackup.engine.protocol.Problem;
import io.crowdbackup.engine.protocol.ProtocolException;
import io.crowdbackup.engine.protocol.Tus;
import io.crowdbackup.engine.protocol.UploadIds;
import io.crowdbackup.engine.receipt.Receipts;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The wire codecs of {@code io.crowdbackup.engine.protocol} ({@code docs/protocol.md}): everything a holder,
 * a destination or a source reads from a peer before any envelope byte — the strict JSON reader, the tus
 * headers, offers, problem documents, the delivery batch query and its answer, upload ids.
 *
 * <p>Contract of every target: the parser returns a value or throws a {@link ProtocolException} with a reason,
 * the element it read and a message that survives the trip back to the peer ({@link Contract#protocol});
 * nothing else escapes (an {@code IllegalArgumentException} from a value constructor, a
 * {@code NumberFormatException}, a {@code StackOverflowError} are findings); allocation is bounded by the
 * bytes supplied (2 MiB plus 64 bytes per input byte), never by a declared count or length. Where a writer
 * exists, what the reader accepts is written back and read again to the same value, and whatever the writer
 * writes the reader accepts.
 */
class WireCodecFuzzTest {
  private static final long BUDGET_FLOOR = 2 * Contract.MIB;
  /** The holder's upload-id secret in these targets: fixed, so the seeds hold genuine ids. */
  static final byte[] SECRET = new byte[UploadIds.SECRET_BYTES];

  static {
    Arrays.fill(SECRET, (byte) 0x5a);
  }

  private static long budget(int inputBytes) {
    return BUDGET_FLOOR + 64L * inputBytes;
  }

  // --- JSON -------------------------------------------------------------------------------------------

  /**
   * {@code flags | document}: flags bit 7 set parses under {@link Json.Limits#DEFAULT}, else under small
   * limits drawn from the other bits (depth 1-4, strings 1-57 chars, 1-13 entries, 4 KiB), so the bounds
   * are reached. An accepted document respects its limits; written back canonically it parses to the same
   * tree; every string in it goes through {@link Json.Writer} and reads back equal.
   */
  @FuzzTest
  void parseJson(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    int flags = input[0] & 0xff;
    Json.Limits limits = (flags & 0x80) != 0 ? Json.Limits.DEFAULT
        : Json.Limits.of(4096, 1 + (flags & 3), 1 + ((flags >> 2) & 7) * 8, 1 + ((flags >> 5) & 3) * 4);
    byte[] doc = Arrays.copyOfRange(input, 1, input.length);
    Contract.Outcome<Json.Obj> parsed = Contract.withinBudget("Json.parseObject", budget(doc.length),
        () -> Contract.protocol(() -> Json.parseObject(doc, "fuzzed JSON", limits)));
    if (!parsed.ok()) {
      check(parsed.rejection.getMessage().startsWith("fuzzed JSON"), "a JSON rejection does not name the document: "
          + parsed.rejection.getMessage());
      return;
    }
    check(doc.length <= limits.maxBytes(), "accepted " + doc.length + " bytes, limit " + limits.maxBytes());
    checkWithinLimits(parsed.value, 1, limits);
    byte[] again = canonical(parsed.value).getBytes(StandardCharsets.UTF_8);
    Json.Obj reparsed = Json.parseObject(again, "canonical JSON", Json.Limits.of(Integer.MAX_VALUE,
        limits.maxDepth(), limits.maxStringChars(), limits.maxMembers()));
    check(same(parsed.value, reparsed), "the canonical form parses to another tree: " + canonical(reparsed));
    forEachString(parsed.value, s -> {
      String back = Json.parseObject(Json.object().put("s", s).toBytes(), "written JSON").string("s");
      check(back.equals(s), "Json.Writer wrote " + Strings.escape(s) + ", read back " + Strings.escape(back));
    });
  }

  /**
   * Whatever {@link Json.Writer} writes (any member names and strings, lone surrogates included, longs,
   * booleans, string arrays) the reader accepts, and reads back the values written; a lone surrogate,
   * which UTF-8 cannot carry, comes back as U+FFFD.
   */
  @FuzzTest
  void writeJson(FuzzedDataProvider fdp) throws Exception {
    Json.Writer w = Json.object();
    Map<String, Object> expected = new LinkedHashMap<>();
    int members = fdp.consumeInt(0, 12);
    for (int i = 0; i < members; i++) {
      String name = Strings.draw(fdp, 24);
      if (expected.containsKey(replaced(name))) {
        continue; // the writer leaves unique names to its caller
      }
      switch (fdp.consumeInt(0, 3)) {
        case 0: {
          String v = Strings.draw(fdp, 200);
          w.put(name, v);
          expected.put(replaced(name), replaced(v));
          break;
        }
        case 1: {
          long v = fdp.consumeLong();
          w.put(name, v);
          expected.put(replaced(name), v);
          break;
        }
        case 2: {
          boolean v = fdp.consumeBoolean();
          w.put(name, v);
          expected.put(replaced(name), v);
          break;
        }
        default: {
          List<String> v = new ArrayList<>();
          List<Object> e = new ArrayList<>();
          for (int n = fdp.consumeInt(0, 5); n > 0; n--) {
            String s = Strings.draw(fdp, 40);
            v.add(s);
            e.add(replaced(s));
          }
          w.putStrings(name, v);
          expected.put(replaced(name), e);
        }
      }
    }
    byte[] written = w.toBytes();
    Json.Obj o;
    try {
      o = Json.parseObject(written, "written JSON");
    } catch (ProtocolException e) {
      throw new AssertionError("Json.Writer wrote a document its reader refuses (" + e.getMessage() + "): "
          + Strings.escape(new String(written, StandardCharsets.UTF_8)), e);
    }
    check(o.members().equals(expected), "written " + expected + ", read back " + o.members());
  }

  /** {@code s} with each lone surrogate replaced by U+FFFD, as UTF-8 must. */
  static String replaced(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        b.append(c).append(s.charAt(++i));
      } else {
        b.append(Character.isSurrogate(c) ? '\ufffd' : c);
      }
    }
    return b.toString();
  }

  private static void checkWithinLimits(Object v, int depth, Json.Limits limits) {
    if (v instanceof Json.Obj) {
      Map<String, Object> m = ((Json.Obj) v).members();
      check(depth <= limits.maxDepth(), "accepted nesting " + depth + ", limit " + limits.maxDepth());
      check(m.size() <= limits.maxMembers(), "accepted " + m.size() + " members, limit " + limits.maxMembers());
      for (Map.Entry<String, Object> e : m.entrySet()) {
        checkWithinLimits(e.getKey(), depth, limits);
        checkWithinLimits(e.getValue(), depth + 1, limits);
      }
    } else if (v instanceof List) {
      List<?> l = (List<?>) v;
      check(depth <= limits.maxDepth(), "accepted nesting " + depth + ", limit " + limits.maxDepth());
      check(l.size() <= limits.maxMembers(), "accepted " + l.size() + " elements, limit " + limits.maxMembers());
      for (Object e : l) {
        checkWithinLimits(e, depth + 1, limits);
      }
    } else if (v instanceof String) {
      String s = (String) v;
      check(s.length() <= limits.maxStringChars(), "accepted a string of " + s.length() + " chars, limit "
          + limits.maxStringChars());
      check(!Strings.hasLoneSurrogate(s), "accepted a string with a lone surrogate: " + Strings.escape(s));
    } else {
      check(v instanceof Long || v instanceof Boolean || v == Json.NULL, "a value of an unexpected kind: " + v);
    }
  }

  /** A test-side writer for any tree the reader returns (the engine's writer has no nested arrays or null). */
  static String canonical(Object v) {
    if (v instanceof Json.Obj) {
      StringBuilder b = new StringBuilder("{");
      for (Map.Entry<String, Object> e : ((Json.Obj) v).members().entrySet()) {
        b.append(b.length() > 1 ? "," : "").append(quote(e.getKey())).append(':').append(canonical(e.getValue()));
      }
      return b.append('}').toString();
    }
    if (v instanceof List) {
      StringBuilder b = new StringBuilder("[");
      for (Object e : (List<?>) v) {
        b.append(b.length() > 1 ? "," : "").append(canonical(e));
      }
      return b.append(']').toString();
    }
    return v instanceof String ? quote((String) v) : String.valueOf(v);
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  static boolean same(Object a, Object b) {
    if (a instanceof Json.Obj && b instanceof Json.Obj) {
      Map<String, Object> x = ((Json.Obj) a).members();
      Map<String, Object> y = ((Json.Obj) b).members();
      if (!new ArrayList<>(x.keySet()).equals(new ArrayList<>(y.keySet()))) {
        return false;
      }
      for (String k : x.keySet()) {
        if (!same(x.get(k), y.get(k))) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof List && b instanceof List) {
      List<?> x = (List<?>) a;
      List<?> y = (List<?>) b;
      if (x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!same(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    }
    return a == b || (a != null && a.equals(b));
  }

  interface StringCheck {
    void accept(String s) throws Exception;
  }

  private static void forEachString(Object v, StringCheck f) throws Exception {
    if (v instanceof Json.Obj) {
      for (Map.Entry<String, Object> e : ((Json.Obj) v).members().entrySet()) {
        f.accept(e.getKey());
        forEachString(e.getValue(), f);
      }
    } else if (v instanceof List) {
      for (Object e : (List<?>) v) {
        forEachString(e, f);
      }
    } else if (v instanceof String) {
      f.accept((String) v);
    }
  }

  // --- tus headers ------------------------------------------------------------------------------------

  /**
   * {@code flags | header value}: flags bit 0 reads the value as ISO-8859-1 (how HTTP/1.1 carries header
   * bytes), else as UTF-8. The one value goes to every tus parser: {@code Tus-Resumable},
   * {@code Upload-Offset}/{@code Upload-Length}, {@code Upload-Metadata} (and the offer a creation makes of
   * it), {@code Upload-Checksum}. What each accepts is exactly its grammar, and formats back to itself.
   */
  @FuzzTest
  void tusHeaders(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    String value = new String(input, 1, input.length - 1,
        (input[0] & 1) != 0 ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
    long budget = budget(input.length);

    Contract.Outcome<Boolean> resumable = Contract.withinBudget("Tus.requireResumable", budget,
        () -> Contract.protocol(() -> {
          Tus.requireResumable(value);
          return true;
        }));
    check(resumable.ok() == value.trim().equals(Tus.VERSION), "Tus-Resumable '" + Strings.escape(value) + "' "
        + (resumable.ok() ? "accepted" : "refused"));
    if (!resumable.ok()) {
      check(((ProtocolException) resumable.rejection).reason() == ProtocolException.Reason.UNSUPPORTED_VERSION,
          "a Tus-Resumable refusal must be UNSUPPORTED_VERSION (412): " + resumable.rejection);
    }

    Contract.Outcome<Long> offset = Contract.withinBudget("Tus.parseNonNegative", budget,
        () -> Contract.protocol(() -> Tus.parseNonNegative(Tus.UPLOAD_OFFSET, value)));
    String t = value.trim();
    // The documented grammar: 1..19 ASCII digits (leading zeros count) within the 64-bit range.
    boolean decimal = !t.isEmpty() && t.length() <= 19 && t.chars().allMatch(c -> c >= '0' && c <= '9')
        && new BigInteger(t).bitLength() < 64;
    check(offset.ok() == decimal, "Upload-Offset '" + Strings.escape(value) + "' " + (offset.ok() ? "accepted" : "refused"));
    if (offset.ok()) {
      check(offset.value.equals(new BigInteger(t).longValueExact()), "Upload-Offset read as " + offset.value);
    }

    Contract.Outcome<Map<String, String>> metadata = Contract.withinBudget("Tus.parseMetadata", budget,
        () -> Contract.protocol(() -> Tus.parseMetadata(value)));
    if (metadata.ok()) {
      Map<String, String> m = metadata.value;
      check(m.size() <= Tus.MAX_METADATA_PAIRS, "accepted " + m.size() + " metadata pairs");
      for (Map.Entry<String, String> e : m.entrySet()) {
        String k = e.getKey();
        check(!k.isEmpty() && k.length() <= Tus.MAX_METADATA_KEY_CHARS
            && k.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ','), "accepted metadata key " + Strings.escape(k));
        check(!Strings.hasLoneSurrogate(e.getValue()), "a metadata value with a lone surrogate");
      }
      String formatted = Tus.formatMetadata(m);
      Map<String, String> back = Tus.parseMetadata(formatted);
      check(new ArrayList<>(back.entrySet()).equals(new ArrayList<>(m.entrySet())),
          "metadata " + m + " formatted as '" + formatted + "' reads back as " + back);
      long length = 1 + (input.length * 7919L);
      Contract.Outcome<OfferMessage> offer = Contract.protocol(() -> OfferMessage.fromTus(m, length));
      if (offer.ok()) {
        checkOfferRoundTrips(offer.value);
      }
    }

    Contract.Outcome<byte[]> checksum = Contract.withinBudget("Tus.parseChecksum", budget,
        () -> Contract.protocol(() -> Tus.parseChecksum(value)));
    if (checksum.ok()) {
      check(checksum.value != null && checksum.value.length == 32, "a checksum that is not 32 bytes");
      check(Arrays.equals(Tus.parseChecksum(Tus.formatChecksum(checksum.value)), checksum.value),
          "checksum does not read back");
    }
  }

  // --- offers -----------------------------------------------------------------------------------------

  /**
   * The JSON body of {@code POST /v1/offers}. An accepted offer encodes to JSON and to tus metadata
   * ({@code Upload-Metadata} + {@code Upload-Length}), each of which reads back to the same offer.
   */
  @FuzzTest
  void decodeOffer(byte[] input) throws Exception {
    Contract.Outcome<OfferMessage> offer = Contract.withinBudget("OfferMessage.decode", budget(input.length),
        () -> Contract.protocol(() -> OfferMessage.decode(input)));
    if (offer.ok()) {
      checkOfferRoundTrips(offer.value);
    }
  }

  /**
   * Any offer the constructor accepts (any peer label, lone surrogates and controls included) travels:
   * its JSON and its tus metadata read back to the same offer. An offer the constructor refuses is turned
   * away with an {@code IllegalArgumentException}, as its javadoc says.
   */
  @FuzzTest
  void offerRoundTrip(FuzzedDataProvider fdp) throws Exception {
    Fingerprint fp = Fingerprint.of(Arrays.copyOf(fdp.consumeBytes(32), 32));
    long length = fdp.consumeBoolean() ? fdp.consumeLong(1, 1L << 40) : fdp.consumeLong();
    long expires = fdp.consumeBoolean() ? fdp.consumeLong(0, OfferMessage.MAX_EPOCH_SECOND) : fdp.consumeLong();
    String peer = fdp.consumeBoolean() ? null : Strings.draw(fdp, 300);
    boolean full = fdp.consumeBoolean();
    OfferMessage m;
    try {
      m = new OfferMessage(fp, length, expires, peer, full);
    } catch (IllegalArgumentException refused) {
      return;
    }
    checkOfferRoundTrips(m);
  }

  private static void checkOfferRoundTrips(OfferMessage m) throws Exception {
    OfferMessage json;
    try {
      json = OfferMessage.decode(m.encode());
    } catch (ProtocolException e) {
      throw new AssertionError(m + " encodes to JSON that OfferMessage.decode refuses: " + e.getMessage(), e);
    }
    check(json.equals(m), m + " read back from JSON as " + json);
    OfferMessage tus;
    try {
      tus = OfferMessage.fromTus(Tus.parseMetadata(Tus.formatMetadata(m.toTusMetadata())), m.lengthBytes());
    } catch (ProtocolException e) {
      throw new AssertionError(m + " as tus metadata is refused: " + e.getMessage(), e);
    }
    check(tus.equals(m), m + " read back from tus metadata as " + tus);
  }

  // --- problems ---------------------------------------------------------------------------------------

  /**
   * An {@code application/problem+json} body, as every refusal and error arrives. An accepted problem
   * re-encodes to a body that reads back with the same members, and {@link Problem#toRefusal} (what a
   * source acts on) answers with a reason that matches the type, or refuses numbers out of range with a
   * MALFORMED {@link ProtocolException}.
   */
  @FuzzTest
  void decodeProblem(byte[] input) throws Exception {
    Contract.Outcome<Problem> p = Contract.withinBudget("Problem.decode", budget(input.length),
        () -> Contract.protocol(() -> Problem.decode(input)));
    if (!p.ok()) {
      return;
    }
    Problem problem = p.value;
    Problem back;
    try {
      back = Problem.decode(problem.encode());
    } catch (ProtocolException e) {
      throw new AssertionError(problem + " encodes to a body Problem.decode refuses: " + e.getMessage(), e);
    }
    check(back.type().equals(problem.type()) && back.status() == problem.status()
        && back.title().equals(problem.title()) && back.detail().equals(problem.detail())
        && back.extensions().equals(problem.extensions()), problem + " read back as " + back);
    Refusal r;
    try {
      r = problem.toRefusal();
    } catch (ProtocolException e) {
      check(e.reason() == ProtocolException.Reason.MALFORMED && problem.knownType() != null,
          "toRefusal of " + problem + " threw " + e.reason() + ": " + e.getMessage());
      return; // a refusal with numbers out of range: refused, typed
    }
    if (r != null) {
      check(problem.knownType() != null && r.reason().name().equals(problem.knownType().name()),
          "refusal " + r.reason() + " from a problem of type " + problem.type());
    }
  }

  // --- delivery query ---------------------------------------------------------------------------------

  /**
   * {@code flags | JSON}: flags bit 0 reads the body as the destination's answer, else as the forwarder's
   * question. A question holds at most {@link DeliveryQuery#MAX_FINGERPRINTS} distinct fingerprints; an
   * answer's receipts are at most a receipt's size before anyone decodes them. Both encode back to the
   * same value.
   */
  @FuzzTest
  void deliveryQuery(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    byte[] json = Arrays.copyOfRange(input, 1, input.length);
    if ((input[0] & 1) == 0) {
      Contract.Outcome<List<Fingerprint>> q = Contract.withinBudget("DeliveryQuery.decodeRequest",
          budget(json.length), () -> Contract.protocol(() -> DeliveryQuery.decodeRequest(json)));
      if (q.ok()) {
        check(q.value.size() <= DeliveryQuery.MAX_FINGERPRINTS, "a question of " + q.value.size());
        check(q.value.stream().distinct().count() == q.value.size(), "duplicates kept in " + q.value);
        check(DeliveryQuery.decodeRequest(DeliveryQuery.encodeRequest(q.value)).equals(q.value),
            "the question does not read back");
      }
    } else {
      Contract.Outcome<Map<Fingerprint, byte[]>> a = Contract.withinBudget("DeliveryQuery.decodeResponse",
          budget(json.length), () -> Contract.protocol(() -> DeliveryQuery.decodeResponse(json)));
      if (a.ok()) {
        for (byte[] receipt : a.value.values()) {
          check(receipt.length <= Receipts.ENCODED_BYTES + 64, "a receipt of " + receipt.length + " bytes");
        }
        Map<Fingerprint, byte[]> back = DeliveryQuery.decodeResponse(DeliveryQuery.encodeResponse(a.value));
        check(back.keySet().equals(a.value.keySet()), "the answer's fingerprints do not read back");
        for (Map.Entry<Fingerprint, byte[]> e : back.entrySet()) {
          check(Arrays.equals(e.getValue(), a.value.get(e.getKey())), "the receipt of " + e.getKey() + " changed");
        }
      }
    }
  }

  // --- upload ids -------------------------------------------------------------------------------------

  /**
   * The last segment of an upload URL ({@code /v1/uploads/<id>}), read as UTF-8. An id is a capability: it
   * resolves to a fingerprint only if it is exactly the id the holder issued for that fingerprint (one
   * upload, one URL: no second spelling of the same id is honoured).
   */
  @FuzzTest
  void uploadId(byte[] input) throws Exception {
    String id = new String(input, StandardCharsets.UTF_8);
    UploadIds ids = new UploadIds(SECRET);
    Contract.Outcome<Fingerprint> fp = Contract.withinBudget("UploadIds.fingerprintOf", budget(input.length),
        () -> Contract.protocol(() -> ids.fingerprintOf(id)));
    if (fp.ok() && fp.value != null) {
      check(ids.idOf(fp.value).equals(id), "id " + Strings.escape(id) + " accepted for " + fp.value
          + ", whose id is " + ids.idOf(fp.value));
    }
  }

  // --- seeds ------------------------------------------------------------------------------------------

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] flagged(int flags, byte[] rest) {
    byte[] out = new byte[rest.length + 1];
    out[0] = (byte) flags;
    System.arraycopy(rest, 0, out, 1, rest.length);
    return out;
  }

  static Fingerprint fingerprint(int n) {
    return Fingerprint.of(Fixtures.sha256(new byte[] {(byte) n}));
  }

  static OfferMessage sampleOffer() {
    return new OfferMessage(fingerprint(1), 5_000_123, 1_800_043_200L, "ph\u00f6ne 7", true);
  }

  static Map<String, byte[]> jsonSeeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    out.put("seed-offer", flagged(0x80, sampleOffer().encode()));
    out.put("seed-problem", flagged(0x80, Problem.of(Problem.Type.OFFSET_MISMATCH, "Upload-Offset is 3, the upload is at 0")
        .with(Problem.UPLOAD_OFFSET, 0L).encode()));
    out.put("seed-nested", flagged(0x80, utf8("{\"a\":[1,-2,true,false,null,{\"b\":[\"\\u00e9\\ud83d\\udcf7\\n\"]}],"
        + "\"c\":{}, \"d\" : [ ] }")));
    out.put("seed-small-limits", flagged(0x00, utf8("{\"a\":{\"b\":1},\"cc\":\"xyz\"}")));
    out.put("seed-escapes", flagged(0x80, utf8("{\"\\\"\\\\\\/\\b\\f\\n\\r\\t\":\"\\u0000\\uFFFF\"}")));
    out.put("seed-number-bounds", flagged(0x80, utf8("{\"max\":9223372036854775807,\"min\":-9223372036854775808}")));
    out.put("seed-duplicate-member", flagged(0x80, utf8("{\"a\":1,\"a\":2}")));
    return out;
  }

  static Map<String, byte[]> tusSeeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    out.put("seed-resumable", flagged(0, utf8(Tus.VERSION)));
    out.put("seed-offset", flagged(1, utf8("9223372036854775807")));
    out.put("seed-metadata-offer", flagged(0, utf8(Tus.formatMetadata(sampleOffer().toTusMetadata()))));
    out.put("seed-metadata-spec-example", flagged(1, utf8("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential")));
    out.put("seed-checksum", flagged(0, utf8(Tus.formatChecksum(Fixtures.sha256(new byte[] {7})))));
    return out;
  }

  static Map<String, byte[]> offerSeeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    out.put("seed-offer", sampleOffer().encode());
    out.put("seed-offer-minimal", new OfferMessage(fingerprint(2), 1, 0, null, false).encode());
    out.put("seed-offer-unknown-member", utf8("{\"fingerprint\":\"" + fingerprint(3).toHex()
        + "\",\"lengthBytes\":10,\"expiresAtEpochSecond\":1,\"x\":[1]}"));
    return out;
  }

  static Map<String, byte[]> problemSeeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    out.put("seed-counter-offer", Problem.of(Refusal.ofTime(Refusal.Reason.TTL_TOO_LONG, "12 h at most", 43_200,
        1_800_000_000L)).encode());
    out.put("seed-quota", Problem.of(Refusal.ofSpace(Refusal.Reason.QUOTA_FULL, "full", 10, 0)).encode());
    out.put("seed-receipt", Problem.of(Problem.Type.ALREADY_DELIVERED, "delivered")
        .with(Problem.RECEIPT, "AAAA").encode());
    out.put("seed-unknown-type", utf8("{\"type\":\"about:blank\",\"title\":\"Teapot\",\"status\":418,\"x\":{}}"));
    // A refusal whose numbers are out of range: toRefusal refuses it, typed.
    out.put("seed-negative-bytes-free", utf8("{\"type\":\"" + Problem.Type.QUOTA_FULL.uri()
        + "\",\"status\":507,\"bytesFree\":-5,\"acceptableBytes\":0}"));
    out.put("seed-counter-offer-string", utf8("{\"type\":\"" + Problem.Type.TTL_TOO_LONG.uri()
        + "\",\"status\":409,\"counterOfferExpiresAtEpochSecond\":\"soon\"}"));
    return out;
  }

  static Map<String, byte[]> deliveryQuerySeeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    out.put("seed-question", flagged(0, DeliveryQuery.encodeRequest(List.of(fingerprint(1), fingerprint(2)))));
    Map<Fingerprint, byte[]> answer = new LinkedHashMap<>();
    answer.put(fingerprint(1), Receipts.encode(Receipts.signReceipt(Fixtures.DESTINATION, fingerprint(1),
        1_800_000_100L)));
    out.put("seed-answer", flagged(1, DeliveryQuery.encodeResponse(answer)));
    out.put("seed-answer-empty", flagged(1, utf8("{\"deliveries\":[]}")));
    return out;
  }

  static Map<String, byte[]> uploadIdSeeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    String id = new UploadIds(SECRET).idOf(fingerprint(1));
    out.put("seed-genuine", utf8(id));
    out.put("seed-wrong-tag", utf8(id.substring(0, id.length() - 1) + (id.endsWith("0") ? "1" : "0")));
    out.put("seed-no-dot", utf8(id.replace('.', '-')));
    return out;
  }
}
