/**
 * CrowdBackup's public API: value types (fingerprints, headers, keys, receipts), the sealer, opener and
 * header-reader interfaces, the custody store and policy contracts, and typed exceptions. No
 * dependencies; usable on Android API level 26.
 */
module io.crowdbackup.api {
  // JSpecify's @Nullable: `static` because it is needed to compile only (api has no dependency when running).
  // Not `transitive`: a module compiled against api need not have it (javac then ignores the annotations).
  requires static org.jspecify;

  exports io.crowdbackup.api;
  exports io.crowdbackup.api.policy;
  exports io.crowdbackup.api.store;
}
