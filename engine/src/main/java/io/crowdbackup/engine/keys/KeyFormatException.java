package io.crowdbackup.engine.keys;

/** A key or card file could not be decoded; the message names the field and the problem. */
public final class KeyFormatException extends Exception {
  private static final long serialVersionUID = 1L;

  public KeyFormatException(String message) {
    super(message);
  }
}
