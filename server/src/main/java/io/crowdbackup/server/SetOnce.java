package io.crowdbackup.server;

import java.util.HashSet;
import java.util.Set;

/**
 * The settings a builder was given, so that a second one for the same name fails instead of silently
 * undoing the first (the engine's and api's builders refuse it with the same words).
 */
final class SetOnce {
  private final Set<String> given = new HashSet<>();

  /**
   * Records {@code name} as given.
   *
   * @param current the value it has now, named in the error
   * @throws IllegalStateException if {@code name} was given before
   */
  void mark(String name, Object current) {
    if (!given.add(name)) {
      throw new IllegalStateException(name + " was already set to " + current);
    }
  }
}
