package io.crowdbackup.engine.envelope;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Generates the test vectors in {@code docs/test-vectors/} (described in its README.md) from fixed labels:
 * every secret is SHA-256 of a label, so the vectors are deterministic and nothing is up anyone's sleeve.
 * Envelopes are sealed by the engine with scripted entropy; every intermediate value comes from
 * {@link SpecReference}, an independent implementation with the JDK's primitives, and generation stops
 * if the two disagree. Negative vectors record the reason the engine gives, and generation stops if that
 * is not the reason the format prescribes.
 *
 * <p>Regenerate (overwrites the files) with
 * {@code mvn -o -Dquick -pl engine -am test -Dtest=VectorsTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dvectors.regenerate=true -Dbigstream.skip}, or run {@link #main} with the output directory.
 */
public final class VectorGenerator {
  static final String LABEL_PREFIX = "crowdbackup test vector ";
  static final String PLAINTEXT_LABEL = LABEL_PREFIX + "plaintext";
  static final String PHRASE = "the quick brown fox jumps over the lazy dog; ";
  static final long EXPIRES_AT_EPOCH_SECOND = 1_800_000_000L;
  static final long CREATED_AT_EPOCH_MILLIS = 1_700_000_000_000L;
  static final long SIGNED_AT_EPOCH_SECOND = 1_750_000_000L;
  /** Envelopes up to this size carry their full bytes in the vector. */
  static final int MAX_INLINE_BYTES = 64 * 1024;

  private final Map<String, DestinationKeyPair> destinations = new LinkedHashMap<>();
  private final Map<String, SigningKeyPair> sources = new LinkedHashMap<>();
  private final Map<String, byte[]> envelopes = new LinkedHashMap<>();
  private final Map<String, Fingerprint> fingerprints = new LinkedHashMap<>();
  private final Map<String, String> files = new TreeMap<>();

  private VectorGenerator() {}

  /** Writes the vectors to {@code args[0]} (default {@code docs/test-vectors}). */
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args.length > 0 ? args[0] : "docs/test-vectors");
    Map<String, String> vectors = generate();
    for (Map.Entry<String, String> f : vectors.entrySet()) {
      Path p = out.resolve(f.getKey());
      Files.createDirectories(p.getParent());
      Files.writeString(p, f.getValue(), StandardCharsets.UTF_8);
    }
    System.out.println("wrote " + vectors.size() + " files to " + out.toAbsolutePath());
  }

  /** Every vector file: path relative to docs/test-vectors, then its exact content. */
  static Map<String, String> generate() throws Exception {
    VectorGenerator g = new VectorGenerator();
    g.keys();
    g.positives();
    g.negatives();
    g.receipts();
    return g.files;
  }

  static byte[] secret(String label) {
    return SpecReference.sha256((LABEL_PREFIX + label).getBytes(StandardCharsets.UTF_8));
  }

  /** The first {@code length} bytes of SHA-256(label || u32 0) || SHA-256(label || u32 1) || ... */
  static byte[] counterStream(String label, int length) {
    byte[] out = new byte[length];
    byte[] l = label.getBytes(StandardCharsets.UTF_8);
    for (int block = 0; block * 32 < length; block++) {
      byte[] d = SpecReference.sha256(l, ByteBuffer.allocate(4).putInt(block).array());
      System.arraycopy(d, 0, out, block * 32, Math.min(32, length - block * 32));
    }
    return out;
  }

  static byte[] repeatPhrase(int length) {
    byte[] p = PHRASE.getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[length];
    for (int i = 0; i < length; i++) {
      out[i] = p[i % p.length];
    }
    return out;
  }

  static String hex(byte[] b) {
    return Hex.of(b);
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("engine and reference disagree: " + what);
    }
  }

  // ---- keys -----------------------------------------------------------------------------------------------

  private void keys() throws GeneralSecurityException {
    List<Object> dest = new ArrayList<>();
    String[][] d = {
        {"destination", "https://home.example/inbox"},
        {"relay", "https://relay.example/in"},
        {"other", "https://other.example/inbox"}};
    for (String[] k : d) {
      byte[] agreementSecret = secret(k[0] + " agreement secret");
      byte[] receiptSeed = secret(k[0] + " receipt seed");
      DestinationKeyPair pair = Keys.destinationFromSecrets(k[1], agreementSecret, receiptSeed);
      check(Arrays.equals(SpecReference.x25519Public(agreementSecret), pair.card().agreementKey()),
          k[0] + " agreement public key");
      check(Arrays.equals(SpecReference.ed25519Public(receiptSeed), pair.card().receiptKey()),
          k[0] + " receipt public key");
      destinations.put(k[0], pair);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", k[0]);
      m.put("locator", k[1]);
      m.put("agreement_secret_label", LABEL_PREFIX + k[0] + " agreement secret");
      m.put("agreement_secret", hex(agreementSecret));
      m.put("agreement_public", hex(pair.card().agreementKey()));
      m.put("receipt_seed_label", LABEL_PREFIX + k[0] + " receipt seed");
      m.put("receipt_seed", hex(receiptSeed));
      m.put("receipt_public", hex(pair.card().receiptKey()));
      m.put("card_file", Keys.encodeCard(pair.card()));
      m.put("key_file", Keys.encodeDestination(pair));
      dest.add(m);
    }
    List<Object> src = new ArrayList<>();
    byte[] seed = secret("source release seed");
    SigningKeyPair source = Keys.signingFromSeed(seed);
    check(Arrays.equals(SpecReference.ed25519Public(seed), source.publicKey()), "source public key");
    sources.put("source", source);
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("name", "source");
    s.put("seed_label", LABEL_PREFIX + "source release seed");
    s.put("seed", hex(seed));
    s.put("public", hex(source.publicKey()));
    s.put("key_file", Keys.encodeSigning(source));
    src.add(s);
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("secret_derivation", "SHA-256 of the UTF-8 label");
    root.put("destinations", dest);
    root.put("sources", src);
    files.put("keys.json", Json.pretty(root));
  }

  // ---- positive envelopes ---------------------------------------------------------------------------------

  /** One plaintext segment of a recipe. */
  private static Map<String, Object> segment(String kind, int length) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("kind", kind);
    if (kind.equals("sha256-counter")) {
      m.put("label", PLAINTEXT_LABEL);
    } else {
      m.put("text", PHRASE);
    }
    m.put("length", (long) length);
    return m;
  }

  private static byte[] make(List<Map<String, Object>> recipe) {
    List<byte[]> parts = new ArrayList<>();
    for (Map<String, Object> s : recipe) {
      int n = (int) (long) (Long) s.get("length");
      parts.add(s.get("kind").equals("repeat") ? repeatPhrase(n) : counterStream(PLAINTEXT_LABEL, n));
    }
    return EnvelopeLayout.concat(parts.toArray(new byte[0][]));
  }

  private void positives() throws Exception {
    for (int size : new int[] {0, 1, 4095, 4096, 4097, 8193}) {
      positive("direct-" + size, "Direct envelope, " + size + "-byte plaintext, 4 KiB chunks, no compression.",
          12, false, null, List.of(segment("sha256-counter", size)), "vector.bin", "application/octet-stream");
    }
    positive("lz4-8292", "Direct envelope with LZ4: chunk 0 (repeated text) and chunk 2 (100 bytes of it) are"
            + " stored LZ4-compressed, chunk 1 (pseudo-random) raw because LZ4 would not shrink it.",
        12, true, null, List.of(segment("repeat", 4096), segment("sha256-counter", 4096), segment("repeat", 100)),
        "notes.txt", "text/plain");
    positive("relay-100", "Relay envelope: the outer layer is sealed to the relay and its plaintext is the inner"
            + " envelope, sealed to the destination; 100-byte plaintext, 4 KiB chunks.",
        12, false, "relay", List.of(segment("sha256-counter", 100)), "vector.bin", "application/octet-stream");
    positive("direct-1048577-64k", "Direct envelope, 1 MiB + 1 byte plaintext at the default 64 KiB chunk size"
            + " (17 data records); bytes not inlined, check the digests.",
        16, false, null, List.of(segment("sha256-counter", 1048577)), "vector.bin", "application/octet-stream");
  }

  private void positive(String name, String description, int chunkLog2, boolean lz4, String relay,
      List<Map<String, Object>> recipe, String fileName, String mediaType) throws Exception {
    byte[] plaintext = make(recipe);
    DestinationKeyPair dest = destinations.get("destination");
    SigningKeyPair source = sources.get("source");
    SealRequest.Builder rb = SealRequest.newBuilder().destination(dest.card()).releaseKey(source.publicKey())
        .expiresAtEpochSecond(EXPIRES_AT_EPOCH_SECOND).createdAtEpochMillis(CREATED_AT_EPOCH_MILLIS).name(fileName)
        .mediaType(mediaType).chunkSizeBytes(1 << chunkLog2).compression(lz4 ? Compression.ON : Compression.OFF);
    List<String> layerNames = new ArrayList<>();
    if (relay != null) {
      rb.relay(destinations.get(relay).card());
      layerNames.add(name + " outer");
      layerNames.add(name + " inner");
    } else {
      layerNames.add(name);
    }
    List<byte[]> draws = new ArrayList<>();
    for (String layer : layerNames) {
      draws.add(secret(layer + " ephemeral secret"));
      draws.add(secret(layer + " salt"));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SealResult sealed;
    try (StreamingSealer sealer = TestEnvelopes.scriptedSealer(draws.toArray(new byte[0][]))) {
      if (lz4) {
        Path tmp = Files.createTempFile("crowdbackup-vector", ".bin");
        try {
          Files.write(tmp, plaintext);
          sealed = sealer.seal(rb.build(), tmp, Channels.newChannel(out));
        } finally {
          Files.delete(tmp);
        }
      } else {
        sealed = sealer.seal(rb.build(), Channels.newChannel(new ByteArrayInputStream(plaintext)), plaintext.length,
            Channels.newChannel(out));
      }
    }
    byte[] envelope = out.toByteArray();
    check(sealed.envelopeLengthBytes() == envelope.length, name + " length");
    envelopes.put(name, envelope);
    fingerprints.put(name, sealed.fingerprint());

    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", name);
    v.put("description", description);
    v.put("chunk_size_bytes", 1L << chunkLog2);
    v.put("compression", lz4 ? "on" : "off");
    v.put("expires_at_epoch_second", EXPIRES_AT_EPOCH_SECOND);
    v.put("created_at_epoch_millis", CREATED_AT_EPOCH_MILLIS);
    v.put("file_name", fileName);
    v.put("media_type", mediaType);
    v.put("destination", "destination");
    v.put("relay", relay);
    v.put("source", "source");
    v.put("plaintext_recipe", recipe);
    v.put("plaintext_length", (long) plaintext.length);
    v.put("plaintext_sha256", hex(SpecReference.sha256(plaintext)));
    if (plaintext.length <= MAX_INLINE_BYTES) {
      v.put("plaintext_hex", hex(plaintext));
    }
    List<Object> layers = new ArrayList<>();
    byte[] layerEnvelope = envelope;
    for (int i = 0; i < layerNames.size(); i++) {
      boolean outer = relay != null && i == 0;
      String openedBy = outer ? relay : "destination";
      DestinationKeyPair opener = destinations.get(openedBy);
      SpecReference.Opened ref = SpecReference.open(layerEnvelope,
          opener.agreementPrivateKey(io.crowdbackup.api.SecretAccess.explicitly()));
      byte[] expectedPlaintext = outer ? null : plaintext;
      if (expectedPlaintext != null) {
        check(Arrays.equals(ref.plaintext, expectedPlaintext), name + " reference plaintext");
      }
      // The engine opens it to the same plaintext and fingerprint.
      ByteArrayOutputStream opened = new ByteArrayOutputStream();
      OpenResult r = new StreamingOpener(opener).open(Channels.newChannel(new ByteArrayInputStream(layerEnvelope)),
          Channels.newChannel(opened));
      check(Arrays.equals(opened.toByteArray(), ref.plaintext), name + " engine plaintext");
      check(Arrays.equals(r.fingerprint().toBytes(), ref.fingerprint), name + " fingerprint");
      if (i == 0) {
        check(r.fingerprint().equals(sealed.fingerprint()), name + " sealed fingerprint");
      }
      // Byte-exact reseal by the reference from the chunk plaintexts the spec prescribes.
      String layer = layerNames.get(i);
      SpecReference.Plan plan = plan(layer, opener, ref, chunkLog2, source, lz4 && !outer);
      byte[] resealed = SpecReference.seal(plan, null);
      check(Arrays.equals(resealed, layerEnvelope), name + " reference reseal of layer " + i);

      SpecReference.Derived d = ref.derived;
      Map<String, Object> l = new LinkedHashMap<>();
      l.put("layer", outer ? "outer" : (relay != null ? "inner" : "only"));
      l.put("opened_by", openedBy);
      l.put("locator", opener.card().locator());
      l.put("content_kind", ref.contentKind == 0 ? "file" : "relayed-envelope");
      l.put("file_name", ref.name);
      l.put("media_type", ref.mediaType);
      l.put("ephemeral_secret_label", LABEL_PREFIX + layer + " ephemeral secret");
      l.put("ephemeral_secret", hex(plan.ephemeralSecret));
      l.put("ephemeral_public", hex(d.ephemeralPublic));
      l.put("salt_label", LABEL_PREFIX + layer + " salt");
      l.put("salt", hex(plan.salt));
      l.put("shared_secret", hex(d.sharedSecret));
      l.put("prk", hex(d.prk));
      l.put("header_mac_key", hex(d.headerMacKey));
      l.put("header_mac", hex(d.headerMac));
      l.put("piece0_hex", hex(d.piece0));
      l.put("piece0_sha256", hex(d.piece0Sha256));
      l.put("payload_key", hex(d.payloadKey));
      l.put("nonce_prefix", hex(d.noncePrefix));
      l.put("plaintext_length", (long) ref.plaintext.length);
      l.put("plaintext_sha256", hex(SpecReference.sha256(ref.plaintext)));
      l.put("metadata_plaintext_hex", hex(plan.metadataPlaintext));
      List<Object> encodings = new ArrayList<>();
      for (int e : ref.encodings) {
        encodings.add((long) e);
      }
      l.put("record_encodings", encodings);
      List<Object> pieces = new ArrayList<>();
      for (byte[] p : ref.pieceDigests) {
        pieces.add(hex(p));
      }
      l.put("piece_sha256", pieces);
      l.put("envelope_length", (long) layerEnvelope.length);
      l.put("envelope_sha256", hex(SpecReference.sha256(layerEnvelope)));
      l.put("fingerprint", hex(ref.fingerprint));
      if (layerEnvelope.length <= MAX_INLINE_BYTES) {
        l.put("envelope_hex", hex(layerEnvelope));
      }
      layers.add(l);
      layerEnvelope = ref.plaintext;
    }
    v.put("layers", layers);
    files.put("envelopes/" + name + ".json", Json.pretty(v));
  }

  /** The reference's plan for one layer: raw chunks cut from the plaintext, or the decrypted LZ4 ones. */
  private SpecReference.Plan plan(String layer, DestinationKeyPair opener, SpecReference.Opened ref, int chunkLog2,
      SigningKeyPair source, boolean lz4) throws GeneralSecurityException {
    SpecReference.Plan p = new SpecReference.Plan();
    p.chunkSizeLog2 = chunkLog2;
    p.expiresAtEpochSecond = EXPIRES_AT_EPOCH_SECOND;
    p.ephemeralSecret = secret(layer + " ephemeral secret");
    p.salt = secret(layer + " salt");
    p.destinationAgreementKey = opener.card().agreementKey();
    p.receiptKey = opener.card().receiptKey();
    p.releaseKey = source.publicKey();
    p.locator = opener.card().locator();
    int chunk = 1 << chunkLog2;
    if (lz4) {
      p.dataChunkPlaintexts.addAll(ref.chunkPlaintexts);
    } else {
      for (int off = 0; off < ref.plaintext.length; off += chunk) {
        p.dataChunkPlaintexts.add(EnvelopeLayout.concat(new byte[] {0},
            Arrays.copyOfRange(ref.plaintext, off, Math.min(ref.plaintext.length, off + chunk))));
      }
    }
    p.metadataPlaintext = SpecReference.metadata(ref.contentKind, ref.plaintext.length, CREATED_AT_EPOCH_MILLIS,
        ref.name, ref.mediaType);
    return p;
  }

  // ---- negative envelopes ---------------------------------------------------------------------------------

  private final List<String> negativeLines = new ArrayList<>();

  private void negative(String name, String description, String base, String mutation, byte[] envelope,
      String openedBy, Fingerprint expectedFingerprint, EnvelopeException.Reason expected) throws IOException {
    EnvelopeException.Reason got = null;
    try {
      new StreamingOpener(destinations.get(openedBy)).open(Channels.newChannel(new ByteArrayInputStream(envelope)),
          Channels.newChannel(new ByteArrayOutputStream()), expectedFingerprint);
    } catch (EnvelopeException e) {
      got = e.reason();
    }
    if (got != expected) {
      throw new IllegalStateException("negative vector " + name + ": engine says " + got + ", the format says "
          + expected);
    }
    String keylessReason = null;
    String keylessFingerprint = null;
    try {
      keylessFingerprint = EnvelopeScanner.scan(Channels.newChannel(new ByteArrayInputStream(envelope))).toHex();
    } catch (EnvelopeException e) {
      keylessReason = e.reason().name();
    }
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", name);
    v.put("description", description);
    v.put("base", base);
    v.put("mutation", mutation);
    v.put("opened_by", openedBy);
    v.put("expected_fingerprint", expectedFingerprint == null ? null : expectedFingerprint.toHex());
    v.put("expected_reason", expected.name());
    v.put("keyless_reason", keylessReason);
    v.put("keyless_fingerprint", keylessFingerprint);
    v.put("envelope_hex", hex(envelope));
    negativeLines.add(Json.line(v));
  }

  /** direct-1 as format v1 sealed it, kept as a test resource. */
  static byte[] v1Envelope() throws IOException {
    try (java.io.InputStream in = VectorGenerator.class.getResourceAsStream("v1-direct-1.hex")) {
      return Hex.parse(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
    }
  }

  private static byte[] with(byte[] base, int offset, byte... values) {
    byte[] t = base.clone();
    System.arraycopy(values, 0, t, offset, values.length);
    return t;
  }

  private static byte[] xor(byte[] base, int offset, int mask) {
    byte[] t = base.clone();
    t[offset] ^= (byte) mask;
    return t;
  }

  private static byte[] u16(int v) {
    return ByteBuffer.allocate(2).putShort((short) v).array();
  }

  private static byte[] u32(long v) {
    return ByteBuffer.allocate(4).putInt((int) v).array();
  }

  private static byte[] u64(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  private void negatives() throws Exception {
    // Offsets into direct-1 (header 216 bytes, data record at 216 of 22 bytes, final record at 238 of 532).
    String b = "direct-1";
    byte[] e = envelopes.get(b);
    EnvelopeLayout l = EnvelopeLayout.of(e);
    int rec0 = (int) l.recordStart[0];
    check(l.piece0Length == 216, "direct-1 header length");
    int fin = (int) l.recordStart[1];
    String dest = "destination";
    negative("bad-magic", "First magic byte changed: not an envelope.", b, "byte 0 xor 0x20", xor(e, 0, 0x20), dest,
        null, EnvelopeException.Reason.BAD_MAGIC);
    negative("version-too-new", "Format version 3.", b, "bytes 6..7 = 0003", with(e, 6, u16(3)), dest, null,
        EnvelopeException.Reason.VERSION_TOO_NEW);
    negative("version-too-old", "Format version 0.", b, "bytes 6..7 = 0000", with(e, 6, u16(0)), dest, null,
        EnvelopeException.Reason.VERSION_TOO_OLD);
    negative("version-1", "Format version 1 in a v2 envelope's prelude.", b, "bytes 6..7 = 0001",
        with(e, 6, u16(1)), dest, null, EnvelopeException.Reason.VERSION_TOO_OLD);
    negative("v1-envelope", "A genuine format v1 envelope (direct-1 of the v1 vectors: its metadata carries the"
            + " plaintext SHA-256). v1 was never deployed; a v2 reader refuses it by its version alone.", null,
        "none: the v1 envelope as it was", v1Envelope(), dest, null, EnvelopeException.Reason.VERSION_TOO_OLD);
    negative("header-too-large", "Header body length 65535, over the 1172-byte bound.", b, "bytes 8..9 = ffff",
        with(e, 8, u16(0xffff)), dest, null, EnvelopeException.Reason.HEADER_TOO_LARGE);
    negative("header-too-small", "Header body length 148, under the 149-byte minimum.", b, "bytes 8..9 = 0094",
        with(e, 8, u16(148)), dest, null, EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("unsupported-suite", "Suite 2.", b, "byte 10 = 02", with(e, 10, (byte) 2), dest, null,
        EnvelopeException.Reason.UNSUPPORTED_SUITE);
    negative("chunk-size-too-small", "Chunk size exponent 11 (2 KiB).", b, "byte 11 = 0b", with(e, 11, (byte) 11),
        dest, null, EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("chunk-size-too-large", "Chunk size exponent 23 (8 MiB).", b, "byte 11 = 17", with(e, 11, (byte) 23),
        dest, null, EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("envelope-length-too-large", "Envelope length 2^40 + 1.", b, "bytes 12..19 = 2^40 + 1",
        with(e, 12, u64((1L << 40) + 1)), dest, null, EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("envelope-length-too-small", "Envelope length one byte less than header + final record.", b,
        "bytes 12..19 = 216 + 532 - 1", with(e, 12, u64(l.piece0Length + 532 - 1)), dest, null,
        EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("envelope-length-no-room", "Envelope length leaving 21 bytes for data records: neither 0 nor one"
            + " smallest record (22 bytes; header check 9a).", b, "bytes 12..19 = 216 + 532 + 21, and the file cut to"
            + " that length (its last byte removed)",
        Arrays.copyOf(with(e, 12, u64(l.piece0Length + 532 + 21)), l.piece0Length + 532 + 21),
        dest, null, EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("expiry-out-of-bounds", "Expiry 253402300800, one second after 9999-12-31T23:59:59Z.", b,
        "bytes 20..27 = 253402300800", with(e, 20, u64(253_402_300_800L)), dest, null,
        EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("expiry-negative", "Expiry -1.", b, "bytes 20..27 = ffffffffffffffff", with(e, 20, u64(-1)), dest,
        null, EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("locator-length-mismatch", "Locator length one more than the header length allows.", b,
        "bytes 156..157 += 1", with(e, 156, u16(l.locatorLength + 1)), dest, null,
        EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("locator-control-character", "Locator byte 0 is a line feed.", b, "byte 158 = 0a",
        with(e, 158, (byte) 0x0a), dest, null, EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("locator-invalid-utf8", "Locator byte 0 is 0xff, not UTF-8.", b, "byte 158 = ff",
        with(e, 158, (byte) 0xff), dest, null, EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    int locEnd = 158 + l.locatorLength;
    negative("locator-trailing-space", "Locator ends with a space (\"https://home.example/inbo \"): edge whitespace,"
            + " which no card can carry.", b, "byte " + (locEnd - 1) + " = 20", with(e, locEnd - 1, (byte) 0x20), dest,
        null, EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("locator-trailing-nbsp", "Locator ends with U+00A0 NO-BREAK SPACE (\"https://home.example/inb\u00a0\"):"
            + " edge whitespace of the spec's set, not trimmed, refused.", b, "bytes " + (locEnd - 2) + ".." + (locEnd - 1)
            + " = c2 a0", with(e, locEnd - 2, (byte) 0xc2, (byte) 0xa0), dest, null,
        EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("low-order-ephemeral-key", "Ephemeral key all zero (a low-order X25519 point): the agreement is"
            + " all zero and refused before the MAC.", b, "bytes 28..59 = 00 * 32", with(e, 28, new byte[32]), dest,
        null, EnvelopeException.Reason.FIELD_OUT_OF_BOUNDS);
    negative("expiry-extended", "Expiry one day later: in bounds, but the header MAC catches it.", b,
        "bytes 20..27 += 86400", with(e, 20, u64(EXPIRES_AT_EPOCH_SECOND + 86400)), dest, null,
        EnvelopeException.Reason.HEADER_AUTHENTICATION_FAILED);
    negative("salt-altered", "Salt byte 0 changed.", b, "byte 60 xor 0x01", xor(e, 60, 1), dest, null,
        EnvelopeException.Reason.HEADER_AUTHENTICATION_FAILED);
    negative("release-key-replaced", "Release key replaced by the relay's receipt key: a holder cannot change"
            + " who may release the envelope.", b, "bytes 124..155 = relay receipt_public",
        with(e, 124, destinations.get("relay").card().receiptKey()), dest, null,
        EnvelopeException.Reason.HEADER_AUTHENTICATION_FAILED);
    negative("header-mac-altered", "Last byte of the header MAC changed.", b,
        "byte " + (l.piece0Length - 1) + " xor 0x80", xor(e, l.piece0Length - 1, 0x80), dest, null, EnvelopeException.Reason.HEADER_AUTHENTICATION_FAILED);
    negative("receipt-key-altered", "Receipt key byte 0 changed: the header names another destination.", b,
        "byte 92 xor 0x01", xor(e, 92, 1), dest, null, EnvelopeException.Reason.NOT_FOR_THIS_KEY);
    negative("not-for-this-key", "Unmodified envelope opened by another destination's key.", b, "none", e,
        "other", null, EnvelopeException.Reason.NOT_FOR_THIS_KEY);
    negative("empty", "Zero bytes.", b, "truncate to 0 bytes", new byte[0], dest, null,
        EnvelopeException.Reason.TRUNCATED);
    negative("truncated-in-header", "Cut inside the header.", b, "truncate to 100 bytes", Arrays.copyOf(e, 100),
        dest, null, EnvelopeException.Reason.TRUNCATED);
    negative("truncated-in-record", "Cut inside the data record.", b, "truncate to " + (rec0 + 10) + " bytes",
        Arrays.copyOf(e, rec0 + 10), dest, null, EnvelopeException.Reason.TRUNCATED);
    negative("truncated-in-final-record", "Last byte missing.", b, "truncate to " + (e.length - 1) + " bytes",
        Arrays.copyOf(e, e.length - 1), dest, null, EnvelopeException.Reason.TRUNCATED);
    negative("header-only", "Cut after the header: a chunk boundary.", b, "truncate to " + rec0 + " bytes",
        Arrays.copyOf(e, rec0), dest, null, EnvelopeException.Reason.MISSING_FINAL_CHUNK);
    negative("missing-final-chunk", "Cut before the final record: a chunk boundary.", b,
        "truncate to " + fin + " bytes", Arrays.copyOf(e, fin), dest, null,
        EnvelopeException.Reason.MISSING_FINAL_CHUNK);
    negative("trailing-byte", "One zero byte after the final record.", b, "append 00",
        EnvelopeLayout.concat(e, new byte[1]), dest, null, EnvelopeException.Reason.TRAILING_DATA);
    negative("appended-final-record", "The final record repeated after itself.", b, "append record 1",
        EnvelopeLayout.concat(e, l.record(e, 1)), dest, null, EnvelopeException.Reason.TRAILING_DATA);
    negative("record-length-zero", "Data record length 0.", b, "bytes " + rec0 + ".." + (rec0 + 3) + " = 0",
        with(e, rec0, u32(0)), dest, null, EnvelopeException.Reason.BAD_RECORD_LENGTH);
    negative("record-length-overruns", "Data record length one more than fits before the final record.", b,
        "bytes " + rec0 + ".." + (rec0 + 3) + " += 1", with(e, rec0, u32(l.recordLength[0] - 4 + 1)), dest, null,
        EnvelopeException.Reason.BAD_RECORD_LENGTH);
    negative("final-record-length", "Final record length 527.", b, "bytes " + fin + ".." + (fin + 3) + " = 527",
        with(e, fin, u32(527)), dest, null, EnvelopeException.Reason.BAD_RECORD_LENGTH);
    negative("data-ciphertext-altered", "First ciphertext byte of the data record changed.", b,
        "byte " + (rec0 + 4) + " xor 0x01", xor(e, rec0 + 4, 1), dest, null, EnvelopeException.Reason.BAD_CHUNK_TAG);
    negative("data-tag-altered", "Last tag byte of the data record changed.", b,
        "byte " + (fin - 1) + " xor 0x01", xor(e, fin - 1, 1), dest, null, EnvelopeException.Reason.BAD_CHUNK_TAG);
    negative("final-record-altered", "Last byte of the envelope changed.", b,
        "byte " + (e.length - 1) + " xor 0x01", xor(e, e.length - 1, 1), dest, null,
        EnvelopeException.Reason.BAD_CHUNK_TAG);
    negative("fingerprint-mismatch", "Unmodified envelope, opened requiring direct-0's fingerprint.", b, "none", e,
        dest, fingerprints.get("direct-0"), EnvelopeException.Reason.FINGERPRINT_MISMATCH);

    // Structure attacks on direct-8193: records of 4096, 4096 and 1 plaintext bytes.
    String b2 = "direct-8193";
    byte[] e2 = envelopes.get(b2);
    EnvelopeLayout l2 = EnvelopeLayout.of(e2);
    byte[] h2 = l2.piece0(e2);
    byte[] r0 = l2.record(e2, 0);
    byte[] r1 = l2.record(e2, 1);
    byte[] rest = Arrays.copyOfRange(e2, (int) l2.recordStart[2], e2.length);
    negative("records-swapped", "Data records 0 and 1 (equal length) swapped.", b2, "records 1, 0, 2, final",
        EnvelopeLayout.concat(h2, r1, r0, rest), dest, null, EnvelopeException.Reason.BAD_CHUNK_TAG);
    negative("record-duplicated", "Data record 0 in place of record 1.", b2, "records 0, 0, 2, final",
        EnvelopeLayout.concat(h2, r0, r0, rest), dest, null, EnvelopeException.Reason.BAD_CHUNK_TAG);
    negative("cut-at-chunk-boundary", "Cut after data record 1: a chunk boundary.", b2, "records 0, 1",
        EnvelopeLayout.concat(h2, r0, r1), dest, null, EnvelopeException.Reason.MISSING_FINAL_CHUNK);
    // Another envelope of the same plaintext to the same destination, sealed with other secrets.
    SealRequest again = SealRequest.newBuilder().destination(destinations.get(dest).card())
        .releaseKey(sources.get("source").publicKey()).expiresAtEpochSecond(EXPIRES_AT_EPOCH_SECOND)
        .createdAtEpochMillis(CREATED_AT_EPOCH_MILLIS).name("vector.bin").chunkSizeBytes(4096).build();
    byte[] other;
    try (StreamingSealer s = TestEnvelopes.scriptedSealer(secret("header-swapped ephemeral secret"),
        secret("header-swapped salt"))) {
      other = TestEnvelopes.seal(s, again, counterStream(PLAINTEXT_LABEL, 8193));
    }
    check(other.length == e2.length, "second seal length");
    negative("header-swapped", "The header of another envelope of the same length to the same destination"
            + " (ephemeral secret and salt from labels \"" + LABEL_PREFIX + "header-swapped ephemeral secret\" and \""
            + LABEL_PREFIX + "header-swapped salt\") followed by direct-8193's records.", b2, "other header + records of direct-8193",
        EnvelopeLayout.concat(EnvelopeLayout.of(other).piece0(other), Arrays.copyOfRange(e2, h2.length, e2.length)),
        dest, null, EnvelopeException.Reason.BAD_CHUNK_TAG);

    crafted();
    files.put("negative-envelopes.jsonl", String.join("\n", negativeLines) + "\n");
  }

  /**
   * Envelopes that authenticate but break the content rules: anyone with the destination's public card can
   * seal these, so the opener must refuse them. Built by the reference sealer from explicit chunk
   * plaintexts (encoding byte first).
   */
  private void crafted() throws Exception {
    byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
    byte[] goodMeta = SpecReference.metadata(0, 5, CREATED_AT_EPOCH_MILLIS, "hello.txt", "text/plain");
    byte[] emptyMeta = SpecReference.metadata(0, 0, CREATED_AT_EPOCH_MILLIS, "", "a/b");
    byte[] rawHello = EnvelopeLayout.concat(new byte[] {0}, hello);
    craft("crafted-valid", "A valid envelope built by the reference sealer (the control for the crafted"
        + " vectors): opens to \"hello\".", List.of(rawHello), goodMeta, null);
    craft("crafted-bad-lz4-block", "Data chunk with encoding 1 whose body is not an LZ4 block.",
        List.of(new byte[] {1, (byte) 0xff, (byte) 0xff, (byte) 0xff}), emptyMeta,
        EnvelopeException.Reason.BAD_COMPRESSION);
    byte[] zeros = new byte[8192];
    byte[] overlong = new byte[64];
    int n = net.jpountz.lz4.LZ4Factory.safeInstance().fastCompressor().compress(zeros, 0, zeros.length, overlong, 0,
        overlong.length);
    craft("crafted-lz4-overlong", "Data chunk with an LZ4 block that decodes to 8192 bytes, more than the 4096-byte"
            + " chunk.", List.of(EnvelopeLayout.concat(new byte[] {1}, Arrays.copyOf(overlong, n))), emptyMeta,
        EnvelopeException.Reason.BAD_COMPRESSION);
    // The LZ4 block rules of the spec (§8), one broken rule per vector; 'abcdefgh' = 61..68.
    byte[] abc = "abcdefgh".getBytes(StandardCharsets.US_ASCII);
    byte[] twelve = "ijklmnopqrst".getBytes(StandardCharsets.US_ASCII);
    craft("crafted-lz4-offset-zero", "LZ4 block: 8 literals, a 4-byte match with offset 0 (invalid in LZ4; a lenient"
            + " decoder copies whatever its buffer held), 12 literals.",
        List.of(EnvelopeLayout.concat(new byte[] {1, (byte) 0x80}, abc, new byte[] {0, 0, (byte) 0xc0}, twelve)),
        emptyMeta, EnvelopeException.Reason.BAD_COMPRESSION);
    craft("crafted-lz4-offset-before-start", "LZ4 block: 8 literals, a 4-byte match with offset 9 (before the"
            + " block's first byte), 12 literals.",
        List.of(EnvelopeLayout.concat(new byte[] {1, (byte) 0x80}, abc, new byte[] {9, 0, (byte) 0xc0}, twelve)),
        emptyMeta, EnvelopeException.Reason.BAD_COMPRESSION);
    craft("crafted-lz4-ends-with-match", "LZ4 block: 8 literals, then an 8-byte match, and nothing after: the last"
            + " sequence must be literals only.",
        List.of(EnvelopeLayout.concat(new byte[] {1, (byte) 0x84}, abc, new byte[] {8, 0})), emptyMeta,
        EnvelopeException.Reason.BAD_COMPRESSION);
    craft("crafted-lz4-match-in-last-5", "LZ4 block of 20 bytes: 8 literals, an 8-byte match (starts 12 bytes before"
            + " the end), 4 literals: the match ends 4 bytes before the end, the last 5 must be literals.",
        List.of(EnvelopeLayout.concat(new byte[] {1, (byte) 0x84}, abc, new byte[] {8, 0, (byte) 0x40},
            Arrays.copyOf(twelve, 4))), emptyMeta, EnvelopeException.Reason.BAD_COMPRESSION);
    craft("crafted-lz4-last-match-too-late", "LZ4 block of 17 bytes: 8 literals, a 4-byte match, 5 literals: the"
            + " match ends 5 bytes before the end but starts 9 before, the last match must start at least 12"
            + " before.",
        List.of(EnvelopeLayout.concat(new byte[] {1, (byte) 0x80}, abc, new byte[] {8, 0, (byte) 0x50},
            Arrays.copyOf(twelve, 5))), emptyMeta, EnvelopeException.Reason.BAD_COMPRESSION);
    craft("crafted-lz4-edge", "LZ4 block of 20 bytes at the edge of the rules (the control for the LZ4 vectors):"
            + " 8 literals, a 7-byte match starting exactly 12 and ending exactly 5 bytes before the end, 5 literals;"
            + " opens to \"abcdefghabcdefgijklm\".",
        List.of(EnvelopeLayout.concat(new byte[] {1, (byte) 0x83}, abc, new byte[] {8, 0, (byte) 0x50},
            Arrays.copyOf(twelve, 5))),
        SpecReference.metadata(0, 20, CREATED_AT_EPOCH_MILLIS, "", "a/b"), null);
    craft("crafted-unknown-encoding", "Data chunk with encoding 3.", List.of(new byte[] {3, 'a'}), emptyMeta,
        EnvelopeException.Reason.BAD_COMPRESSION);
    craft("crafted-metadata-encoding-in-data", "Data chunk with encoding 2 (metadata).", List.of(new byte[] {2, 'a'}),
        emptyMeta, EnvelopeException.Reason.BAD_METADATA);
    byte[] fullChunk = EnvelopeLayout.concat(new byte[] {0}, repeatPhrase(4096));
    byte[] shortChunk = EnvelopeLayout.concat(new byte[] {0}, repeatPhrase(100));
    byte[] both = EnvelopeLayout.concat(repeatPhrase(100), repeatPhrase(4096));
    craft("crafted-short-chunk-not-last", "A 100-byte data chunk followed by a full one: only the last data chunk"
            + " may be short.", List.of(shortChunk, fullChunk),
        SpecReference.metadata(0, both.length, CREATED_AT_EPOCH_MILLIS, "", "a/b"),
        EnvelopeException.Reason.BAD_RECORD_LENGTH);
    craft("crafted-empty-lz4-chunk", "Data chunk with encoding 1 whose LZ4 block decodes to zero bytes.",
        List.of(new byte[] {1, 0}), emptyMeta, EnvelopeException.Reason.BAD_RECORD_LENGTH);
    craft("crafted-length-mismatch", "Metadata says 6 plaintext bytes, the chunks hold 5.", List.of(rawHello),
        SpecReference.metadata(0, 6, CREATED_AT_EPOCH_MILLIS, "hello.txt", "text/plain"),
        EnvelopeException.Reason.PLAINTEXT_MISMATCH);
    byte[] badPadding = goodMeta.clone();
    badPadding[511] = 1;
    craft("crafted-metadata-padding", "Metadata padding byte 511 is 1.", List.of(rawHello), badPadding,
        EnvelopeException.Reason.BAD_METADATA);
    byte[] badKind = goodMeta.clone();
    badKind[1] = 7;
    craft("crafted-metadata-kind", "Metadata content kind 7 (undefined).", List.of(rawHello), badKind,
        EnvelopeException.Reason.BAD_METADATA);
    byte[] badEncoding = goodMeta.clone();
    badEncoding[0] = 0;
    craft("crafted-metadata-encoding", "Final chunk encoding 0 instead of 2.", List.of(rawHello), badEncoding,
        EnvelopeException.Reason.BAD_METADATA);
    craft("crafted-metadata-media-type", "Metadata media type \"text plain\" has a space.", List.of(rawHello),
        SpecReference.metadata(0, 5, CREATED_AT_EPOCH_MILLIS, "hello.txt", "text plain"),
        EnvelopeException.Reason.BAD_METADATA);
    byte[] badName = goodMeta.clone();
    badName[1 + 1 + 8 + 8 + 1] = (byte) 0xc3; // "hello.txt"[0] becomes a lone UTF-8 lead byte
    craft("crafted-metadata-name-utf8", "Metadata name is not valid UTF-8.", List.of(rawHello), badName,
        EnvelopeException.Reason.BAD_METADATA);
    byte[] raw511 = EnvelopeLayout.concat(new byte[] {0}, repeatPhrase(511));
    craft("crafted-no-final-chunk", "Two data chunks (4096 and 511 bytes) and no final chunk, with the header's"
            + " length covering exactly them: the record where the final chunk belongs has the final record's"
            + " length (528) but authenticates as data chunk 1.", List.of(fullChunk, raw511), null,
        EnvelopeException.Reason.MISSING_FINAL_CHUNK);
  }

  private void craft(String name, String description, List<byte[]> chunks, byte[] metadata,
      EnvelopeException.Reason expected) throws Exception {
    DestinationKeyPair dest = destinations.get("destination");
    SpecReference.Plan p = new SpecReference.Plan();
    p.expiresAtEpochSecond = EXPIRES_AT_EPOCH_SECOND;
    p.ephemeralSecret = secret(name + " ephemeral secret");
    p.salt = secret(name + " salt");
    p.destinationAgreementKey = dest.card().agreementKey();
    p.receiptKey = dest.card().receiptKey();
    p.releaseKey = sources.get("source").publicKey();
    p.locator = dest.card().locator();
    p.dataChunkPlaintexts.addAll(chunks);
    p.metadataPlaintext = metadata;
    byte[] envelope = SpecReference.seal(p, null);
    List<Object> chunkHex = new ArrayList<>();
    for (byte[] c : chunks) {
      chunkHex.add(hex(c));
    }
    String mutation = "sealed by the reference from labels \"" + LABEL_PREFIX + name + " ephemeral secret\" and \""
        + LABEL_PREFIX + name + " salt\" with chunk plaintexts " + Json.line(chunkHex) + " and " + (metadata == null
        ? "no final chunk" : "final chunk plaintext " + hex(metadata));
    if (expected == null) {
      // The control: engine and reference both open it.
      SpecReference.Opened ref = SpecReference.open(envelope, dest.agreementPrivateKey(
          io.crowdbackup.api.SecretAccess.explicitly()));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      new StreamingOpener(dest).open(Channels.newChannel(new ByteArrayInputStream(envelope)),
          Channels.newChannel(out));
      check(Arrays.equals(out.toByteArray(), ref.plaintext), name);
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("name", name);
      v.put("description", description);
      v.put("mutation", mutation);
      v.put("opened_by", "destination");
      v.put("plaintext_hex", hex(ref.plaintext));
      v.put("fingerprint", hex(ref.fingerprint));
      v.put("envelope_hex", hex(envelope));
      files.put("envelopes/" + name + ".json", Json.pretty(v));
      return;
    }
    negative(name, description, null, mutation, envelope, "destination", null, expected);
  }

  // ---- receipts -------------------------------------------------------------------------------------------

  private final List<String> receiptLines = new ArrayList<>();

  private void receipts() throws Exception {
    String b = "direct-1";
    Fingerprint fp = fingerprints.get(b);
    DestinationKeyPair dest = destinations.get("destination");
    SigningKeyPair source = sources.get("source");
    Receipt receipt = Receipts.signReceipt(dest, fp, SIGNED_AT_EPOCH_SECOND);
    Receipt release = Receipts.signRelease(source, fp, SIGNED_AT_EPOCH_SECOND);
    byte[] rc = Receipts.encode(receipt);
    byte[] rl = Receipts.encode(release);
    receipt("receipt", "The destination's receipt for direct-1.", "destination", rc, fp, "receipt", null);
    receipt("release", "The source's release of direct-1.", "source", rl, fp, "release", null);
    byte[] forged = xor(rc, 100, 0x01);
    receipt("forged-signature", "Receipt with signature byte 21 changed.", null, forged, fp, "receipt",
        "BAD_SIGNATURE");
    receipt("signed-at-altered", "Receipt with its time moved one second; the signature no longer covers it.",
        null, with(rc, 39, u64(SIGNED_AT_EPOCH_SECOND + 1)), fp, "receipt", "BAD_SIGNATURE");
    receipt("other-fingerprint", "A genuine receipt for direct-0 presented for direct-1.", "destination",
        Receipts.encode(Receipts.signReceipt(dest, fingerprints.get("direct-0"), SIGNED_AT_EPOCH_SECOND)), fp,
        "receipt", "WRONG_FINGERPRINT");
    receipt("other-signer", "A receipt for direct-1 signed by another destination's receipt key.", "other",
        Receipts.encode(Receipts.signReceipt(destinations.get("other"), fp, SIGNED_AT_EPOCH_SECOND)), fp, "receipt",
        "WRONG_SIGNER");
    receipt("receipt-as-release", "A genuine receipt where a release is required.", "destination", rc, fp,
        "release", "WRONG_KIND");
    receipt("release-as-receipt", "A genuine release where a receipt is required.", "source", rl, fp, "receipt",
        "WRONG_KIND");
    receipt("bad-magic", "Magic \"CBRD\".", null, with(rc, 3, (byte) 'D'), fp, "receipt", "RECEIPT_MALFORMED");
    receipt("version-too-new", "Receipt version 2.", null, with(rc, 4, u16(2)), fp, "receipt", "RECEIPT_VERSION_TOO_NEW");
    receipt("version-too-old", "Receipt version 0.", null, with(rc, 4, u16(0)), fp, "receipt", "RECEIPT_VERSION_TOO_OLD");
    receipt("too-short", "142 bytes.", null, Arrays.copyOf(rc, 142), fp, "receipt", "RECEIPT_MALFORMED");
    receipt("too-long", "144 bytes.", null, Arrays.copyOf(rc, 144), fp, "receipt", "RECEIPT_MALFORMED");
    receipt("undefined-kind", "Kind 3.", null, with(rc, 6, (byte) 3), fp, "receipt", "RECEIPT_MALFORMED");
    files.put("receipts.jsonl", String.join("\n", receiptLines) + "\n");
  }

  private void receipt(String name, String description, String signer, byte[] encoded, Fingerprint fp,
      String required, String expected) throws Exception {
    io.crowdbackup.api.EnvelopeHeader header = EnvelopeHeaders.decode(envelopes.get("direct-1"));
    String got = null;
    try {
      Receipt r = Receipts.decode(encoded);
      Receipts.verify(r, required.equals("receipt") ? Receipt.Kind.RECEIPT : Receipt.Kind.RELEASE, fp, header);
    } catch (io.crowdbackup.api.ReceiptException e) {
      got = e.reason().name();
    }
    if (!java.util.Objects.equals(got, expected)) {
      throw new IllegalStateException("receipt vector " + name + ": engine says " + got + ", expected " + expected);
    }
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", name);
    v.put("description", description);
    v.put("signer", signer);
    v.put("envelope", "direct-1");
    v.put("fingerprint", fp.toHex());
    v.put("receipt_key", hex(header.receiptKey()));
    v.put("release_key", hex(header.releaseKey()));
    v.put("required_kind", required);
    if (encoded.length == Receipts.ENCODED_BYTES) {
      v.put("signed_message_hex", hex(EnvelopeLayout.concat(SpecReference.RECEIPT_DOMAIN,
          Arrays.copyOf(encoded, Receipts.ENCODED_BYTES - 64))));
    }
    v.put("encoded_hex", hex(encoded));
    v.put("expected", expected == null ? "ok" : expected);
    receiptLines.add(Json.line(v));
  }
}
