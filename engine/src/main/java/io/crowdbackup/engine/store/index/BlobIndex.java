package io.crowdbackup.engine.store.index;

import io.crowdbackup.api.Fingerprint;
import java.io.Closeable;
import java.io.IOException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The store's index from fingerprint to {@link IndexEntry}: derived data, rebuilt from the data files
 * whenever it cannot be trusted. It needs no durability of its own; the store calls it under its own
 * lock, so implementations need not be thread-safe.
 *
 * <p>Implementations: {@link InMemoryBlobIndex} (portable, Android) and, in engine-jvm, one backed by a
 * persisted Chronicle Map. Both pass {@code BlobIndexContractTest}.
 */
public interface BlobIndex extends Closeable {
  /** Opens an index in a directory the store gives it. */
  interface Factory {
    /**
     * Opens the index kept in {@code directory} (created if absent).
     *
     * @param previousShutdownClean whether the store was closed cleanly last time; when false the
     *     implementation must discard any persisted entries (they may be torn or locked by a dead process)
     * @return an index; {@link BlobIndex#isPopulated()} says whether it holds trusted entries or must be
     *     rebuilt by the store from the data files
     */
    BlobIndex open(java.nio.file.Path directory, boolean previousShutdownClean) throws IOException;

    /** Short name for logs and the clean-shutdown marker, e.g. "memory", "chronicle". */
    String name();
  }

  /**
   * Whether the index came up holding entries it trusts (a persisted index after a clean shutdown). When
   * false it is empty and the store fills it from the data files.
   */
  boolean isPopulated();

  @Nullable IndexEntry get(Fingerprint fingerprint) throws IOException;

  /** Inserts or replaces the entry under its fingerprint. */
  void put(IndexEntry entry) throws IOException;

  /** Removes the entry; returns whether there was one. */
  boolean remove(Fingerprint fingerprint) throws IOException;

  void forEach(Consumer<IndexEntry> action) throws IOException;

  long size() throws IOException;

  /** Removes every entry. */
  void clear() throws IOException;

  /**
   * Writes what the index holds to its persisted form, if it has one, so that it can be trusted after this
   * clean shutdown. Called just before {@link #close()} on a clean close.
   */
  void flush() throws IOException;
}
