package io.crowdbackup.engine.custody;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.engine.policy.ManualTimeSource;
import io.crowdbackup.engine.store.StoreConfig;
import io.crowdbackup.engine.store.StoreListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Builders refuse a setting given twice, check the whole in build(), and nothing the caller set is replaced. */
class BuildersTest {
  @TempDir
  Path dir;

  @Test
  void holderConfigRefusesASecondSettingAndChecksTheWhole() {
    HolderConfig.Builder b = HolderConfig.newBuilder(dir).limitBytes(1000);
    assertEquals("limitBytes was already set to 1000",
        assertThrows(IllegalStateException.class, () -> b.limitBytes(2000)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> b.maxRetention(Duration.ofMillis(1500)));
    b.maxRetention(Duration.ofHours(1)); // a refused value does not count as set
    assertThrows(IllegalStateException.class, () -> b.maxRetention(Duration.ofHours(2)));
    assertTrue(assertThrows(IllegalStateException.class, b::build).getMessage().contains("ingress and egress"));
    RateLimit r = RateLimit.perSecond(1 << 20);
    b.ingress(r, r);
    assertTrue(assertThrows(IllegalStateException.class, b::build).getMessage().contains("ingress and egress"));
    HolderConfig built = b.egress(r, r).build();
    assertEquals(Duration.ofHours(1), built.maxRetention());
    assertEquals(100, built.peerSharePercent(), "the default share");
    assertEquals("ingressTimeout was already set to PT1S", assertThrows(IllegalStateException.class,
        () -> HolderConfig.newBuilder(dir).ingressTimeout(Duration.ofSeconds(1)).ingressTimeout(Duration.ZERO))
        .getMessage());
    assertThrows(IllegalArgumentException.class, () -> b.egressTimeout(Duration.ofSeconds(-1)));
  }

  @Test
  void storeConfigRefusesASecondSettingAndAFlushBehindThatCouldNeverRun() {
    StoreConfig.Builder b = StoreConfig.newBuilder(dir).checkpointEveryBytes(4096);
    assertEquals("checkpointEveryBytes was already set to 4096",
        assertThrows(IllegalStateException.class, () -> b.checkpointEveryBytes(8192)).getMessage());
    b.flushBehindBytes(4096);
    assertTrue(assertThrows(IllegalStateException.class, b::build).getMessage()
        .contains("flushBehindBytes 4096 must be below checkpointEveryBytes 4096"));
    // The defaults alone are never refused, whatever one of them is set to.
    StoreConfig.newBuilder(dir).checkpointEveryBytes(4096).build();
  }

  @Test
  void openingACustodianNeverReplacesTheCallersClockOrListener() throws Exception {
    ManualTimeSource time = new ManualTimeSource();
    Path clockFile = dir.resolve("custody.clock");
    StoreConfig.Builder withClock = StoreConfig.newBuilder(dir.resolve("a")).clock(Clock.systemUTC());
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Custodian.open(withClock, CustodyFixture.policy(time, 1 << 20), clockFile));
    assertTrue(e.getMessage().startsWith("clock was already set to"), e.getMessage());
    StoreConfig.Builder withListener = StoreConfig.newBuilder(dir.resolve("b")).listener(StoreListener.NONE);
    e = assertThrows(IllegalStateException.class,
        () -> Custodian.open(withListener, CustodyFixture.policy(time, 1 << 20), clockFile));
    assertTrue(e.getMessage().startsWith("listener was already set to"), e.getMessage());
    assertFalse(Files.exists(dir.resolve("a")), "nothing was created for a refused configuration");
  }
}
