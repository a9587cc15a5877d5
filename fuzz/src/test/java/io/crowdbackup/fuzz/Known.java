package io.crowdbackup.fuzz;

/**
 * Findings reported to the lead and not yet fixed in the engine. Each is masked — the target skips that
 * one check for inputs it applies to — so that {@code mvn test} stays green and a campaign keeps looking
 * for new bugs instead of rediscovering a known one. {@code -Dfuzz.strict=true} (run.sh {@code --strict})
 * unmasks them all: that is how the inputs under {@code fuzz/findings/} reproduce. When a fix lands,
 * delete its constant here and move its input into the replayed corpus.
 */
final class Known {
  private Known() {}

  static final boolean STRICT = Boolean.getBoolean("fuzz.strict");
  /** {@code -Dfuzz.unmask=F2,F4}: enforce only these, to find inputs for one finding behind another. */
  private static final java.util.Set<String> UNMASKED =
      java.util.Set.of(System.getProperty("fuzz.unmask", "").split(","));

  // F1-F5 (see fuzz/README.md) are fixed in the engine and their inputs are replayed by mvn test. Add a
  // constant here for a new finding until its fix lands.

  /**
   * F6 (StoreRecoveryFuzzTest#resumeDamagedUpload): at open and on resume the store takes the upload's
   * record header from the journal ({@code partial/<fp>.pieces}) and never compares it with the data file's
   * ({@code partial/<fp>.part}; reopen only checks that the data header decodes), nor the journal header's
   * fingerprint with the file name. A journal header that decodes but differs — here a source peer one byte
   * shorter, so a header length of 89 against the data file's 90 — makes resume use the journal's length
   * as the data offset: piece 0 no longer verifies, the upload restarts at 0 writing envelope bytes from
   * offset 89 — over the last byte of the data file's 90-byte header (its CRC) — and commit() succeeds
   * (acknowledged). The first read of the committed blob finds "header checksum failed" and quarantines it
   * as CORRUPT: an acknowledged blob is lost. No wrong byte is served. Fix: on resume
   * (and at open) decode the data file's header and require it to equal the journal's (and the journal's
   * fingerprint to match the file name), else start the upload over.
   */
  static final String F6_JOURNAL_HEADER_NOT_MATCHED = "F6";

  /**
   * F7 (DeliveryLedgerFuzzTest#openDamagedLedger, needs a record whose CRC matches): the inbox's ledger
   * replay stores a PENDING record's receipt bytes without checking that they decode to a receipt for the
   * record's own fingerprint, and {@code Inbox.receiptFor(f)} later hands them out: a record for
   * {@code 99dde249…} whose receipt names {@code 99dde288…} makes receiptFor(99dde249…) return a receipt
   * for another blob. Only a checksummed-but-inconsistent record (a writer bug, tampering) reaches it, so
   * the mask applies to inputs whose CRCs the harness recomputed. Fix: on replay, decode the receipt and
   * require its fingerprint to be the record's (else LEDGER_CORRUPT), as apply() already does for the name.
   */
  static final String F7_LEDGER_RECEIPT_NOT_MATCHED = "F7";

  /**
   * F8 (DeliveryLedgerFuzzTest#openDamagedLedger, needs a record whose CRC matches): {@code Inbox.open}
   * settles an unresolved PENDING record by {@code dir.resolve(name)} on the name read from the ledger
   * ({@code Inbox.isPublished}); a name holding a NUL character throws {@code InvalidPathException} (a
   * RuntimeException) out of {@code Inbox.open} instead of InboxException LEDGER_CORRUPT. The same line
   * also accepts a name with "/" or "..", or an absolute one, and then reads and hashes a file outside the
   * inbox folder (it never writes there). Fix: in DeliveryLedger.apply, refuse a name that is not a single
   * plain file name (no separator, not "."/"..", no NUL; what FileNames produces) as LEDGER_CORRUPT. The
   * mask turns only an InvalidPathException from the inbox into a refusal.
   */
  static final String F8_LEDGER_NAME_NOT_A_PATH = "F8";

  /**
   * F9 (StoreRecoveryFuzzTest#resumeDamagedUpload, 19 s into a campaign): {@code StoreFormat.RecordHeader
   * .decode} accepts fields that {@code UploadRequest.Builder} refuses — here a checksummed journal header
   * with a negative {@code expiresNoLaterThanEpochSecond} — and registers the upload at open; then
   * {@code FileCustodyStore.uploads()} (also {@code Upload.request()}, and the store's other
   * {@code toRequest} callers) throws {@code IllegalArgumentException: expiresNoLaterThanEpochSecond must
   * not be negative} out of a public store method, and keeps doing so on every call while the upload is
   * registered. A custody header whose peer {@code custodyFrom} refuses would do the same. Fix: validate in
   * {@code RecordHeader.decode} what {@code UploadRequest} validates (FormatProblem: the upload is dropped
   * at open, like a header that fails its CRC). The mask turns only an IllegalArgumentException thrown
   * through {@code RecordHeader.toRequest} into a refusal.
   */
  static final String F9_RECORD_HEADER_NOT_A_REQUEST = "F9";

  /** Whether the check for {@code finding} is skipped for this input. */
  static boolean masked(String finding, boolean applies) {
    return applies && !STRICT && !UNMASKED.contains(finding);
  }
}
