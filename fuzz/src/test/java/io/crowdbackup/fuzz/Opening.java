package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.Contract.check;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.EnvelopeOpener;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.InnerMetadata;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.envelope.EnvelopeHeaders;
import java.nio.channels.WritableByteChannel;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/** Opening under the contract, shared by the open and relay targets. */
final class Opening {
  private Opening() {}

  /**
   * Opens {@code data} with {@code keys}, writing plaintext to {@code sink}. Contract: an OpenResult or an
   * EnvelopeException. On success: the plaintext written matches the metadata's length and SHA-256, the
   * envelope is exactly as long as its header says, the returned header is what the keyless reader
   * decodes, and the keyless scanner accepts the same bytes with the same fingerprint (so a holder and
   * the destination never disagree about an envelope the destination accepts). A parallel opener gives
   * exactly the same outcome and writes exactly the same bytes. Memory: a few chunk buffers plus what the
   * records themselves occupy.
   */
  static Contract.Outcome<OpenResult> open(byte[] data, DestinationKeyPair keys, WritableByteChannel sink)
      throws Exception {
    // The opener keeps at most three chunk buffers; the JDK's AES-GCM and the digests copy what passes
    // through, so the rest scales with the bytes actually supplied, never with a declared length.
    long budget = 4 * Contract.MIB + 4L * chunkSizeOrZero(data) + 16L * data.length;
    Fixtures.HashingSink hashing = new Fixtures.HashingSink();
    // Measured without the caller's sink, which keeps the plaintext (allocation that is not the opener's).
    Contract.withinBudget("StreamingOpener.open", budget, () -> Contract.envelope(
        () -> Envelopes.opener(keys).open(Fixtures.channel(data), new Fixtures.HashingSink())));
    WritableByteChannel out = sink == null ? hashing : new Tee(hashing, sink);
    Contract.Outcome<OpenResult> opened =
        Contract.envelope(() -> Envelopes.opener(keys).open(Fixtures.channel(data), out));
    byte[] writtenSha = hashing.sha.digest();
    parallelAgrees(data, keys, opened, hashing.bytes, writtenSha);
    if (!opened.ok()) {
      return opened;
    }
    OpenResult r = opened.value;
    InnerMetadata m = r.metadata();
    check(hashing.bytes == m.plaintextLengthBytes(),
        "wrote " + hashing.bytes + " plaintext bytes, metadata says " + m.plaintextLengthBytes());
    check(MessageDigest.isEqual(writtenSha, r.plaintextSha256()),
        "the opener's plaintext SHA-256 differs from the SHA-256 of what it wrote");
    EnvelopeHeader h = r.header();
    check(h.envelopeLengthBytes() == data.length, "accepted " + data.length + " bytes, header declares "
        + h.envelopeLengthBytes());
    check(h.equals(EnvelopeHeaders.decode(data)), "opened header differs from the keyless reader's");
    check(Arrays.equals(h.receiptKey(), keys.card().receiptKey()), "opened an envelope naming another receipt key");
    EnvelopeHeaderFuzzTest.checkBounds(h);
    Fingerprint scanned;
    try {
      scanned = Envelopes.fingerprint(Fixtures.channel(data));
    } catch (EnvelopeException e) {
      throw new AssertionError("contract: the destination opened an envelope the keyless scanner rejects", e);
    }
    check(scanned.equals(r.fingerprint()), "opener fingerprint " + r.fingerprint() + ", scanner " + scanned);
    // Asking for the fingerprint it has must not change the answer.
    OpenResult again = Envelopes.opener(keys).open(Fixtures.channel(data), new Fixtures.HashingSink(), scanned);
    check(again.fingerprint().equals(scanned) && again.metadata().equals(m), "second open differs");
    return opened;
  }

  /** One parallel opener per fixture key for the whole run: a pool per input would be thousands of threads. */
  private static final Map<DestinationKeyPair, EnvelopeOpener> PARALLEL = new IdentityHashMap<>();

  /**
   * Contract of the parallel opener (chunks verified ahead on worker threads, written in order): exactly the
   * one-thread opener's outcome — the same result, or the same reason and message — and exactly the same
   * plaintext written, so none past the first bad chunk.
   */
  private static void parallelAgrees(byte[] data, DestinationKeyPair keys, Contract.Outcome<OpenResult> one,
      long writtenBytes, byte[] writtenSha) throws Exception {
    EnvelopeOpener parallel;
    synchronized (PARALLEL) {
      parallel = PARALLEL.computeIfAbsent(keys, k -> Envelopes.parallelOpener(k, 2));
    }
    Fixtures.HashingSink sink = new Fixtures.HashingSink();
    OpenResult r = null;
    EnvelopeException failure = null;
    try {
      r = parallel.open(Fixtures.channel(data), sink);
    } catch (EnvelopeException e) {
      failure = e;
    }
    check(sink.bytes == writtenBytes && MessageDigest.isEqual(sink.sha.digest(), writtenSha),
        "the parallel opener wrote " + sink.bytes + " plaintext bytes (or other bytes), one thread " + writtenBytes);
    if (one.ok()) {
      check(r != null && r.fingerprint().equals(one.value.fingerprint()) && r.metadata().equals(one.value.metadata())
          && Arrays.equals(r.plaintextSha256(), one.value.plaintextSha256()),
          "the parallel opener gave " + (r != null ? r : failure) + ", one thread " + one.value);
    } else {
      String expected = one.rejection.getMessage();
      check(failure != null && failure.reason() == one.reason() && failure.getMessage().equals(expected),
          "the parallel opener gave " + (r != null ? r : failure) + ", one thread " + one.rejection);
    }
  }

  private static int chunkSizeOrZero(byte[] data) {
    try {
      return EnvelopeHeaders.decode(data).chunkSizeBytes();
    } catch (java.io.IOException e) {
      return 0;
    }
  }

  /** Writes to two channels. */
  private static final class Tee implements WritableByteChannel {
    private final WritableByteChannel a;
    private final WritableByteChannel b;

    Tee(WritableByteChannel a, WritableByteChannel b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public int write(java.nio.ByteBuffer src) throws java.io.IOException {
      java.nio.ByteBuffer copy = src.duplicate();
      a.write(copy);
      return b.write(src);
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
