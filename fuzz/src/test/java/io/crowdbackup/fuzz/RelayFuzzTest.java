package io.crowdbackup.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.api.ContentKind;
import io.crowdbackup.api.InnerMetadata;
import io.crowdbackup.engine.envelope.EnvelopeForge;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Relay unwrapping: outer open with the relay's key, inner header read, inner open by the destination. */
class RelayFuzzTest {
  /** Arbitrary bytes as an outer envelope; seeds are real relayed envelopes. See {@link Relay}. */
  @FuzzTest
  void unwrapMutated(byte[] data) throws Exception {
    Relay.unwrapAndOpen(data);
  }

  /**
   * An outer envelope forged with the relay's real key whose payload is fuzzer-chosen: a real inner
   * envelope, byte-mutated, truncated or extended, or arbitrary bytes; the content kind is drawn too. This
   * reaches the inner parsers with bytes the relay authenticated, which plain mutation of a sealed outer
   * envelope never does.
   */
  @FuzzTest
  void unwrapStructured(FuzzedDataProvider fdp) throws Exception {
    int chunk = fdp.pickValue(Fixtures.SMALL_CHUNK_SIZES);
    byte[] inner;
    if (fdp.consumeBoolean()) {
      inner = fdp.consumeBytes(3 * chunk);
    } else {
      int which = fdp.consumeInt(0, SeedGenerator.innerEnvelopes().size() - 1);
      inner = SeedGenerator.innerEnvelopes().get(which).clone();
      int flips = fdp.consumeInt(0, 3);
      for (int i = 0; i < flips && inner.length > 0; i++) {
        inner[fdp.consumeInt(0, inner.length - 1)] = (byte) fdp.consumeInt(0, 255);
      }
      if (fdp.consumeBoolean()) {
        inner = Arrays.copyOf(inner, fdp.consumeInt(0, inner.length + 8));
      }
    }
    ContentKind kind = fdp.consumeInt(0, 7) == 0 ? ContentKind.FILE : ContentKind.RELAYED_ENVELOPE;
    EnvelopeForge.Header h = new EnvelopeForge.Header();
    h.to = Fixtures.RELAY.card();
    h.chunkSizeBytes = chunk;
    h.releaseKey = Fixtures.SOURCE.publicKey();
    h.entropySeed = fdp.consumeLong();
    List<EnvelopeForge.Chunk> chunks = new ArrayList<>();
    long counter = 0;
    for (int from = 0; from < inner.length; from += chunk) {
      byte[] body = Arrays.copyOfRange(inner, from, Math.min(inner.length, from + chunk));
      byte[] pt = new byte[1 + body.length];
      System.arraycopy(body, 0, pt, 1, body.length);
      chunks.add(new EnvelopeForge.Chunk(pt, counter++, false));
    }
    InnerMetadata meta = new InnerMetadata("", "application/vnd.crowdbackup.envelope", inner.length,
        1_700_000_000_000L, kind);
    chunks.add(new EnvelopeForge.Chunk(EnvelopeForge.metadata(meta), counter, true));
    Relay.unwrapAndOpen(EnvelopeForge.forge(h, chunks).bytes);
  }
}
