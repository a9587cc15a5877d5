package io.crowdbackup.engine.envelope;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.SecretAccess;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The committed test vectors in {@code docs/test-vectors/} are exactly what {@link VectorGenerator} produces
 * today, and they say what they claim: every positive vector opens (engine and reference) to its plaintext,
 * fingerprint and derived values; every negative vector fails with its reason; every receipt vector
 * verifies or fails as stated. Run with {@code -Dvectors.regenerate=true} to rewrite the files instead.
 */
class VectorsTest {
  static Path dir;
  static Map<String, String> generated;
  static final Map<String, DestinationKeyPair> DESTINATIONS = new HashMap<>();

  @BeforeAll
  static void generate() throws Exception {
    Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    Path root = Files.exists(base.resolve("engine")) ? base : base.resolve("..").normalize();
    dir = root.resolve("docs/test-vectors");
    generated = VectorGenerator.generate();
    if (Boolean.getBoolean("vectors.regenerate")) {
      for (String stale : committedFiles()) {
        if (!generated.containsKey(stale)) {
          Files.delete(dir.resolve(stale));
        }
      }
      for (Map.Entry<String, String> f : generated.entrySet()) {
        Path p = dir.resolve(f.getKey());
        Files.createDirectories(p.getParent());
        Files.writeString(p, f.getValue(), StandardCharsets.UTF_8);
      }
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> keys = (Map<String, Object>) Json.parse(read("keys.json"));
    for (Object o : (List<?>) keys.get("destinations")) {
      Map<?, ?> k = (Map<?, ?>) o;
      DESTINATIONS.put((String) k.get("name"), Keys.decodeDestination((String) k.get("key_file")));
    }
  }

  static String read(String relative) throws IOException {
    return Files.readString(dir.resolve(relative), StandardCharsets.UTF_8);
  }

  static TreeSet<String> committedFiles() throws IOException {
    if (!Files.isDirectory(dir)) {
      return new TreeSet<>();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile)
          .map(p -> dir.relativize(p).toString().replace('\\', '/'))
          .filter(p -> p.endsWith(".json") || p.endsWith(".jsonl"))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  @Test
  void committedVectorsAreExactlyTheRegeneratedOnes() throws IOException {
    assertEquals(new TreeSet<>(generated.keySet()), committedFiles(), "vector files in " + dir);
    for (Map.Entry<String, String> f : generated.entrySet()) {
      String committed = read(f.getKey());
      if (!committed.equals(f.getValue())) {
        String[] a = committed.split("\n", -1);
        String[] b = f.getValue().split("\n", -1);
        int line = 0;
        while (line < Math.min(a.length, b.length) && a[line].equals(b[line])) {
          line++;
        }
        fail(f.getKey() + " differs from the regenerated vector at line " + (line + 1)
            + " (regenerate with -Dvectors.regenerate=true if the change is intended)");
      }
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> obj(Object o) {
    return (Map<String, Object>) o;
  }

  static byte[] hex(Object o) {
    return Hex.parse((String) o);
  }

  static List<Map<String, Object>> jsonLines(String relative) throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String line : read(relative).split("\n")) {
      if (!line.isEmpty()) {
        out.add(obj(Json.parse(line)));
      }
    }
    return out;
  }

  @Test
  void keysDeriveFromTheirLabelsAndKeyFilesDecode() throws Exception {
    Map<String, Object> keys = obj(Json.parse(read("keys.json")));
    for (Object o : (List<?>) keys.get("destinations")) {
      Map<String, Object> k = obj(o);
      byte[] secret = hex(k.get("agreement_secret"));
      byte[] seed = hex(k.get("receipt_seed"));
      assertArrayEquals(SpecReference.sha256(((String) k.get("agreement_secret_label")).getBytes(StandardCharsets.UTF_8)),
          secret);
      assertArrayEquals(SpecReference.sha256(((String) k.get("receipt_seed_label")).getBytes(StandardCharsets.UTF_8)),
          seed);
      assertArrayEquals(SpecReference.x25519Public(secret), hex(k.get("agreement_public")));
      assertArrayEquals(SpecReference.ed25519Public(seed), hex(k.get("receipt_public")));
      DestinationKeyPair pair = Keys.decodeDestination((String) k.get("key_file"));
      assertEquals(pair.card(), Keys.decodeCard((String) k.get("card_file")));
      assertEquals(k.get("locator"), pair.card().locator());
      assertArrayEquals(secret, pair.agreementPrivateKey(SecretAccess.explicitly()));
    }
    for (Object o : (List<?>) keys.get("sources")) {
      Map<String, Object> k = obj(o);
      SigningKeyPair s = Keys.decodeSigning((String) k.get("key_file"));
      assertArrayEquals(hex(k.get("public")), s.publicKey());
      assertArrayEquals(SpecReference.ed25519Public(hex(k.get("seed"))), s.publicKey());
    }
  }

  @Test
  void positiveVectorsOpenToWhatTheySay() throws Exception {
    int layersChecked = 0;
    for (String file : committedFiles()) {
      if (!file.startsWith("envelopes/")) {
        continue;
      }
      Map<String, Object> v = obj(Json.parse(read(file)));
      if (!v.containsKey("layers")) {
        // crafted-valid, crafted-lz4-edge: the reference-built controls.
        byte[] e = hex(v.get("envelope_hex"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OpenResult r = new StreamingOpener(DESTINATIONS.get("destination"))
            .open(Channels.newChannel(new ByteArrayInputStream(e)), Channels.newChannel(out));
        assertArrayEquals(hex(v.get("plaintext_hex")), out.toByteArray(), file);
        assertEquals(v.get("fingerprint"), r.fingerprint().toHex(), file);
        continue;
      }
      byte[] plaintext = plaintextOf(v);
      assertEquals(v.get("plaintext_sha256"), Hex.of(SpecReference.sha256(plaintext)), file);
      if (v.containsKey("plaintext_hex")) {
        assertArrayEquals(hex(v.get("plaintext_hex")), plaintext, file);
      }
      List<Object> layers = (List<Object>) v.get("layers");
      byte[] layerEnvelope = null;
      for (int i = 0; i < layers.size(); i++) {
        Map<String, Object> l = obj(layers.get(i));
        String what = file + " layer " + i;
        if (l.containsKey("envelope_hex")) {
          byte[] inline = hex(l.get("envelope_hex"));
          if (layerEnvelope != null) {
            assertArrayEquals(inline, layerEnvelope, what + ": inner envelope is the outer's plaintext");
          }
          layerEnvelope = inline;
        } else if (layerEnvelope == null) {
          layerEnvelope = resealFromFields(v, l, plaintext);
        }
        checkLayer(what, l, layerEnvelope, i == layers.size() - 1 ? plaintext : null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new StreamingOpener(DESTINATIONS.get((String) l.get("opened_by")))
            .open(Channels.newChannel(new ByteArrayInputStream(layerEnvelope)), Channels.newChannel(out),
                Fingerprint.fromHex((String) l.get("fingerprint")));
        layerEnvelope = out.toByteArray();
        layersChecked++;
      }
      assertArrayEquals(plaintext, layerEnvelope, file + ": innermost plaintext");
    }
    assertTrue(layersChecked >= 9, "layers checked: " + layersChecked);
  }

  /** The plaintext from its recipe: language-neutral generators. */
  static byte[] plaintextOf(Map<String, Object> v) {
    List<byte[]> parts = new ArrayList<>();
    for (Object o : (List<?>) v.get("plaintext_recipe")) {
      Map<String, Object> s = obj(o);
      int n = (int) (long) (Long) s.get("length");
      if (s.get("kind").equals("repeat")) {
        byte[] text = ((String) s.get("text")).getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
          b[i] = text[i % text.length];
        }
        parts.add(b);
      } else {
        assertEquals("sha256-counter", s.get("kind"));
        parts.add(VectorGenerator.counterStream((String) s.get("label"), n));
      }
    }
    return EnvelopeLayout.concat(parts.toArray(new byte[0][]));
  }

  /** A vector too large to inline: sealed again by the engine from the secrets the vector gives. */
  static byte[] resealFromFields(Map<String, Object> v, Map<String, Object> l, byte[] plaintext) throws IOException {
    DestinationKeyPair dest = DESTINATIONS.get((String) l.get("opened_by"));
    io.crowdbackup.api.SealRequest request = io.crowdbackup.api.SealRequest.newBuilder()
        .destination(dest.card())
        .releaseKey(hex(obj(((List<?>) obj(Json.parse(read("keys.json"))).get("sources")).get(0)).get("public")))
        .expiresAtEpochSecond((Long) v.get("expires_at_epoch_second"))
        .createdAtEpochMillis((Long) v.get("created_at_epoch_millis"))
        .name((String) v.get("file_name"))
        .mediaType((String) v.get("media_type"))
        .chunkSizeBytes((int) (long) (Long) v.get("chunk_size_bytes"))
        .build();
    try (StreamingSealer s = TestEnvelopes.scriptedSealer(hex(l.get("ephemeral_secret")), hex(l.get("salt")))) {
      return TestEnvelopes.seal(s, request, plaintext);
    }
  }

  /** Every field of a layer against the envelope bytes, by the reference and by the engine. */
  static void checkLayer(String what, Map<String, Object> l, byte[] e, byte[] expectedPlaintext) throws Exception {
    assertEquals((long) e.length, l.get("envelope_length"), what);
    assertEquals(l.get("envelope_sha256"), Hex.of(SpecReference.sha256(e)), what);
    DestinationKeyPair opener = DESTINATIONS.get((String) l.get("opened_by"));
    byte[] ephemeralSecret = hex(l.get("ephemeral_secret"));
    byte[] salt = hex(l.get("salt"));
    assertArrayEquals(SpecReference.sha256(((String) l.get("ephemeral_secret_label")).getBytes(StandardCharsets.UTF_8)),
        ephemeralSecret, what);
    assertArrayEquals(SpecReference.sha256(((String) l.get("salt_label")).getBytes(StandardCharsets.UTF_8)), salt, what);
    // The sender's side of the key schedule, from the vector's secrets alone.
    byte[] ephemeralPublic = SpecReference.x25519Public(ephemeralSecret);
    assertEquals(l.get("ephemeral_public"), Hex.of(ephemeralPublic), what);
    byte[] shared = SpecReference.x25519(ephemeralSecret, opener.card().agreementKey());
    assertEquals(l.get("shared_secret"), Hex.of(shared), what);
    SpecReference.Derived d = SpecReference.keySchedule(shared, ephemeralPublic, opener.card().agreementKey(), salt);
    SpecReference.payloadKeys(d, Arrays.copyOf(e, hex(l.get("piece0_hex")).length));
    assertEquals(l.get("prk"), Hex.of(d.prk), what);
    assertEquals(l.get("header_mac_key"), Hex.of(d.headerMacKey), what);
    assertEquals(l.get("piece0_hex"), Hex.of(d.piece0), what);
    assertEquals(l.get("header_mac"), Hex.of(d.headerMac), what);
    byte[] piece0 = d.piece0;
    assertArrayEquals(SpecReference.hmacSha256(d.headerMacKey, Arrays.copyOf(piece0, piece0.length - 32)),
        d.headerMac, what + ": header MAC");
    assertEquals(l.get("piece0_sha256"), Hex.of(d.piece0Sha256), what);
    assertEquals(l.get("payload_key"), Hex.of(d.payloadKey), what);
    assertEquals(l.get("nonce_prefix"), Hex.of(d.noncePrefix), what);
    // The receiver's side, by the reference.
    SpecReference.Opened ref = SpecReference.open(e, opener.agreementPrivateKey(SecretAccess.explicitly()));
    assertEquals(l.get("fingerprint"), Hex.of(ref.fingerprint), what);
    assertEquals(l.get("plaintext_sha256"), Hex.of(SpecReference.sha256(ref.plaintext)), what);
    assertEquals(l.get("file_name"), ref.name, what);
    assertEquals(l.get("media_type"), ref.mediaType, what);
    assertEquals(l.get("content_kind"), ref.contentKind == 0 ? "file" : "relayed-envelope", what);
    List<Object> pieces = new ArrayList<>();
    for (byte[] p : ref.pieceDigests) {
      pieces.add(Hex.of(p));
    }
    assertEquals(l.get("piece_sha256"), pieces, what);
    List<Object> encodings = new ArrayList<>();
    for (int enc : ref.encodings) {
      encodings.add((long) enc);
    }
    assertEquals(l.get("record_encodings"), encodings, what);
    byte[] metadata = SpecReference.aesGcm(javax.crypto.Cipher.DECRYPT_MODE, d.payloadKey,
        SpecReference.nonce(d.noncePrefix, ref.encodings.size() - 1, true), d.piece0Sha256,
        Arrays.copyOfRange(e, e.length - 528, e.length));
    assertEquals(l.get("metadata_plaintext_hex"), Hex.of(metadata), what);
    if (expectedPlaintext != null) {
      assertArrayEquals(expectedPlaintext, ref.plaintext, what);
    }
    // The keyless views: the scanner and the framing-only fingerprint.
    assertEquals(l.get("fingerprint"), EnvelopeScanner.scan(Channels.newChannel(new ByteArrayInputStream(e))).toHex());
    assertEquals(l.get("fingerprint"), Hex.of(SpecReference.fingerprint(e)), what);
    EnvelopeHeader h = EnvelopeHeaders.decode(e);
    assertEquals(l.get("locator"), h.locator(), what);
    // The engine's opener hashes the plaintext it writes (v2 carries no hash): the destination's record.
    OpenResult engine = new StreamingOpener(opener).open(Channels.newChannel(new ByteArrayInputStream(e)),
        Channels.newChannel(new ByteArrayOutputStream()));
    assertEquals(l.get("plaintext_sha256"), Hex.of(engine.plaintextSha256()), what);
  }

  @Test
  void aFormatV1EnvelopeIsRefusedByItsVersionNamingIt() throws Exception {
    byte[] v1 = VectorGenerator.v1Envelope();
    EnvelopeException e = assertThrows(EnvelopeException.class, () -> new StreamingOpener(DESTINATIONS.get("destination"))
        .open(Channels.newChannel(new ByteArrayInputStream(v1)), Channels.newChannel(new ByteArrayOutputStream())));
    assertEquals(EnvelopeException.Reason.VERSION_TOO_OLD, e.reason());
    assertTrue(e.getMessage().contains("format version 1"), e.getMessage());
    EnvelopeException keyless = assertThrows(EnvelopeException.class,
        () -> EnvelopeScanner.scan(Channels.newChannel(new ByteArrayInputStream(v1))));
    assertEquals(EnvelopeException.Reason.VERSION_TOO_OLD, keyless.reason());
  }

  @Test
  void negativeVectorsFailWithTheirReason() throws Exception {
    List<Map<String, Object>> vectors = jsonLines("negative-envelopes.jsonl");
    java.util.EnumSet<EnvelopeException.Reason> covered = java.util.EnumSet.noneOf(EnvelopeException.Reason.class);
    for (Map<String, Object> v : vectors) {
      String name = (String) v.get("name");
      byte[] e = hex(v.get("envelope_hex"));
      DestinationKeyPair opener = DESTINATIONS.get((String) v.get("opened_by"));
      Fingerprint expectedFp = v.get("expected_fingerprint") == null ? null
          : Fingerprint.fromHex((String) v.get("expected_fingerprint"));
      EnvelopeException ex = assertThrows(EnvelopeException.class, () -> new StreamingOpener(opener)
          .open(Channels.newChannel(new ByteArrayInputStream(e)), Channels.newChannel(new ByteArrayOutputStream()),
              expectedFp), name);
      assertEquals(v.get("expected_reason"), ex.reason().name(), name + ": " + ex.getMessage());
      covered.add(ex.reason());
      // The keyless scanner's verdict.
      try {
        Fingerprint fp = EnvelopeScanner.scan(Channels.newChannel(new ByteArrayInputStream(e)));
        assertNull(v.get("keyless_reason"), name);
        assertEquals(v.get("keyless_fingerprint"), fp.toHex(), name);
      } catch (EnvelopeException scanned) {
        assertEquals(v.get("keyless_reason"), scanned.reason().name(), name);
        assertNull(v.get("keyless_fingerprint"), name);
      }
      // The reference implementation refuses it too (it has no expected-fingerprint check: compare instead).
      byte[] secret = opener.agreementPrivateKey(SecretAccess.explicitly());
      if (expectedFp != null) {
        assertNotEquals(expectedFp.toHex(), Hex.of(SpecReference.open(e, secret).fingerprint), name);
      } else {
        Exception refused = assertThrows(Exception.class, () -> SpecReference.open(e, secret),
            name + ": the reference accepted it");
        if (name.startsWith("crafted-lz4-")) {
          // For the block rules, the reference refuses for the same cause, not at the metadata after it.
          assertTrue(String.valueOf(refused.getMessage()).contains("LZ4")
              || refused instanceof net.jpountz.lz4.LZ4Exception, name + ": " + refused);
        }
      }
    }
    // Every reason an envelope can be refused for on open has a vector (sealing-side reasons excluded).
    java.util.EnumSet<EnvelopeException.Reason> expected = java.util.EnumSet.allOf(EnvelopeException.Reason.class);
    expected.removeAll(java.util.EnumSet.of(EnvelopeException.Reason.PLAINTEXT_LENGTH_MISMATCH,
        EnvelopeException.Reason.LENGTH_MISMATCH, EnvelopeException.Reason.WRONG_CONTENT_KIND,
        EnvelopeException.Reason.NOT_ENOUGH_MEMORY));
    assertEquals(expected, covered, "reasons with a negative vector");
  }

  @Test
  void receiptVectorsVerifyOrFailAsStated() throws Exception {
    Map<String, Object> keys = obj(Json.parse(read("keys.json")));
    Map<String, byte[]> seeds = new HashMap<>();
    for (Object o : (List<?>) keys.get("destinations")) {
      seeds.put((String) obj(o).get("name"), hex(obj(o).get("receipt_seed")));
    }
    seeds.put("source", hex(obj(((List<?>) keys.get("sources")).get(0)).get("seed")));
    List<Map<String, Object>> vectors = jsonLines("receipts.jsonl");
    assertTrue(vectors.size() >= 10);
    for (Map<String, Object> v : vectors) {
      String name = (String) v.get("name");
      byte[] encoded = hex(v.get("encoded_hex"));
      Fingerprint fp = Fingerprint.fromHex((String) v.get("fingerprint"));
      EnvelopeHeader header = new EnvelopeHeader(1, 1, 4096, 1000, 0, "x", hex(v.get("receipt_key")),
          hex(v.get("release_key")), new byte[32], new byte[32], 216);
      Receipt.Kind required = v.get("required_kind").equals("receipt") ? Receipt.Kind.RECEIPT : Receipt.Kind.RELEASE;
      String got = "ok";
      try {
        Receipts.verify(Receipts.decode(encoded), required, fp, header);
      } catch (ReceiptException e) {
        got = e.reason().name();
      }
      assertEquals(v.get("expected"), got, name);
      boolean wellFormed = List.of("ok", "BAD_SIGNATURE", "WRONG_FINGERPRINT", "WRONG_SIGNER", "WRONG_KIND")
          .contains(v.get("expected"));
      if (wellFormed) {
        byte[] message = hex(v.get("signed_message_hex"));
        byte[] signature = Arrays.copyOfRange(encoded, 79, 143);
        byte[] signerKey = Arrays.copyOfRange(encoded, 47, 79);
        boolean jdkVerifies = SpecReference.ed25519Verify(signerKey, message, signature);
        assertEquals(!"BAD_SIGNATURE".equals(v.get("expected")), jdkVerifies, name + ": JDK Ed25519 verify");
        if (v.get("signer") != null) {
          // Ed25519 is deterministic: the JDK signs the message to the same signature.
          assertArrayEquals(signature, SpecReference.ed25519Sign(seeds.get((String) v.get("signer")), message), name);
        }
      }
    }
  }
}
