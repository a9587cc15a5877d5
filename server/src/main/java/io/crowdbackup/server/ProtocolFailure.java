package io.crowdbackup.server;

import io.crowdbackup.engine.protocol.Problem;
import java.io.IOException;
import java.time.Duration;

/**
 * A peer answered with something other than success: its status, the problem it sent (if any was a
 * readable problem), and how long it asked us to wait. Whether retrying the same peer can help is
 * {@link #retryable()}.
 */
public final class ProtocolFailure extends IOException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final transient Problem problem;
  private final Duration retryAfter;

  ProtocolFailure(String what, int status, Problem problem, Duration retryAfter) {
    super(what + ": " + status + (problem == null ? "" : " " + problem.type() + ": " + problem.detail()));
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  public int status() {
    return status;
  }

  /** The problem the peer sent, or {@code null}. */
  public Problem problem() {
    return problem;
  }

  /** The wait the peer asked for ({@code Retry-After}), or {@code null}. */
  public Duration retryAfter() {
    return retryAfter;
  }

  /**
   * Whether the same request to the same peer may succeed later (docs/protocol.md §1, "Retries"): a
   * timeout (408), a busy upload (423), too many requests (429), a gateway that could not reach or wait
   * for the peer (502, 504), a peer that says it is unavailable (503), and a 507 that names a time to
   * come back ({@code Retry-After}: a destination's bound on unfinished uploads). Not a 500: servers of
   * this protocol answer their own failures with 503, so a 500 is a fault in whatever answered, and
   * sending the same request (up to a whole PATCH body) again would meet the same fault; the forwarder
   * tries again on its next run. Not 501, 505 or any other 4xx: the same request gets the same answer.
   * Status 0 (no answer: a refused redirect) is not retryable either.
   */
  public boolean retryable() {
    switch (status) {
      case 408, 423, 429, 502, 503, 504:
        return true;
      case 507:
        return retryAfter != null;
      default:
        return false;
    }
  }

  /** Whether the peer named this problem type. */
  public boolean is(Problem.Type type) {
    return problem != null && problem.knownType() == type;
  }
}
