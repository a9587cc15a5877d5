package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.Contract.check;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.envelope.EnvelopeScanner;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The keyless scanner a holder runs while an envelope arrives: bytes come in whatever slices the network
 * delivers, and a dropped transfer resumes from stored piece digests.
 */
class EnvelopeScannerFuzzTest {
  /**
   * Input layout: the envelope bytes, then 8 trailing bytes (consumed first by the provider) seeding how
   * the bytes are sliced and where a resume happens; seeds are real envelopes with such a trailer.
   *
   * <p>Contract: an EnvelopeException or a fingerprint; the same outcome (fingerprint, or rejection reason)
   * however the bytes are sliced and as the one-shot {@link Envelopes#fingerprint}; pieces reported
   * contiguously from offset 0, piece 0 being the header, and on success covering exactly the declared
   * envelope length; resuming at any reported piece boundary from piece 0 and the stored digests gives the
   * same outcome; memory independent of the declared lengths.
   */
  @FuzzTest
  void scanSlices(FuzzedDataProvider fdp) throws Exception {
    long sliceSeed = fdp.consumeLong();
    byte[] data = fdp.consumeRemainingAsBytes();
    SplittableRandom random = new SplittableRandom(sliceSeed);

    List<long[]> pieces = new ArrayList<>();
    ByteArrayOutputStream digests = new ByteArrayOutputStream();
    EnvelopeScanner scanner = new EnvelopeScanner((index, offset, length, digest) -> {
      check(digest.length == 32, "digest length " + digest.length);
      long expectedOffset = pieces.isEmpty() ? 0 : pieces.get(pieces.size() - 1)[1] + pieces.get(pieces.size() - 1)[2];
      check(index == pieces.size(), "piece index " + index + ", expected " + pieces.size());
      check(offset == expectedOffset, "piece " + index + " at offset " + offset + ", expected " + expectedOffset);
      check(length > 0, "piece " + index + " has length " + length);
      pieces.add(new long[] {index, offset, length});
      if (index > 0) {
        digests.write(digest, 0, 32);
      }
    });
    Contract.Outcome<Fingerprint> sliced = Contract.envelope(() -> {
      int at = 0;
      while (at < data.length) {
        int n = Math.min(data.length - at, nextSliceLength(random));
        scanner.update(data, at, n);
        at += n;
        check(scanner.position() == at, "position " + scanner.position() + " after consuming " + at);
      }
      return scanner.finish();
    });
    // The scanner keeps piece 0 and counters whatever the declared lengths; measured on the one-shot scan
    // (the same parser), since the sliced run's listener keeps its own record of pieces.
    long budget = 2 * Contract.MIB + 4L * data.length;
    Contract.Outcome<Fingerprint> oneShot = Contract.withinBudget("EnvelopeScanner.scan", budget,
        () -> Contract.envelope(() -> Envelopes.fingerprint(Fixtures.channel(data))));

    check(sameOutcome(sliced, oneShot), "slicing changed the outcome: " + sliced + " vs one-shot " + oneShot);

    if (!pieces.isEmpty()) {
      check(pieces.get(0)[2] == scanner.header().encodedLengthBytes(), "piece 0 is not the header");
    }
    if (sliced.ok()) {
      long[] last = pieces.get(pieces.size() - 1);
      check(pieces.size() >= 2, "an envelope has a header and a final record");
      check(last[1] + last[2] == data.length && data.length == scanner.header().envelopeLengthBytes(),
          "pieces end at " + (last[1] + last[2]) + ", envelope is " + data.length);
      check(last[2] == 532, "final piece is " + last[2] + " bytes");
    }

    // Resume at a boundary the scanner reported, as a holder does after the app was killed.
    if (pieces.size() >= 2) {
      int k = 1 + random.nextInt(pieces.size() - 1);
      long offset = pieces.get(k)[1];
      byte[] stored = java.util.Arrays.copyOf(digests.toByteArray(), (k - 1) * 32);
      Contract.Outcome<Fingerprint> resumed = Contract.envelope(() -> {
        EnvelopeScanner r = EnvelopeScanner.resume(scanner.piece0(), stored, k - 1, offset, null);
        r.update(data, (int) offset, data.length - (int) offset);
        return r.finish();
      });
      check(sameOutcome(sliced, resumed), "resume at piece " + k + " changed the outcome: " + sliced + " vs " + resumed);
    }
  }

  /**
   * Resume state as a holder would persist it for a partial upload — piece 0, the digests of the records
   * stored so far, their count, the offset to continue from — read back from a disk that may hold anything
   * after a crash. Layout: {@code u64 recordCount | u64 offset | u16 digestsLength | digests | piece 0}.
   * The stream then continues with the fixture envelope {@link #RESUME_ENVELOPE} from that offset.
   *
   * <p>Contract: {@code resume} either refuses the state — an EnvelopeException for a bad piece 0, or its
   * own IllegalArgumentException ("recordDigests holds ...", "resume offset ...") for inconsistent numbers —
   * or returns a scanner whose updates and finish throw only EnvelopeException; and a consistent state
   * taken from a real scan resumes to the envelope's real fingerprint.
   */
  @FuzzTest
  void resumeFromState(byte[] data) throws Exception {
    if (data.length < 18) {
      return;
    }
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(data);
    long recordCount = b.getLong();
    long offset = b.getLong();
    int digestsLength = Math.min(b.getShort() & 0xffff, b.remaining());
    byte[] digests = new byte[digestsLength];
    b.get(digests);
    byte[] piece0 = new byte[b.remaining()];
    b.get(piece0);

    EnvelopeScanner resumed;
    try {
      resumed = EnvelopeScanner.resume(piece0, digests, recordCount, offset, null);
    } catch (IllegalArgumentException e) {
      String m = String.valueOf(e.getMessage());
      if (m.startsWith("recordDigests holds") || m.startsWith("resume offset")) {
        return; // resume's own check of inconsistent state: what the store reports as a corrupt state file
      }
      throw e; // anything else leaked from below the check
    } catch (io.crowdbackup.api.EnvelopeException e) {
      return;
    }
    byte[] envelope = RESUME_ENVELOPE;
    Contract.Outcome<Fingerprint> finished = Contract.envelope(() -> {
      if (offset >= 0 && offset < envelope.length) {
        resumed.update(envelope, (int) offset, envelope.length - (int) offset);
      }
      return resumed.finish();
    });
    if (finished.ok() && java.util.Arrays.equals(piece0, java.util.Arrays.copyOf(envelope, piece0.length))
        && offset == RESUME_BOUNDARIES.getOrDefault(recordCount, -1L)
        && java.util.Arrays.equals(digests, java.util.Arrays.copyOf(RESUME_DIGESTS, digests.length))) {
      check(finished.value.equals(RESUME_FINGERPRINT), "a consistent resume state gave another fingerprint");
    }
  }

  /** The envelope resume states refer to: the two-chunk fixture. */
  static final byte[] RESUME_ENVELOPE = SeedGenerator.directEnvelopes().get("seed-two-chunks");
  static final Fingerprint RESUME_FINGERPRINT;
  /** recordCount -> offset of the next record, for the real boundaries of {@link #RESUME_ENVELOPE}. */
  static final java.util.Map<Long, Long> RESUME_BOUNDARIES = new java.util.HashMap<>();
  static final byte[] RESUME_DIGESTS;

  static {
    ByteArrayOutputStream d = new ByteArrayOutputStream();
    EnvelopeScanner s = new EnvelopeScanner((index, offset, length, digest) -> {
      if (index > 0) {
        d.write(digest, 0, 32);
      }
      RESUME_BOUNDARIES.put(index, offset + length);
    });
    try {
      s.update(RESUME_ENVELOPE, 0, RESUME_ENVELOPE.length);
      RESUME_FINGERPRINT = s.finish();
    } catch (java.io.IOException e) {
      throw new ExceptionInInitializerError(e);
    }
    RESUME_DIGESTS = d.toByteArray();
  }

  /** Resume states for the seeds: every real boundary of {@link #RESUME_ENVELOPE}, then a few corrupt ones. */
  static java.util.Map<String, byte[]> resumeStates() {
    java.util.Map<String, byte[]> out = new java.util.LinkedHashMap<>();
    int piece0Length = RESUME_BOUNDARIES.get(0L).intValue();
    byte[] piece0 = java.util.Arrays.copyOf(RESUME_ENVELOPE, piece0Length);
    for (long count = 0; RESUME_BOUNDARIES.containsKey(count); count++) {
      int digests = (int) count * 32;
      out.put("seed-state-after-" + count + "-records", java.nio.ByteBuffer.allocate(18 + digests + piece0Length)
          .putLong(count).putLong(RESUME_BOUNDARIES.get(count)).putShort((short) digests)
          .put(RESUME_DIGESTS, 0, digests).put(piece0).array());
    }
    out.put("seed-state-offset-inside-record", java.nio.ByteBuffer.allocate(18 + piece0Length)
        .putLong(0).putLong(piece0Length + 7L).putShort((short) 0).put(piece0).array());
    out.put("seed-state-truncated-piece0", java.nio.ByteBuffer.allocate(18 + 40)
        .putLong(0).putLong(40).putShort((short) 0).put(piece0, 0, 40).array());
    return out;
  }

  private static int nextSliceLength(SplittableRandom random) {
    switch (random.nextInt(4)) {
      case 0:
        return 1;
      case 1:
        return 1 + random.nextInt(16);
      case 2:
        return 1 + random.nextInt(600);
      default:
        return 1 + random.nextInt(70_000);
    }
  }

  static boolean sameOutcome(Contract.Outcome<Fingerprint> a, Contract.Outcome<Fingerprint> b) {
    if (a.ok() != b.ok()) {
      return false;
    }
    return a.ok() ? a.value.equals(b.value) : a.reason() == b.reason();
  }
}
