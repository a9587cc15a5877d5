package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.Contract.check;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.envelope.EnvelopeFormat;
import io.crowdbackup.engine.envelope.EnvelopeHeaders;
import io.crowdbackup.engine.envelope.EnvelopeScanner;
import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;

/** The keyless header reader: what a holder runs on every offer, before it has accepted anything. */
class EnvelopeHeaderFuzzTest {
  /**
   * Arbitrary bytes as the start of an offered envelope. Contract: a header or an EnvelopeException; on
   * success exactly the header's bytes were consumed, every field is within the format's bounds, the
   * locator is one a {@link DestinationCard} accepts (the holder forwards to it), the array and channel
   * readers agree, and the streaming scanner decodes the same header from the same bytes.
   */
  @FuzzTest
  void readHeader(byte[] data) throws Exception {
    ByteArrayInputStream[] in = new ByteArrayInputStream[1];
    Contract.Outcome<EnvelopeHeader> read = Contract.withinBudget("EnvelopeHeaders.read", 2 * Contract.MIB,
        () -> {
          in[0] = new ByteArrayInputStream(data);
          return Contract.envelope(() -> EnvelopeHeaders.read(Channels.newChannel(in[0])));
        });
    Contract.Outcome<EnvelopeHeader> viaArray = Contract.envelope(() -> EnvelopeHeaders.decode(data));
    Contract.Outcome<EnvelopeHeader> viaEntryPoint = Contract.envelope(() -> Envelopes.readHeader(Fixtures.channel(data)));
    check(read.ok() == viaArray.ok() && read.reason() == viaArray.reason()
        && read.ok() == viaEntryPoint.ok() && read.reason() == viaEntryPoint.reason(),
        "header readers disagree: " + read + " / " + viaArray + " / " + viaEntryPoint);
    if (!read.ok()) {
      return;
    }
    EnvelopeHeader h = read.value;
    check(h.equals(viaArray.value) && h.equals(viaEntryPoint.value), "header readers decode different headers");
    int consumed = data.length - in[0].available();
    check(consumed == h.encodedLengthBytes(),
        "consumed " + consumed + " bytes, header is " + h.encodedLengthBytes());
    checkBounds(h);

    EnvelopeScanner scanner = new EnvelopeScanner();
    Contract.Outcome<Void> scanned = Contract.envelope(() -> {
      scanner.update(data, 0, h.encodedLengthBytes());
      return null;
    });
    check(scanned.ok() && h.equals(scanner.header()), "scanner rejects or decodes differently a header the reader accepts: "
        + scanned);
  }

  /** The format's bounds on a decoded header, restated from the spec rather than from the decoder. */
  static void checkBounds(EnvelopeHeader h) {
    check(h.formatVersion() == EnvelopeFormat.VERSION, "version " + h.formatVersion());
    check(h.suite() == EnvelopeFormat.SUITE_X25519_HKDF_SHA256_AES256GCM, "suite " + h.suite());
    int chunk = h.chunkSizeBytes();
    check(Integer.bitCount(chunk) == 1 && chunk >= 4096 && chunk <= 4 * 1024 * 1024, "chunk size " + chunk);
    int locatorBytes = h.locator().getBytes(StandardCharsets.UTF_8).length;
    check(locatorBytes >= 1 && locatorBytes <= DestinationCard.MAX_LOCATOR_BYTES, "locator bytes " + locatorBytes);
    check(h.encodedLengthBytes() == 8 + 2 + 148 + locatorBytes + 32,
        "encoded length " + h.encodedLengthBytes() + " for a " + locatorBytes + "-byte locator");
    check(h.envelopeLengthBytes() >= h.encodedLengthBytes() + 532L
        && h.envelopeLengthBytes() <= EnvelopeFormat.MAX_ENVELOPE_BYTES, "envelope length " + h.envelopeLengthBytes());
    check(h.expiresAtEpochSecond() >= 0 && h.expiresAtEpochSecond() <= 253_402_300_799L,
        "expiry " + h.expiresAtEpochSecond());
    // A holder forwards to this locator: it must be one the API's own value type accepts, or the holder
    // would hit an IllegalArgumentException later, far from the parser.
    new DestinationCard(h.locator(), new byte[32], h.receiptKey());
  }
}
