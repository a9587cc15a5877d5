package io.crowdbackup.engine.protocol;

import java.util.Objects;

/**
 * A peer's request or answer broke the wire protocol ({@code docs/protocol.md}): a malformed or oversized
 * header or JSON body, an unsupported version. Names what was being read and why it was refused. Like a
 * refusal it is an expected answer to untrusted input, so it records no stack trace.
 *
 * <p>It is deliberately not a {@code CrowdBackupException} (an {@code IOException}): the protocol cores tell
 * a peer's fault (400 or 412, which the peer must not retry) from a failure of this side (503, retried) by
 * this checked type alone, and as an {@code IOException} every {@code catch (IOException)} between a parser
 * and the request handler would silently turn the one into the other. A front-end meets it only when it
 * calls a codec itself; a transfer through the {@code server} module reports a bad answer as an
 * {@code IOException} naming the peer.
 */
public final class ProtocolException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why the input was refused; each maps to one problem type and HTTP status. */
  public enum Reason {
    /** Not in the grammar: bad syntax, a missing or ill-typed field, a value out of range. (400) */
    MALFORMED,
    /** Larger than the protocol's bound for that element. (400, or 413 for a body) */
    TOO_LARGE,
    /** A protocol version (Tus-Resumable, path version) this side does not speak. (412) */
    UNSUPPORTED_VERSION
  }

  private final Reason reason;
  private final String element;

  /**
   * @param element what was being read, as a peer would name it: {@code "Upload-Metadata"},
   *     {@code "offer JSON"}, {@code "member 'lengthBytes'"}
   */
  public ProtocolException(Reason reason, String element, String message) {
    super(element + ": " + message, null, false, false);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.element = Objects.requireNonNull(element, "element");
  }

  /** Never null: the constructor always formats one. */
  @Override
  public String getMessage() {
    return Objects.requireNonNull(super.getMessage());
  }

  public Reason reason() {
    return reason;
  }

  /** What was being read when the input was refused. */
  public String element() {
    return element;
  }
}
