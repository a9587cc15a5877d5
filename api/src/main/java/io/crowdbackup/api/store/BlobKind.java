package io.crowdbackup.api.store;

/**
 * Whose blob it is. One store holds both kinds (see {@code docs/decisions/0002-store-layout.md}): the
 * device's own sealed envelopes waiting to go home, and custody blobs held for other devices. The kind is
 * recorded with the blob so that quotas (which count only {@link #CUSTODY}) and the forward-once rule
 * (custody blobs go only to their own destination) can be enforced above the store.
 */
public enum BlobKind {
  /** This device sealed it; it is offered to peers and sent home. */
  OWN,
  /** A peer handed it over; this device holds it for at most its retention and forwards it once. */
  CUSTODY
}
