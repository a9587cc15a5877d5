package io.crowdbackup.engine.store.index;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.api.store.BlobState;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What the index remembers of one blob: everything {@link BlobStat} reports plus where the data file is
 * ({@link #groupEpochSecond()}) and which generation of the fingerprint it is ({@link #blobId()}, so state
 * records of an earlier blob with the same fingerprint never apply to a later one). Immutable.
 */
public final class IndexEntry {
  private final Fingerprint fingerprint;
  private final long blobId;
  private final long groupEpochSecond;
  private final long envelopeLengthBytes;
  private final long expiresAtEpochSecond;
  private final long storedAtEpochMillis;
  private final BlobState state;
  private final BlobKind kind;
  private final String sourcePeer;
  private final String locator;

  public IndexEntry(Fingerprint fingerprint, long blobId, long groupEpochSecond, long envelopeLengthBytes,
      long expiresAtEpochSecond, long storedAtEpochMillis, BlobState state, BlobKind kind, String sourcePeer,
      String locator) {
    this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    this.blobId = blobId;
    this.groupEpochSecond = groupEpochSecond;
    this.envelopeLengthBytes = envelopeLengthBytes;
    this.expiresAtEpochSecond = expiresAtEpochSecond;
    this.storedAtEpochMillis = storedAtEpochMillis;
    this.state = Objects.requireNonNull(state, "state");
    this.kind = Objects.requireNonNull(kind, "kind");
    this.sourcePeer = Objects.requireNonNull(sourcePeer, "sourcePeer");
    this.locator = Objects.requireNonNull(locator, "locator");
  }

  public Fingerprint fingerprint() {
    return fingerprint;
  }

  public long blobId() {
    return blobId;
  }

  /** Start of the expiry group (directory) holding the data file. */
  public long groupEpochSecond() {
    return groupEpochSecond;
  }

  public long envelopeLengthBytes() {
    return envelopeLengthBytes;
  }

  public long expiresAtEpochSecond() {
    return expiresAtEpochSecond;
  }

  public long storedAtEpochMillis() {
    return storedAtEpochMillis;
  }

  public BlobState state() {
    return state;
  }

  public BlobKind kind() {
    return kind;
  }

  public String sourcePeer() {
    return sourcePeer;
  }

  public String locator() {
    return locator;
  }

  public IndexEntry withState(BlobState next) {
    return new IndexEntry(fingerprint, blobId, groupEpochSecond, envelopeLengthBytes, expiresAtEpochSecond,
        storedAtEpochMillis, next, kind, sourcePeer, locator);
  }

  /** The stat as seen at {@code nowEpochSecond}: a blob past its expiry reads as {@link BlobState#EXPIRED}. */
  public BlobStat toStat(long nowEpochSecond) {
    BlobState shown = state.hasBytes() && expiresAtEpochSecond <= nowEpochSecond ? BlobState.EXPIRED : state;
    return new BlobStat(fingerprint, envelopeLengthBytes, expiresAtEpochSecond, shown, kind, sourcePeer, locator,
        storedAtEpochMillis);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof IndexEntry)) {
      return false;
    }
    IndexEntry e = (IndexEntry) o;
    return fingerprint.equals(e.fingerprint) && blobId == e.blobId && groupEpochSecond == e.groupEpochSecond
        && envelopeLengthBytes == e.envelopeLengthBytes && expiresAtEpochSecond == e.expiresAtEpochSecond
        && storedAtEpochMillis == e.storedAtEpochMillis && state == e.state && kind == e.kind
        && sourcePeer.equals(e.sourcePeer) && locator.equals(e.locator);
  }

  @Override
  public int hashCode() {
    return fingerprint.hashCode() ^ Long.hashCode(blobId);
  }

  @Override
  public String toString() {
    return "IndexEntry{" + fingerprint.toHex().substring(0, 16) + "…, id " + blobId + ", group " + groupEpochSecond
        + ", " + envelopeLengthBytes + " bytes, " + state + ", " + kind + "}";
  }
}
