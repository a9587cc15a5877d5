package io.crowdbackup.api;

import org.jspecify.annotations.Nullable;

/** What an envelope's payload is, as its encrypted metadata says. */
public enum ContentKind {
  /** A file for the destination. */
  FILE(0),
  /** An inner envelope that a relay forwards unchanged to the locator in the inner envelope's header. */
  RELAYED_ENVELOPE(1);

  private final int code;

  ContentKind(int code) {
    this.code = code;
  }

  /** The byte that encodes this kind in the metadata record. */
  public int code() {
    return code;
  }

  /** The kind for a code, or {@code null} when the code is undefined. */
  public static @Nullable ContentKind ofCode(int code) {
    for (ContentKind k : values()) {
      if (k.code == code) {
        return k;
      }
    }
    return null;
  }
}
