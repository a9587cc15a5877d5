package io.crowdbackup.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.store.index.IndexEntry;
import io.crowdbackup.engine.store.index.IndexEntryCodec;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Index entry values ({@link IndexEntryCodec}): the bytes a persisted index (the Chronicle Map in
 * engine-jvm) keeps per fingerprint and trusts after a clean shutdown. The portable in-memory index keeps
 * nothing on disk, and the Chronicle Map's own file format is Chronicle's, so this value codec is the
 * index parser CrowdBackup owns.
 *
 * <p>Contract: {@code decodeValue} returns an entry or {@code null}, never throws; a decoded entry
 * re-encodes to exactly its input when its strings are well-formed UTF-8 (so one entry has one encoding);
 * allocation is bounded by the input. Round trip: any entry the store can write decodes back equal.
 */
class IndexEntryFuzzTest {
  static final Fingerprint KEY = Fingerprint.of(Fixtures.sha256(new byte[] {7}));

  @FuzzTest
  void decodeValue(byte[] value) throws Exception {
    IndexEntry[] decoded = new IndexEntry[1];
    Contract.withinBudget("decoding an index value", 2 * Contract.MIB + 4L * value.length, () -> {
      decoded[0] = IndexEntryCodec.decodeValue(KEY, value);
      return Contract.Outcome.value(decoded[0]);
    });
    IndexEntry e = decoded[0];
    if (e == null) {
      return;
    }
    Contract.check(e.fingerprint().equals(KEY), "decoded entry names another fingerprint");
    if (wellFormedStrings(value)) {
      Contract.check(Arrays.equals(IndexEntryCodec.encodeValue(e), value),
          "a decoded entry re-encodes to other bytes than its input");
    }
  }

  @FuzzTest
  void roundTrip(FuzzedDataProvider fdp) throws Exception {
    BlobState state = BlobState.values()[fdp.consumeInt(0, BlobState.values().length - 1)];
    BlobKind kind = fdp.consumeBoolean() ? BlobKind.OWN : BlobKind.CUSTODY;
    String peer = kind == BlobKind.OWN ? "" : Strings.wellFormed(fdp, 60);
    String locator = Strings.wellFormed(fdp, 300);
    if (peer.getBytes(StandardCharsets.UTF_8).length > 255 || locator.getBytes(StandardCharsets.UTF_8).length > 1024) {
      return; // the store never writes these (UploadRequest and the envelope header bound them)
    }
    IndexEntry e = new IndexEntry(Fingerprint.of(Arrays.copyOf(fdp.consumeBytes(32), 32)), fdp.consumeLong(), fdp.consumeLong(), fdp.consumeLong(), fdp.consumeLong(),
        fdp.consumeLong(), state, kind, peer, locator);
    byte[] encoded = IndexEntryCodec.encodeValue(e);
    IndexEntry back = IndexEntryCodec.decodeValue(e.fingerprint(), encoded);
    Contract.check(back != null, "an encoded entry does not decode");
    Contract.check(back.blobId() == e.blobId() && back.groupEpochSecond() == e.groupEpochSecond()
        && back.envelopeLengthBytes() == e.envelopeLengthBytes()
        && back.expiresAtEpochSecond() == e.expiresAtEpochSecond()
        && back.storedAtEpochMillis() == e.storedAtEpochMillis() && back.state() == e.state()
        && back.kind() == e.kind() && back.sourcePeer().equals(e.sourcePeer()) && back.locator().equals(e.locator())
        && back.fingerprint().equals(e.fingerprint()), "round trip changed the entry");
    Contract.check(Arrays.equals(IndexEntryCodec.encodeValue(back), encoded), "re-encoding differs");
  }

  /** Whether the value's peer and locator (when they parse) are well-formed UTF-8. */
  private static boolean wellFormedStrings(byte[] value) {
    ByteBuffer b = ByteBuffer.wrap(value);
    if (value.length < 1 + 40 + 2 + 2) {
      return true;
    }
    b.position(1 + 40 + 2);
    for (int i = 0; i < 2; i++) {
      if (b.remaining() < 2) {
        return true;
      }
      int n = b.getShort() & 0xffff;
      if (n > b.remaining()) {
        return true;
      }
      byte[] s = new byte[n];
      b.get(s);
      try {
        StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(s));
      } catch (CharacterCodingException e) {
        return false;
      }
    }
    return true;
  }

  static Map<String, byte[]> seeds() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    out.put("seed-custody", IndexEntryCodec.encodeValue(new IndexEntry(KEY, 1, 1_700_020_800L, 5_642, 1_700_021_600L,
        1_700_000_000_000L, BlobState.FORWARDING, BlobKind.CUSTODY, "peer-one", "home-a.example")));
    out.put("seed-own-delivered", IndexEntryCodec.encodeValue(new IndexEntry(KEY, -2, 0, 100, Long.MAX_VALUE, 0,
        BlobState.DELIVERED, BlobKind.OWN, "", "https://hjem.example/\u00e6\u00f8\u00e5/\u732b")));
    out.put("seed-version-2", new byte[] {2});
    out.put("seed-empty", new byte[0]);
    return out;
  }
}
