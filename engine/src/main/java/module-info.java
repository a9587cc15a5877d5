/**
 * CrowdBackup's engine: what a front-end (an Android or desktop app, a server) codes against, and
 * nothing else. Exported:
 *
 * <ul>
 *   <li>{@code io.crowdbackup.engine}: {@code Envelopes}, the sealer, opener and keyless header read and
 *       scan of envelope format v2;
 *   <li>{@code io.crowdbackup.engine.custody}: the holder, {@code Custodian.open(HolderConfig)}, its offers,
 *       uploads, forwards and drops;
 *   <li>{@code io.crowdbackup.engine.inbox}: the destination's inbox and {@code SafeFiles};
 *   <li>{@code io.crowdbackup.engine.keys} and {@code io.crowdbackup.engine.receipt}: key files, key
 *       generation, signing and verifying receipts and releases;
 *   <li>{@code io.crowdbackup.engine.protocol}: the wire protocol's codecs and state machines (holder,
 *       destination), for a front-end to bind to its own HTTP server or client.
 * </ul>
 *
 * <p>Not exported, and so not reachable from a front-end: the envelope codecs and ciphers, the custody
 * store and its index, the quota ledger, retention and bandwidth shaping. They change without notice.
 */
module io.crowdbackup.engine {
  requires transitive io.crowdbackup.api;
  requires org.bouncycastle.provider;
  requires org.lz4.java;

  exports io.crowdbackup.engine;
  exports io.crowdbackup.engine.custody;
  exports io.crowdbackup.engine.inbox;
  exports io.crowdbackup.engine.keys;
  exports io.crowdbackup.engine.protocol;
  exports io.crowdbackup.engine.receipt;
}
