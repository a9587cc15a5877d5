package io.crowdbackup.fuzz;

import static io.crowdbackup.fuzz.Contract.check;

import io.crowdbackup.api.ContentKind;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.engine.envelope.EnvelopeHeaders;
import io.crowdbackup.engine.envelope.RelayLayers;

/**
 * Relay unwrapping as the engine's pieces compose it (the engine has no relay entry point yet): the relay
 * opens the outer envelope with its own key, requires the content kind to say "relayed envelope", reads
 * the inner header without a key to learn the next hop, and forwards the inner bytes; the destination then
 * opens the inner envelope.
 */
final class Relay {
  private Relay() {}

  static final class Unwrapped {
    final Contract.Outcome<OpenResult> outer;
    /** The inner envelope, when the outer opened and said it holds one. */
    final byte[] inner;
    final EnvelopeHeader innerHeader;

    Unwrapped(Contract.Outcome<OpenResult> outer, byte[] inner, EnvelopeHeader innerHeader) {
      this.outer = outer;
      this.inner = inner;
      this.innerHeader = innerHeader;
    }
  }

  /** The relay's half. Contract: see {@link Opening#open}; a next hop only from a well-formed inner header. */
  static Unwrapped unwrap(byte[] outerBytes) throws Exception {
    Fixtures.BoundedSink sink = new Fixtures.BoundedSink(Fixtures.plaintextBound(outerBytes));
    Contract.Outcome<OpenResult> outer = Opening.open(outerBytes, Fixtures.RELAY, sink);
    if (!outer.ok() || outer.value.metadata().contentKind() != ContentKind.RELAYED_ENVELOPE) {
      return new Unwrapped(outer, null, null);
    }
    byte[] inner = sink.bytes();
    Contract.Outcome<EnvelopeHeader> next = Contract.envelope(() -> EnvelopeHeaders.decode(inner));
    if (next.ok()) {
      EnvelopeHeaderFuzzTest.checkBounds(next.value);
      // The relay's duty (spec §14): an outer layer that outlives its inner one is refused, not forwarded.
      Contract.Outcome<Void> duty = Contract.envelope(() -> {
        RelayLayers.checkOuterAgainstInner(outer.value.header(), next.value);
        return null;
      });
      if (!duty.ok()) {
        check(outer.value.header().expiresAtEpochSecond() > next.value.expiresAtEpochSecond(),
            "relay refused an outer layer that does not outlive its inner one: " + duty.reason());
        return new Unwrapped(outer, null, null);
      }
    }
    return new Unwrapped(outer, inner, next.value);
  }

  /**
   * Both halves. Contract: every step returns or throws its typed exception; an inner envelope the
   * destination opens is one whose header the relay could read (so the relay could have routed it).
   */
  static void unwrapAndOpen(byte[] outerBytes) throws Exception {
    Unwrapped u = unwrap(outerBytes);
    if (u.inner == null) {
      return;
    }
    Contract.Outcome<OpenResult> inner = Opening.open(u.inner, Fixtures.DESTINATION, null);
    if (inner.ok()) {
      check(u.innerHeader != null && u.innerHeader.equals(inner.value.header()),
          "destination opened an inner envelope whose header the relay could not read");
    } else if (inner.reason() == null) {
      throw new AssertionError("inner rejection without a reason");
    } else if (u.innerHeader == null) {
      check(inner.reason() != EnvelopeException.Reason.NOT_FOR_THIS_KEY, "relay and destination disagree on the header");
    }
  }
}
