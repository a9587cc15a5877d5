package io.crowdbackup.fuzz;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.engine.keys.KeyFormatException;
import io.crowdbackup.engine.protocol.Problem;
import io.crowdbackup.engine.protocol.ProtocolException;
import java.io.IOException;
import java.lang.management.ManagementFactory;

/**
 * The contract every target checks, beyond "no crash": a parser of untrusted bytes either returns a value
 * or throws its documented, typed exception with a reason and a message. Anything else that escapes — a
 * RuntimeException, an Error such as OutOfMemoryError or StackOverflowError, a library exception leaking
 * through (LZ4Exception), an IllegalArgumentException from a value constructor — is left to propagate
 * unchanged, so Jazzer reports it as a finding with its own stack trace (and deduplicates on it).
 *
 * <p>Memory: the surefire and run.sh JVMs have a 256 MiB heap, so an allocation driven by an untrusted
 * length fails outright; {@link #withinBudget} also bounds what one call allocates, which catches an
 * amplification that still fits in the heap. Time: in regression mode the surefire configuration gives
 * every input (every invocation of a fuzz test) a JUnit timeout of 10 s; run.sh passes libFuzzer's
 * per-input {@code -timeout=10} and turns JUnit's timeout off, which would otherwise cut the whole
 * campaign (one JUnit invocation) short.
 */
final class Contract {
  private Contract() {}

  /** A call to a parser. */
  interface Call<T> {
    T call() throws Exception;
  }

  /** What a parser threw, when it threw its documented exception; {@code null} value then. */
  static final class Outcome<T> {
    final T value;
    final Exception rejection;

    private Outcome(T value, Exception rejection) {
      this.value = value;
      this.rejection = rejection;
    }

    static <T> Outcome<T> value(T value) {
      return new Outcome<>(value, null);
    }

    static <T> Outcome<T> rejected(Exception rejection) {
      return new Outcome<>(null, rejection);
    }

    boolean ok() {
      return rejection == null;
    }

    /** The envelope rejection's reason, or {@code null} on success. */
    EnvelopeException.Reason reason() {
      return rejection instanceof EnvelopeException ? ((EnvelopeException) rejection).reason() : null;
    }

    @Override
    public String toString() {
      return ok() ? "ok(" + value + ")" : "rejected(" + rejection + ")";
    }
  }

  /**
   * {@code -Dfuzz.stats=FILE}: count outcomes (ok, or each rejection reason) and write them to FILE at
   * exit, to see how deep a target's corpus reaches: {@code mvn test -Dtest=... -Dfuzz.stats=stats.txt}.
   */
  private static final java.util.Map<String, Integer> STATS = statsMap();

  private static java.util.Map<String, Integer> statsMap() {
    String file = System.getProperty("fuzz.stats", "");
    if (file.isEmpty()) {
      return null;
    }
    java.util.Map<String, Integer> m = new java.util.concurrent.ConcurrentSkipListMap<>();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        java.nio.file.Files.writeString(java.nio.file.Paths.get(file), m + "\n");
      } catch (IOException e) {
        System.err.println("fuzz.stats " + m);
      }
    }));
    return m;
  }

  static void count(String outcome) {
    if (STATS != null) {
      STATS.merge(outcome, 1, Integer::sum);
    }
  }

  /** Runs an envelope parser: a value, or an {@link EnvelopeException} with a reason and a message. */
  static <T> Outcome<T> envelope(Call<T> call) throws Exception {
    try {
      T value = call.call();
      count("ok");
      return new Outcome<>(value, null);
    } catch (EnvelopeException e) {
      count(String.valueOf(e.reason()));
      requireMessage(e);
      if (e.reason() == null) {
        throw new AssertionError("EnvelopeException without a reason", e);
      }
      return new Outcome<>(null, e);
    } catch (IOException e) {
      // Every source in these targets is in memory: an IOException that is not an EnvelopeException can
      // only come from the parser itself, and none is documented.
      throw new AssertionError("undocumented IOException (not an EnvelopeException) escaped", e);
    }
  }

  /** Runs a receipt parser or verifier: a value, or a {@link ReceiptException} with a reason. */
  static <T> Outcome<T> receipt(Call<T> call) throws Exception {
    try {
      return new Outcome<>(call.call(), null);
    } catch (ReceiptException e) {
      requireMessage(e);
      if (e.reason() == null) {
        throw new AssertionError("ReceiptException without a reason", e);
      }
      return new Outcome<>(null, e);
    }
  }

  /** Runs a key or card file decoder: a value, or a {@link KeyFormatException} with a message. */
  static <T> Outcome<T> keyFile(Call<T> call) throws Exception {
    try {
      return new Outcome<>(call.call(), null);
    } catch (KeyFormatException e) {
      requireMessage(e);
      return new Outcome<>(null, e);
    }
  }

  /** The longest rejection message a protocol parser may produce: it goes back to the peer as a problem. */
  static final int MAX_PROTOCOL_MESSAGE_CHARS = 1024;

  /**
   * Runs a wire-protocol parser: a value, or a {@link ProtocolException} with a reason, the element it was
   * reading, and a message that goes back to the peer intact: well-formed UTF-16 of bounded length, and
   * the problem document a server makes of it ({@code BAD_REQUEST} with the message as detail) decodes
   * with the protocol's own strict reader to that same detail.
   */
  static <T> Outcome<T> protocol(Call<T> call) throws Exception {
    try {
      return new Outcome<>(call.call(), null);
    } catch (ProtocolException e) {
      count(String.valueOf(e.reason()));
      requireMessage(e);
      check(e.reason() != null && e.element() != null && !e.element().isBlank(),
          "ProtocolException without a reason or element: " + e);
      String m = e.getMessage();
      check(m.length() <= MAX_PROTOCOL_MESSAGE_CHARS, "rejection message of " + m.length() + " chars, at most "
          + MAX_PROTOCOL_MESSAGE_CHARS + ": " + Strings.escape(m.substring(0, Math.min(200, m.length()))));
      check(!Strings.hasLoneSurrogate(m), "rejection message with a lone surrogate: " + Strings.escape(m));
      Problem back;
      try {
        back = Problem.decode(Problem.of(Problem.Type.BAD_REQUEST, m).encode());
      } catch (ProtocolException unreadable) {
        throw new AssertionError("the problem answering this rejection is unreadable by Problem.decode: "
            + unreadable.getMessage() + "; rejection: " + Strings.escape(m), unreadable);
      }
      check(back.detail().equals(m), "the problem's detail came back as " + Strings.escape(back.detail())
          + ", sent " + Strings.escape(m));
      return new Outcome<>(null, e);
    }
  }

  private static void requireMessage(Exception e) {
    if (e.getMessage() == null || e.getMessage().isBlank()) {
      throw new AssertionError("rejection without a message", e);
    }
  }

  static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError("contract: " + what);
    }
  }

  // --- memory -------------------------------------------------------------------------------------

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  /** Bytes this thread has allocated so far (a monotonic counter). */
  static long allocatedBytes() {
    return THREADS.getCurrentThreadAllocatedBytes();
  }

  /**
   * Runs a side-effect-free parser call and fails when it allocates more than {@code budgetBytes}.
   * Budgets are generous — a 2 MiB floor absorbs exception construction and charset decoders — because
   * the aim is to catch allocation proportional to a length field (megabytes to gigabytes from a small
   * input), not to measure. A call over budget is run a second time and judged on that run, so class
   * loading and first-use initialisation on a rarely taken path never count as a finding, and a finding
   * reproduces in regression mode as well as while fuzzing.
   */
  static <T> Outcome<T> withinBudget(String what, long budgetBytes, Call<Outcome<T>> call) throws Exception {
    long start = allocatedBytes();
    Outcome<T> first = call.call();
    long used = allocatedBytes() - start;
    if (used <= budgetBytes) {
      return first;
    }
    start = allocatedBytes();
    Outcome<T> second = call.call();
    used = allocatedBytes() - start;
    if (used > budgetBytes) {
      throw new AssertionError("contract: " + what + " allocated " + used + " bytes, budget " + budgetBytes
          + " (allocation driven by an untrusted length?)");
    }
    return second;
  }

  static final long MIB = 1024 * 1024;
}
