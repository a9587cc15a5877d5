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

  /** Whether the same request to the same peer may succeed later: 5xx, 408, 423, 429. */
  public boolean retryable() {
    return status >= 500 || status == 408 || status == 423 || status == 429;
  }

  /** Whether the peer named this problem type. */
  public boolean is(Problem.Type type) {
    return problem != null && problem.knownType() == type;
  }
}
