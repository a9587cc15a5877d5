package io.crowdbackup.engine.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.store.index.IndexEntry;
import io.crowdbackup.engine.store.index.IndexEntryCodec;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The store writes {@link BlobState} and {@link BlobKind} as their declaration order (state log, blob and
 * journal headers, persisted index). Those numbers are the format of docs/store-format.md, so reordering
 * or inserting a constant in the public enums must fail here rather than silently misread every store.
 */
class FormatCodesTest {
  private static final Map<BlobState, Integer> STATE_CODES =
      Map.of(BlobState.HELD, 0, BlobState.FORWARDING, 1, BlobState.DELIVERED, 2, BlobState.EXPIRED, 3);
  private static final Map<BlobKind, Integer> KIND_CODES = Map.of(BlobKind.OWN, 0, BlobKind.CUSTODY, 1);

  @Test
  void everyStateAndKindHasItsDocumentedCode() {
    assertEquals(STATE_CODES.size(), BlobState.values().length, "a new BlobState needs a code in the format");
    assertEquals(KIND_CODES.size(), BlobKind.values().length, "a new BlobKind needs a code in the format");
    STATE_CODES.forEach((state, code) -> assertEquals(code, state.ordinal(), "on-disk code of " + state));
    KIND_CODES.forEach((kind, code) -> assertEquals(code, kind.ordinal(), "on-disk code of " + kind));
  }

  @Test
  void thePersistedIndexWritesThoseCodes() {
    Fingerprint fp = Fingerprint.of(new byte[32]);
    for (BlobState state : BlobState.values()) {
      for (BlobKind kind : BlobKind.values()) {
        byte[] v = IndexEntryCodec.encodeValue(new IndexEntry(fp, 1, 2, 3, 4, 5, state, kind, "peer", "home"));
        // version (1), blob id, group, length, expiry, stored-at (8 each), then state and kind.
        assertEquals(STATE_CODES.get(state).intValue(), v[41], "state byte of " + state);
        assertEquals(KIND_CODES.get(kind).intValue(), v[42], "kind byte of " + kind);
        assertEquals(state, IndexEntryCodec.decodeValue(fp, v).state());
      }
    }
  }
}
