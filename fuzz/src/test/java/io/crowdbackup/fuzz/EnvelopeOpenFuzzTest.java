package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.Contract.check;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.api.Compression;
import io.crowdbackup.api.ContentKind;
import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.InnerMetadata;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.engine.envelope.EnvelopeForge;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/** The destination opening envelopes that arrived through untrusted holders. */
class EnvelopeOpenFuzzTest {
  private static final LZ4Compressor LZ4 = LZ4Factory.safeInstance().fastCompressor();

  /**
   * Arbitrary bytes opened with the fixed destination key; seeds are real envelopes sealed to it (raw and
   * LZ4 chunks, several chunk sizes, empty and multi-chunk plaintexts), so the mutator starts from valid
   * framing. See {@link Opening#open} for the contract.
   */
  @FuzzTest
  void openMutated(byte[] data) throws Exception {
    Opening.open(data, Fixtures.DESTINATION, null);
  }

  /**
   * Near-valid envelopes built with the real key: the provider picks chunk size, plaintext, compression
   * and metadata, then deviations the opener must catch although every chunk authenticates — a wrong
   * encoding byte, an LZ4 block that does not decode (or decodes to the wrong size), a short chunk in the
   * middle, a dropped, duplicated or swapped chunk, a wrong counter or final flag, malformed metadata
   * fields, header fields changed under a valid MAC, a bad record length, truncation, trailing bytes.
   *
   * <p>Contract: as {@link Opening#open}; and when the deviations happen to leave the bytes exactly as the
   * engine would have sealed them, the open succeeds and returns the plaintext and metadata unchanged.
   */
  @FuzzTest
  void openStructured(FuzzedDataProvider fdp) throws Exception {
    Model model = Model.draw(fdp);
    byte[] baseline = model.forge();
    int deviations = fdp.consumeInt(0, 4);
    for (int i = 0; i < deviations; i++) {
      model.deviate(fdp);
    }
    byte[] bytes = model.postForge(fdp, model.forge());
    Fixtures.BoundedSink sink = new Fixtures.BoundedSink(Fixtures.plaintextBound(bytes));
    Contract.Outcome<OpenResult> opened = Opening.open(bytes, Fixtures.DESTINATION, sink);
    if (Arrays.equals(bytes, baseline)) {
      check(opened.ok(), "a well-formed forged envelope was rejected: " + opened);
      check(Arrays.equals(sink.bytes(), model.plaintext), "plaintext changed in the round trip");
      check(opened.value.metadata().equals(model.metadata), "metadata changed in the round trip");
    }
  }

  /**
   * Round trip through the real sealer: arbitrary plaintext, name, media type, creation time, expiry,
   * chunk size, compression, destination locator, direct or relayed. Contract: sealing succeeds; the
   * envelope is as long as the seal result and header say; the keyless scanner's fingerprint is the
   * sealer's; opening (through the relay when there is one) returns the same plaintext, metadata and
   * locator.
   */
  @FuzzTest
  void sealOpenRoundTrip(FuzzedDataProvider fdp) throws Exception {
    int chunk = fdp.pickValue(Fixtures.SMALL_CHUNK_SIZES);
    Compression compression = fdp.pickValue(Compression.values());
    boolean relayed = fdp.consumeBoolean();
    String name = Strings.draw(fdp, 80);
    String mediaType = Strings.mediaType(fdp, SealRequest.MAX_MEDIA_TYPE_BYTES);
    long created = fdp.consumeLong();
    long expires = fdp.consumeLong(0, 253_402_300_799L);
    String locator = Strings.draw(fdp, 60);
    DestinationCard card;
    try {
      card = new DestinationCard(locator, Fixtures.DESTINATION.card().agreementKey(),
          Fixtures.DESTINATION.card().receiptKey());
    } catch (IllegalArgumentException notALocator) {
      card = Fixtures.DESTINATION.card();
    }
    long entropySeed = fdp.consumeLong();
    byte[] plaintext = fdp.consumeBytes(4 * chunk + 1);
    if (fdp.consumeBoolean()) {
      plaintext = TestEnvelopes.plaintext(entropySeed, plaintext.length, true);
    }

    SealRequest.Builder b = SealRequest.newBuilder()
        .destination(card)
        .releaseKey(Fixtures.SOURCE.publicKey())
        .expiresAtEpochSecond(expires)
        .mediaType(mediaType)
        .createdAtEpochMillis(created)
        .compression(compression)
        .chunkSizeBytes(chunk);
    try {
      b.name(name);
    } catch (IllegalArgumentException notAName) {
      // The builder refuses text that would not survive UTF-8 (findings F1, F2: lone surrogates were
      // once sealed as '?'); such a name never reaches an envelope.
      check(Strings.hasLoneSurrogate(name), "a name without a lone surrogate was refused: " + Strings.escape(name));
      return;
    }
    if (relayed) {
      b.relay(Fixtures.RELAY.card());
    }
    SealRequest request = b.build();
    Fixtures.Sealed sealed = Fixtures.seal(request, plaintext, entropySeed);
    check(sealed.bytes.length == sealed.result.envelopeLengthBytes()
        && sealed.bytes.length == sealed.result.header().envelopeLengthBytes(),
        "envelope is " + sealed.bytes.length + " bytes, seal result says " + sealed.result.envelopeLengthBytes());
    check(io.crowdbackup.engine.Envelopes.fingerprint(Fixtures.channel(sealed.bytes)).equals(sealed.result.fingerprint()),
        "scanner fingerprint differs from the sealer's");

    byte[] envelope = sealed.bytes;
    if (relayed) {
      Relay.Unwrapped u = Relay.unwrap(envelope);
      check(u.outer.ok() && u.inner != null, "relay could not unwrap a sealed relay envelope: " + u.outer);
      check(u.outer.value.header().locator().equals(Fixtures.RELAY_LOCATOR), "outer locator changed");
      envelope = u.inner;
    }
    Fixtures.BoundedSink sink = new Fixtures.BoundedSink(Fixtures.plaintextBound(envelope));
    Contract.Outcome<OpenResult> opened = Opening.open(envelope, Fixtures.DESTINATION, sink);
    check(opened.ok(), "a sealed envelope was rejected: " + opened);
    InnerMetadata m = opened.value.metadata();
    check(Arrays.equals(sink.bytes(), plaintext), "plaintext changed in the round trip");
    check(m.name().equals(name),
        "name changed in the round trip: " + Strings.escape(name) + " -> "
        + Strings.escape(m.name()));
    check(m.mediaType().equals(mediaType), "media type changed: " + mediaType + " -> " + m.mediaType());
    check(m.createdAtEpochMillis() == created, "creation time changed");
    check(m.contentKind() == ContentKind.FILE, "content kind " + m.contentKind());
    check(opened.value.header().locator().equals(card.locator()), "locator changed in the round trip: "
        + Strings.escape(card.locator()) + " -> " + Strings.escape(opened.value.header().locator()));
    check(opened.value.header().expiresAtEpochSecond() == expires, "expiry changed");
  }

  /** A forged envelope's parts, before encryption, for targeted deviations. */
  static final class Model {
    final EnvelopeForge.Header header = new EnvelopeForge.Header();
    final List<byte[]> chunkPlaintexts = new ArrayList<>();
    final List<Long> counters = new ArrayList<>();
    final List<Boolean> lasts = new ArrayList<>();
    byte[] plaintext;
    InnerMetadata metadata;
    int chunk;

    static Model draw(FuzzedDataProvider fdp) {
      Model m = new Model();
      m.chunk = fdp.pickValue(Fixtures.SMALL_CHUNK_SIZES);
      int dataChunks = fdp.consumeInt(0, 3);
      boolean compressible = fdp.consumeBoolean();
      boolean lz4 = fdp.consumeBoolean();
      int tail = fdp.consumeInt(1, m.chunk);
      long seed = fdp.consumeLong();
      int total = dataChunks == 0 ? 0 : (dataChunks - 1) * m.chunk + tail;
      m.plaintext = TestEnvelopes.plaintext(seed, total, compressible);
      for (int i = 0; i < dataChunks; i++) {
        int from = i * m.chunk;
        byte[] body = Arrays.copyOfRange(m.plaintext, from, Math.min(total, from + m.chunk));
        m.add(encode(body, lz4), i, false);
      }
      m.metadata = new InnerMetadata(Strings.wellFormed(fdp, 40), "image/jpeg", total, fdp.consumeLong(),
          ContentKind.FILE);
      m.add(EnvelopeForge.metadata(m.metadata), dataChunks, true);
      m.header.to = Fixtures.DESTINATION.card();
      m.header.chunkSizeBytes = m.chunk;
      m.header.releaseKey = Fixtures.SOURCE.publicKey();
      m.header.expiresAtEpochSecond = fdp.consumeLong(0, 253_402_300_799L);
      m.header.entropySeed = fdp.consumeLong();
      return m;
    }

    /** What the sealer stores for a chunk: LZ4 when asked and strictly shorter, raw otherwise. */
    static byte[] encode(byte[] body, boolean lz4) {
      if (lz4) {
        byte[] out = new byte[1 + LZ4.maxCompressedLength(body.length)];
        int n = LZ4.compress(body, 0, body.length, out, 1, out.length - 1);
        if (n < body.length) {
          out[0] = (byte) EnvelopeForge.LZ4;
          return Arrays.copyOf(out, 1 + n);
        }
      }
      byte[] raw = new byte[1 + body.length];
      raw[0] = (byte) EnvelopeForge.RAW;
      System.arraycopy(body, 0, raw, 1, body.length);
      return raw;
    }

    void add(byte[] plaintextWithEncoding, long counter, boolean last) {
      chunkPlaintexts.add(plaintextWithEncoding);
      counters.add(counter);
      lasts.add(last);
    }

    byte[] forge() throws Exception {
      List<EnvelopeForge.Chunk> chunks = new ArrayList<>();
      for (int i = 0; i < chunkPlaintexts.size(); i++) {
        chunks.add(new EnvelopeForge.Chunk(chunkPlaintexts.get(i), counters.get(i), lasts.get(i)));
      }
      return EnvelopeForge.forge(header, chunks).bytes;
    }

    /** One deviation before encryption: every chunk still authenticates (unless counter or flag moved). */
    void deviate(FuzzedDataProvider fdp) {
      int n = chunkPlaintexts.size();
      int i = fdp.consumeInt(0, n - 1);
      byte[] pt = chunkPlaintexts.get(i);
      switch (fdp.consumeInt(0, 12)) {
        case 0: // a header byte, under a valid MAC
          header.patches.add(new int[] {fdp.consumeInt(0, 200), fdp.consumeInt(0, 255)});
          break;
        case 1: // the declared envelope length
          header.envelopeLengthDelta = fdp.consumeLong(-2 * chunk, 2 * chunk);
          break;
        case 2:
          counters.set(i, (long) fdp.consumeInt(0, n + 1));
          break;
        case 3:
          lasts.set(i, !lasts.get(i));
          break;
        case 4: // the encoding byte
          if (pt.length > 0) {
            pt[0] = (byte) fdp.consumeInt(0, 255);
          }
          break;
        case 5: { // an arbitrary LZ4 block, authenticated
          byte[] block = fdp.consumeBytes(chunk + 64);
          byte[] p = new byte[1 + block.length];
          p[0] = (byte) EnvelopeForge.LZ4;
          System.arraycopy(block, 0, p, 1, block.length);
          chunkPlaintexts.set(i, p);
          break;
        }
        case 6: { // one byte of a real LZ4 block (or of a raw body) overwritten
          byte[] p = pt.length > 1 && pt[0] == EnvelopeForge.RAW && fdp.consumeBoolean()
              ? encode(Arrays.copyOfRange(pt, 1, pt.length), true) : pt.clone();
          if (p.length > 1) {
            p[fdp.consumeInt(1, p.length - 1)] = (byte) fdp.consumeInt(0, 255);
          }
          chunkPlaintexts.set(i, p);
          break;
        }
        case 7: { // metadata bytes: the last chunk's plaintext, patched field by field
          byte[] meta = chunkPlaintexts.get(n - 1).clone();
          int patches = fdp.consumeInt(1, 4);
          for (int k = 0; k < patches && meta.length > 0; k++) {
            meta[fdp.consumeInt(0, meta.length - 1)] = (byte) fdp.consumeInt(0, 255);
          }
          chunkPlaintexts.set(n - 1, meta);
          break;
        }
        case 8: // a final chunk of any length and content
          chunkPlaintexts.set(n - 1, fdp.consumeBytes(EnvelopeForge.METADATA_BYTES + 32));
          break;
        case 9: { // drop, duplicate or swap chunks
          int j = fdp.consumeInt(0, n - 1);
          switch (fdp.consumeInt(0, 2)) {
            case 0:
              if (n > 1) {
                chunkPlaintexts.remove(i);
                counters.remove(i);
                lasts.remove(i);
              }
              break;
            case 1:
              chunkPlaintexts.add(j, chunkPlaintexts.get(i).clone());
              counters.add(j, counters.get(i));
              lasts.add(j, lasts.get(i));
              break;
            default:
              java.util.Collections.swap(chunkPlaintexts, i, j);
              java.util.Collections.swap(counters, i, j);
              java.util.Collections.swap(lasts, i, j);
          }
          break;
        }
        case 10: // a short (or empty) chunk anywhere
          chunkPlaintexts.set(i, Arrays.copyOf(pt, fdp.consumeInt(0, pt.length)));
          break;
        case 11: { // a chunk longer than the chunk size allows
          byte[] p = Arrays.copyOf(pt, pt.length + fdp.consumeInt(1, chunk + 2));
          chunkPlaintexts.set(i, p);
          break;
        }
        default: // renumber everything from a fuzzed counter, keeping the order
          long base = fdp.consumeInt(0, 3);
          for (int k = 0; k < n; k++) {
            counters.set(k, base + k);
          }
      }
    }

    /** Deviations after encryption: framing the holder sees. */
    byte[] postForge(FuzzedDataProvider fdp, byte[] bytes) {
      switch (fdp.consumeInt(0, 4)) {
        case 0: { // a record length field
          int at = findRecordOffset(fdp, bytes);
          if (at >= 0 && at + 4 <= bytes.length) {
            int v = fdp.consumeInt();
            bytes[at] = (byte) (v >>> 24);
            bytes[at + 1] = (byte) (v >>> 16);
            bytes[at + 2] = (byte) (v >>> 8);
            bytes[at + 3] = (byte) v;
          }
          return bytes;
        }
        case 1:
          return Arrays.copyOf(bytes, fdp.consumeInt(0, bytes.length));
        case 2: {
          byte[] extra = fdp.consumeBytes(64);
          byte[] out = Arrays.copyOf(bytes, bytes.length + Math.max(1, extra.length));
          System.arraycopy(extra, 0, out, bytes.length, extra.length);
          return out;
        }
        case 3:
          if (bytes.length > 0) {
            bytes[fdp.consumeInt(0, bytes.length - 1)] ^= (byte) fdp.consumeInt(1, 255);
          }
          return bytes;
        default:
          return bytes;
      }
    }

    /** The offset of a record's length field, walking the framing as written. */
    private int findRecordOffset(FuzzedDataProvider fdp, byte[] bytes) {
      int piece0 = 8 + 2 + 148 + header.to.locator().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 32;
      int target = fdp.consumeInt(0, chunkPlaintexts.size() - 1);
      int at = piece0;
      for (int k = 0; k < target; k++) {
        at += 4 + chunkPlaintexts.get(k).length + 16;
      }
      return at;
    }
  }
}
