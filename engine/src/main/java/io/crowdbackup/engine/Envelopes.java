package io.crowdbackup.engine;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.EnvelopeOpener;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.envelope.EnvelopeHeaders;
import io.crowdbackup.engine.envelope.EnvelopeScanner;
import io.crowdbackup.engine.envelope.StreamingOpener;
import io.crowdbackup.engine.envelope.StreamingSealer;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;

/**
 * Entry points to envelope format v2: sealer, opener, the holder's keyless header read and scan. The
 * implementations behind them are not part of the exported surface.
 */
public final class Envelopes {
  private Envelopes() {}

  /** A single-threaded sealer. */
  public static EnvelopeSealer sealer() {
    return new StreamingSealer();
  }

  /** A sealer that uses {@code threads} worker threads for chunks; close it when done. */
  public static EnvelopeSealer parallelSealer(int threads) {
    return new StreamingSealer(threads);
  }

  /** A single-threaded opener. */
  public static EnvelopeOpener opener(DestinationKeyPair keys) {
    return new StreamingOpener(keys);
  }

  /**
   * An opener that verifies chunks (piece digest, decryption, LZ4) on {@code threads} worker threads while
   * the caller hashes and writes the plaintext in order; close it when done.
   */
  public static EnvelopeOpener parallelOpener(DestinationKeyPair keys, int threads) {
    return new StreamingOpener(keys, threads);
  }

  /** Reads and checks the public header, consuming exactly its bytes. No key needed. */
  public static EnvelopeHeader readHeader(ReadableByteChannel envelope) throws IOException {
    return EnvelopeHeaders.read(envelope);
  }

  /** A push-style keyless check for bytes as they arrive (a holder receiving, a progress bar). */
  public static EnvelopeScan newScan() {
    return new EnvelopeScanner();
  }

  /** Checks a whole envelope's framing and returns its fingerprint. No key needed. */
  public static Fingerprint fingerprint(ReadableByteChannel envelope) throws IOException {
    return EnvelopeScanner.scan(envelope);
  }
}
