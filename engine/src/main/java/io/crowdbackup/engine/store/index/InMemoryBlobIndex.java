package io.crowdbackup.engine.store.index;

import io.crowdbackup.api.Fingerprint;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The portable index: a hash map in memory, filled from the data files on every open. Nothing persisted,
 * so nothing to corrupt, lock or version; the price is a scan of the blob files' headers and footers at
 * open (see {@code docs/decisions/0002-store-layout.md} for its cost). The default on Android.
 */
public final class InMemoryBlobIndex implements BlobIndex {
  /** Factory for {@link InMemoryBlobIndex}. */
  public static final Factory FACTORY = new Factory() {
    @Override
    public BlobIndex open(Path directory, boolean previousShutdownClean) {
      return new InMemoryBlobIndex();
    }

    @Override
    public String name() {
      return "memory";
    }
  };

  private final Map<Fingerprint, IndexEntry> entries = new HashMap<>();

  @Override
  public boolean isPopulated() {
    return false;
  }

  @Override
  public @Nullable IndexEntry get(Fingerprint fingerprint) {
    return entries.get(fingerprint);
  }

  @Override
  public void put(IndexEntry entry) {
    entries.put(entry.fingerprint(), entry);
  }

  @Override
  public boolean remove(Fingerprint fingerprint) {
    return entries.remove(fingerprint) != null;
  }

  @Override
  public void forEach(Consumer<IndexEntry> action) {
    entries.values().forEach(action);
  }

  @Override
  public long size() {
    return entries.size();
  }

  @Override
  public void clear() {
    entries.clear();
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    entries.clear();
  }
}
