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
