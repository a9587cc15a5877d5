package io.crowdbackup.cli;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.TimeSource;
import io.crowdbackup.engine.custody.ClockFile;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.policy.CustodyPolicy;
import io.crowdbackup.engine.policy.Sleeper;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A holder folder: the engine's {@link Custodian} over a {@link FileCustodyStore}, laid out as
 * {@code DIR/blobs/} (the store), {@code DIR/custody.clock} (the custody clock's high-water mark) and
 * {@code DIR/store.conf} (the settings, optional). The {@code store} commands and every phone of the demo
 * open their folders through here, so a demo phone can be looked at with {@code crowdbackup store --dir}.
 *
 * <p>All policy (quota, per-peer share, retention, forward-once, receipts, expiry) is the custodian's;
 * this class only wires the settings into it. The store is kept at hand for what the custodian does not
 * offer a front-end: listing every blob, and the operator's own {@code rm} (whose freed quota reaches the
 * ledger through the store listener the custodian installed, like every other change).
 */
final class Holder implements Closeable {
  static final String BLOBS_DIR = "blobs";
  static final String CLOCK_FILE = "custody.clock";

  final Path dir;
  final HolderSettings settings;
  final FileCustodyStore store;
  final Custodian custodian;

  private Holder(Path dir, HolderSettings settings, FileCustodyStore store, Custodian custodian) {
    this.dir = dir;
    this.settings = settings;
    this.store = store;
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
  static Holder open(Path dir, HolderSettings settings, TimeSource time, Sleeper sleeper, RateLimit[] ingress,
      RateLimit[] egress) throws IOException, CliException {
    Files.createDirectories(dir);
    Path clockFile = dir.resolve(CLOCK_FILE);
    long highWater;
    try {
      highWater = ClockFile.read(clockFile);
    } catch (IOException e) {
      if (!Files.exists(clockFile)) {
        throw e;
      }
      throw new CliException(ExitCodes.STATE, "CLOCK_FILE_DAMAGED", clockFile.toString(),
          "store: " + e.getMessage(), e);
    }
    CustodyPolicy.Builder<String> policy = CustodyPolicy.<String>newBuilder()
        .time(time, sleeper)
        .highWaterEpochSecond(highWater)
        .limitBytes(settings.quotaBytes)
        .peerSharePercent(settings.peerSharePercent)
        .maxRetentionSeconds(settings.maxRetentionSeconds)
        .ingress(ingress[0], ingress[1])
        .egress(egress[0], egress[1]);
    if (settings.maxEnvelopeBytes > 0) {
      policy.maxEnvelopeBytes(settings.maxEnvelopeBytes);
    }
    Custodian.Builder b = Custodian.newBuilder(policy.build()).clockFile(clockFile);
    FileCustodyStore store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve(BLOBS_DIR))
        .clock(b.storeClock()).listener(b.storeListener()).build());
    try {
      return new Holder(dir, settings, store, b.store(store).build());
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /** Writes the clock's high-water mark and closes the store. */
  @Override
  public void close() throws IOException {
    custodian.close();
  }
}
