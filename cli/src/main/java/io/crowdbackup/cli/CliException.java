package io.crowdbackup.cli;

/** A failure the user can act on: one line of text, an exit code, and for {@code --json} a reason and file. */
public final class CliException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int exitCode;
  private final String reason;
  private final String file;
  private final java.util.Map<String, Object> details = new java.util.LinkedHashMap<>();

  public CliException(int exitCode, String message) {
    this(exitCode, null, null, message, null);
  }

  public CliException(int exitCode, String reason, String file, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
    this.reason = reason;
    this.file = file;
  }

  public int exitCode() {
    return exitCode;
  }

  /** A machine-readable reason (an enum name such as {@code BAD_CHUNK_TAG}), or {@code null}. */
  public String reason() {
    return reason;
  }

  /** Adds a machine-readable detail to the {@code --json} error object (say, a refusal's bytes free). */
  CliException detail(String key, Object value) {
    details.put(key, value);
    return this;
  }

  /** Details for {@code --json}, in the order they were added. */
  java.util.Map<String, Object> details() {
    return details;
  }

  /** The file the failure concerns, or {@code null}. */
  public String file() {
    return file;
  }
}
