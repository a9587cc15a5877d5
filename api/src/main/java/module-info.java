/**
 * CrowdBackup's public API: value types (fingerprints, headers, keys, receipts), the sealer, opener and
 * header-reader interfaces, the custody store and policy contracts, and typed exceptions. No
 * dependencies; usable on Android API level 26.
 */
module io.crowdbackup.api {
  exports io.crowdbackup.api;
  exports io.crowdbackup.api.policy;
  exports io.crowdbackup.api.store;
}
