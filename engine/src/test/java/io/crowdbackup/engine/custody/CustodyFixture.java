package io.crowdbackup.engine.custody;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.engine.envelope.StreamingSealer;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import io.crowdbackup.engine.policy.CustodyPolicy;
import io.crowdbackup.engine.policy.ManualTimeSource;
import io.crowdbackup.engine.receipt.Receipts;
import io.crowdbackup.engine.store.StoreConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;

/** Envelopes with known keys, a manual clock, and a custodian on a real store in a temp directory. */
final class CustodyFixture {
  static final long START_EPOCH_MILLIS = 1_790_000_000_000L;
  static final long START_EPOCH_SECOND = START_EPOCH_MILLIS / 1000;
  static final DestinationKeyPair HOME_A = TestEnvelopes.destination(11, "home-a.example");
  static final DestinationKeyPair HOME_B = TestEnvelopes.destination(12, "home-b.example");
  static final SigningKeyPair SOURCE = TestEnvelopes.source(13);
  static final SigningKeyPair OTHER_SOURCE = TestEnvelopes.source(14);

  /** A sealed envelope. */
  static final class Env {
    final byte[] bytes;
    final Fingerprint fingerprint;
    final long expiresAtEpochSecond;
    final DestinationKeyPair destination;

    Env(byte[] bytes, Fingerprint fingerprint, long expiresAtEpochSecond, DestinationKeyPair destination) {
      this.bytes = bytes;
      this.fingerprint = fingerprint;
      this.expiresAtEpochSecond = expiresAtEpochSecond;
      this.destination = destination;
    }

    Offer offer(String peer) {
      return offerBuilder(peer).build();
    }

    Offer.Builder offerBuilder(String peer) {
      return Offer.newBuilder().fingerprint(fingerprint).declaredLengthBytes(bytes.length)
          .envelopeExpiresAtEpochSecond(expiresAtEpochSecond).sourcePeer(peer);
    }

    ReadableByteChannel channel() {
      return Channels.newChannel(new ByteArrayInputStream(bytes));
    }

    byte[] receipt() {
      return Receipts.encode(Receipts.signReceipt(destination, fingerprint, START_EPOCH_SECOND));
    }

    byte[] release(SigningKeyPair source) {
      return Receipts.encode(Receipts.signRelease(source, fingerprint, START_EPOCH_SECOND));
    }
  }

  static Env envelope(long seed, int plaintextBytes, long expiresAtEpochSecond, DestinationKeyPair to) {
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(seed, 1)) {
      TestEnvelopes.Sealed s = TestEnvelopes.sealWithResult(sealer,
          TestEnvelopes.request(to, SOURCE).expiresAtEpochSecond(expiresAtEpochSecond).chunkSizeBytes(4096)
              .compression(Compression.OFF).build(),
          TestEnvelopes.plaintext(seed, plaintextBytes, false));
      return new Env(s.bytes, s.result.fingerprint(), expiresAtEpochSecond, to);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Expires 6 h after the fixture's start, to home A. */
  static Env envelope(long seed, int plaintextBytes) {
    return envelope(seed, plaintextBytes, START_EPOCH_SECOND + 6 * 3600, HOME_A);
  }

  static final RateLimit UNSHAPED = RateLimit.of(RateLimit.MAX_BYTES_PER_SECOND, 1L << 30);

  static CustodyPolicy.Builder<String> policy(ManualTimeSource time, long limitBytes) {
    return policy(time, limitBytes, UNSHAPED, UNSHAPED, UNSHAPED, UNSHAPED);
  }

  /** A policy with these rates (a builder refuses rates given twice). */
  static CustodyPolicy.Builder<String> policy(ManualTimeSource time, long limitBytes, RateLimit ingressGlobal,
      RateLimit ingressPerPeer, RateLimit egressGlobal, RateLimit egressPerPeer) {
    return CustodyPolicy.<String>newBuilder()
        .time(time, time)
        .limitBytes(limitBytes)
        .ingress(ingressGlobal, ingressPerPeer)
        .egress(egressGlobal, egressPerPeer);
  }

  static Custodian open(Path dir, CustodyPolicy.Builder<String> policy) throws IOException {
    return Custodian.open(StoreConfig.newBuilder(dir.resolve("store")).expiryGroupSeconds(600), policy,
        dir.resolve("custody.clock"));
  }

  private CustodyFixture() {}
}
