package io.crowdbackup.cli;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.TimeSource;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.HolderConfig;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A holder folder: the engine's {@link Custodian}, opened by {@link Custodian#open(HolderConfig)} on
 * {@code DIR/blobs/} (the store) and {@code DIR/custody.clock}, with the settings from
 * {@code DIR/store.conf} (optional). The {@code store} commands and every phone of the demo open their
 * folders through here, so a demo phone can be looked at with {@code crowdbackup store --dir}.
 *
 * <p>All policy (quota, per-peer share, retention, forward-once, receipts, expiry) is the custodian's;
 * this class only turns the settings into a {@link HolderConfig}.
 */
final class Holder implements Closeable {
  static final String BLOBS_DIR = HolderConfig.BLOBS_DIR;

  final Path dir;
  final HolderSettings settings;
  final Custodian custodian;

  private Holder(Path dir, HolderSettings settings, Custodian custodian) {
    this.dir = dir;
    this.settings = settings;
    this.custodian = custodian;
  }

  /** Whether {@code dir} holds a store (created by an earlier {@link #open}). */
  static boolean exists(Path dir) {
    return Files.isDirectory(dir.resolve(BLOBS_DIR));
  }

  /** No shaping: the command line moves local files, so only the demo's simulated radios are throttled. */
  static final RateLimit UNSHAPED = RateLimit.of(RateLimit.MAX_BYTES_PER_SECOND, RateLimit.MAX_BURST_BYTES);

  /**
   * Opens (creating if needed) the holder in {@code dir}.
   *
   * @param time custody time and bandwidth time; {@link TimeSource#system()} outside the demo
   * @param ingress global and per-peer ingress, [global, perPeer]; likewise {@code egress}
   */
  static Holder open(Path dir, HolderSettings settings, TimeSource time, RateLimit[] ingress,
      RateLimit[] egress) throws IOException {
    HolderConfig.Builder config = HolderConfig.newBuilder(dir)
        .time(time)
        .limitBytes(settings.quotaBytes)
        .peerSharePercent(settings.peerSharePercent)
        .maxRetention(java.time.Duration.ofSeconds(settings.maxRetentionSeconds))
        .ingress(ingress[0], ingress[1])
        .egress(egress[0], egress[1]);
    if (settings.maxEnvelopeBytes > 0) {
      config.maxEnvelopeBytes(settings.maxEnvelopeBytes);
    }
    return new Holder(dir, settings, Custodian.open(config.build()));
  }

  /** Writes the clock's high-water mark and closes the store. */
  @Override
  public void close() throws IOException {
    custodian.close();
  }
}
