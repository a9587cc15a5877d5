/**
 * CrowdBackup's public API: value types (fingerprints, headers, keys, receipts), the sealer, opener and
 * header-reader interfaces, and typed exceptions. No dependencies; usable on Android API level 26.
 */
module io.crowdbackup.api {
  exports io.crowdbackup.api;
  exports io.crowdbackup.api.policy;
}
