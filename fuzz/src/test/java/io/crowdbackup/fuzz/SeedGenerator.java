package io.crowdbackup.fuzz;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.engine.envelope.EnvelopeHeaders;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The seed corpora, generated from deterministic keys, sealers and plaintexts. Seeds live where Jazzer's
 * JUnit integration looks for regression inputs: {@code src/test/resources/io/crowdbackup/fuzz/
 * <TestClass>Inputs/<method>/}, one file per input, named {@code seed-*}. Rerun (it overwrites only
 * {@code seed-*} files) with:
 *
 * <pre>
 * mvn -o -Dquick -pl fuzz -am test -Dtest=SeedCorpusTest -Dsurefire.failIfNoSpecifiedTests=false -Dfuzz.writeSeeds=true
 * </pre>
 *
 * {@link SeedCorpusTest} checks on every build that the committed seeds are what this generates.
 */
final class SeedGenerator {
  private SeedGenerator() {}

  /** Relative directory of a target's inputs under the test resources. */
  static String dir(Class<?> target, String method) {
    return "io/crowdbackup/fuzz/" + target.getSimpleName() + "Inputs/" + method;
  }

  /** Every seed: directory -> (file name -> bytes). Names containing "lz4" depend on the LZ4 backend. */
  static Map<String, Map<String, byte[]>> all() {
    Map<String, Map<String, byte[]>> out = new LinkedHashMap<>();
    Map<String, byte[]> envelopes = directEnvelopes();
    Map<String, byte[]> relayed = relayedEnvelopes();

    Map<String, byte[]> headers = new LinkedHashMap<>();
    for (Map.Entry<String, byte[]> e : envelopes.entrySet()) {
      int headerLength = header(e.getValue());
      headers.put(e.getKey() + "-header", Arrays.copyOf(e.getValue(), headerLength));
      headers.put(e.getKey() + "-header-plus-8", Arrays.copyOf(e.getValue(), headerLength + 8));
    }
    headers.put("seed-empty", new byte[0]);
    out.put(dir(EnvelopeHeaderFuzzTest.class, "readHeader"), headers);

    Map<String, byte[]> scans = new LinkedHashMap<>();
    long trailer = 0;
    for (Map.Entry<String, byte[]> e : concat(envelopes, relayed).entrySet()) {
      // The provider reads the slicing seed from the last 8 bytes; the rest is the envelope.
      scans.put(e.getKey(), ByteBuffer.allocate(e.getValue().length + 8).put(e.getValue())
          .putLong(0x9E3779B97F4A7C15L * ++trailer).array());
    }
    out.put(dir(EnvelopeScannerFuzzTest.class, "scanSlices"), scans);
    out.put(dir(EnvelopeScannerFuzzTest.class, "resumeFromState"), EnvelopeScannerFuzzTest.resumeStates());

    out.put(dir(EnvelopeOpenFuzzTest.class, "openMutated"), envelopes);
    out.put(dir(EnvelopeOpenFuzzTest.class, "openStructured"), randomBytes(11));
    out.put(dir(EnvelopeOpenFuzzTest.class, "sealOpenRoundTrip"), randomBytes(12));
    out.put(dir(RelayFuzzTest.class, "unwrapMutated"), relayed);
    out.put(dir(RelayFuzzTest.class, "unwrapStructured"), randomBytes(13));
    out.put(dir(ReceiptFuzzTest.class, "decodeVerify"), receipts());
    out.put(dir(ReceiptFuzzTest.class, "roundTrip"), randomBytes(14));
    out.put(dir(KeyFileFuzzTest.class, "decodeKeyFiles"), keyFiles());
    out.put(dir(KeyFileFuzzTest.class, "roundTrip"), randomBytes(15));
    out.put(dir(StoreRecoveryFuzzTest.class, "openDamagedBlob"), StoreRecoveryFuzzTest.blobSeeds());
    out.put(dir(StoreRecoveryFuzzTest.class, "openDamagedLogs"), StoreRecoveryFuzzTest.logSeeds());
    out.put(dir(StoreRecoveryFuzzTest.class, "resumeDamagedUpload"), StoreRecoveryFuzzTest.uploadSeeds());
    out.put(dir(DeliveryLedgerFuzzTest.class, "openDamagedLedger"), DeliveryLedgerFuzzTest.seeds());
    out.put(dir(ChronicleIndexFuzzTest.class, "openDamagedIndex"), ChronicleIndexFuzzTest.seeds());
    out.put(dir(ChronicleIndexFuzzTest.class, "openForgedValues"), ChronicleIndexFuzzTest.forgedSeeds());
    out.put(dir(IndexEntryFuzzTest.class, "decodeValue"), IndexEntryFuzzTest.seeds());
    out.put(dir(IndexEntryFuzzTest.class, "roundTrip"), randomBytes(16));
    out.put(dir(ClockFileFuzzTest.class, "readClockFile"), ClockFileFuzzTest.seeds());
    out.put(dir(ClockFileFuzzTest.class, "roundTrip"), randomBytes(17));
    out.put(dir(WireCodecFuzzTest.class, "parseJson"), WireCodecFuzzTest.jsonSeeds());
    out.put(dir(WireCodecFuzzTest.class, "writeJson"), randomBytes(18));
    out.put(dir(WireCodecFuzzTest.class, "tusHeaders"), WireCodecFuzzTest.tusSeeds());
    out.put(dir(WireCodecFuzzTest.class, "decodeOffer"), WireCodecFuzzTest.offerSeeds());
    out.put(dir(WireCodecFuzzTest.class, "offerRoundTrip"), randomBytes(19));
    out.put(dir(WireCodecFuzzTest.class, "decodeProblem"), WireCodecFuzzTest.problemSeeds());
    out.put(dir(WireCodecFuzzTest.class, "deliveryQuery"), WireCodecFuzzTest.deliveryQuerySeeds());
    out.put(dir(WireCodecFuzzTest.class, "uploadId"), WireCodecFuzzTest.uploadIdSeeds());
    return out;
  }

  private static int header(byte[] envelope) {
    try {
      return EnvelopeHeaders.decode(envelope).encodedLengthBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, byte[]> concat(Map<String, byte[]> a, Map<String, byte[]> b) {
    Map<String, byte[]> out = new LinkedHashMap<>(a);
    out.putAll(b);
    return out;
  }

  /** Envelopes sealed to the fixture destination: sizes around chunk boundaries, raw and LZ4. */
  static Map<String, byte[]> directEnvelopes() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    SealRequest.Builder base = TestEnvelopes.request(Fixtures.DESTINATION, Fixtures.SOURCE).chunkSizeBytes(4096);
    out.put("seed-empty", seal(base, 0, false, Compression.OFF, 1));
    out.put("seed-1-byte", seal(base, 1, false, Compression.OFF, 2));
    out.put("seed-one-full-chunk", seal(base, 4096, false, Compression.OFF, 3));
    out.put("seed-two-chunks", seal(base, 4097, false, Compression.OFF, 4));
    out.put("seed-lz4-four-chunks", seal(base.mediaType("text/plain"), 3 * 4096 + 1, true, Compression.ON, 5));
    out.put("seed-lz4-mixed-8k", seal(TestEnvelopes.request(Fixtures.DESTINATION, Fixtures.SOURCE)
        .chunkSizeBytes(8192).mediaType("text/plain"), 10_000, true, Compression.ON, 6));
    DestinationCard longLocator = new DestinationCard("https://home.example/" + "a".repeat(1003),
        Fixtures.DESTINATION.card().agreementKey(), Fixtures.DESTINATION.card().receiptKey());
    out.put("seed-1024-byte-locator", seal(TestEnvelopes.request(Fixtures.DESTINATION, Fixtures.SOURCE)
        .destination(longLocator).chunkSizeBytes(4096), 100, false, Compression.OFF, 7));
    DestinationCard unicode = new DestinationCard("https://hjem.example/\u00e6\u00f8\u00e5/\u732b",
        Fixtures.DESTINATION.card().agreementKey(), Fixtures.DESTINATION.card().receiptKey());
    out.put("seed-unicode-locator-and-name", seal(TestEnvelopes.request(Fixtures.DESTINATION, Fixtures.SOURCE)
        .destination(unicode).name("\u00c5rsm\u00f8te \ud83d\udcf7.heic").mediaType("image/heic")
        .chunkSizeBytes(4096), 300, false, Compression.OFF, 8));
    return out;
  }

  /** Relayed envelopes: outer to the fixture relay, inner to the fixture destination. */
  static Map<String, byte[]> relayedEnvelopes() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    SealRequest.Builder base = TestEnvelopes.request(Fixtures.DESTINATION, Fixtures.SOURCE)
        .relay(Fixtures.RELAY.card()).chunkSizeBytes(4096);
    out.put("seed-relayed-empty", seal(base, 0, false, Compression.OFF, 21));
    out.put("seed-relayed-100", seal(base, 100, false, Compression.OFF, 22));
    out.put("seed-relayed-lz4-5000", seal(base.mediaType("text/plain"), 5000, true, Compression.ON, 23));
    return out;
  }

  private static List<byte[]> inner;

  /** Inner envelopes the structured relay target wraps (cached: the target calls this per input). */
  static synchronized List<byte[]> innerEnvelopes() {
    if (inner == null) {
      SealRequest.Builder base = TestEnvelopes.request(Fixtures.DESTINATION, Fixtures.SOURCE).chunkSizeBytes(4096);
      List<byte[]> list = new ArrayList<>();
      list.add(seal(base, 0, false, Compression.OFF, 31));
      list.add(seal(base, 100, false, Compression.OFF, 32));
      list.add(seal(base, 4097, false, Compression.OFF, 33));
      list.add(seal(base.mediaType("text/plain"), 3 * 4096, true, Compression.ON, 34));
      inner = Collections.unmodifiableList(list);
    }
    return inner;
  }

  private static byte[] seal(SealRequest.Builder request, int length, boolean compressible, Compression compression,
      long seed) {
    try {
      byte[] plaintext = TestEnvelopes.plaintext(seed, length, compressible);
      // A shared base request: each seed starts from it and sets its own compression once.
      return Fixtures.seal(request.build().toBuilder().compression(compression).build(), plaintext, seed).bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Map<String, byte[]> receipts() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    Fingerprint fp = ReceiptFuzzTest.HELD;
    out.put("seed-receipt", Receipts.encode(Receipts.signReceipt(Fixtures.DESTINATION, fp, 1_800_000_100L)));
    out.put("seed-release", Receipts.encode(Receipts.signRelease(Fixtures.SOURCE, fp, 1_800_000_200L)));
    Fingerprint other = Fingerprint.of(Fixtures.sha256(new byte[] {2}));
    out.put("seed-receipt-other-blob", Receipts.encode(Receipts.signReceipt(Fixtures.DESTINATION, other, 0)));
    out.put("seed-release-by-destination",
        Receipts.encode(Receipts.signRelease(Keys.signingFromSeed(new byte[32]), fp, -1)));
    byte[] v2 = Receipts.encode(Receipts.signReceipt(Fixtures.DESTINATION, fp, 1));
    v2[5] = 2;
    out.put("seed-version-2", v2);
    out.put("seed-magic-only", "CBRC".getBytes(StandardCharsets.US_ASCII));
    return out;
  }

  static Map<String, byte[]> keyFiles() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    out.put("seed-card", utf8(Keys.encodeCard(Fixtures.DESTINATION.card())));
    out.put("seed-destination-key", utf8(Keys.encodeDestination(Fixtures.DESTINATION)));
    out.put("seed-signing-key", utf8(Keys.encodeSigning(Fixtures.SOURCE)));
    out.put("seed-card-with-comments", utf8("# handed out at the door\n" + Keys.encodeCard(Fixtures.RELAY.card())
        .replace("\n", "\r\n") + "\n\n# end\n"));
    return out;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Deterministic random inputs for the FuzzedDataProvider targets, which build valid values from any bytes. */
  static Map<String, byte[]> randomBytes(long seed) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    SplittableRandom random = new SplittableRandom(seed);
    for (int length : new int[] {0, 16, 64, 256, 1024, 4096}) {
      byte[] b = new byte[length];
      random.nextBytes(b);
      out.put("seed-random-" + length, b);
    }
    return out;
  }

  /** Writes every seed under {@code resources} (the module's src/test/resources). */
  static void write(Path resources) throws IOException {
    for (Map.Entry<String, Map<String, byte[]>> d : all().entrySet()) {
      Path dir = resources.resolve(d.getKey());
      Files.createDirectories(dir);
      for (Map.Entry<String, byte[]> f : d.getValue().entrySet()) {
        Files.write(dir.resolve(f.getKey()), f.getValue());
      }
    }
  }
}
