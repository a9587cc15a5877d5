package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.HolderConfig;
import io.crowdbackup.engine.protocol.ProtocolResponse;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Every server builder refuses a setting given twice, naming the first value, instead of replacing it. */
class BuildersTest {
  @TempDir Path dir;

  private static void refused(String expected, Executable second) {
    assertEquals(expected, assertThrows(IllegalStateException.class, second).getMessage());
  }

  @Test
  void protocolServerRefusesASecondSetting() {
    ProtocolServer.Builder b = ProtocolServer.newBuilder(req -> ProtocolResponse.status(204))
        .host("127.0.0.1").port(0).idleTimeout(Duration.ofSeconds(7)).stopTimeout(Duration.ZERO)
        .minRequestBytesPerSecond(10).maxThreads(8).name("a");
    refused("host was already set to 127.0.0.1", () -> b.host("0.0.0.0"));
    refused("port was already set to 0", () -> b.port(8080));
    refused("idleTimeout was already set to PT7S", () -> b.idleTimeout(Duration.ofSeconds(60)));
    refused("stopTimeout was already set to PT0S", () -> b.stopTimeout(Duration.ofSeconds(5)));
    refused("minRequestBytesPerSecond was already set to 10", () -> b.minRequestBytesPerSecond(0));
    refused("maxThreads was already set to 8", () -> b.maxThreads(16));
    refused("name was already set to a", () -> b.name("b"));
  }

  @Test
  void sourceClientRefusesASecondSettingAndTheSameHolderTwice() {
    URI h = URI.create("http://127.0.0.1:1");
    SourceClient.Builder b = SourceClient.newBuilder().holder(h).replicas(3).peerLabel("phone")
        .takeCounterOffers(false).requireFullRetention(true).backoff(Backoff.DEFAULT)
        .requestTimeout(Duration.ofSeconds(9)).patchBytes(4096).uploadInCreation(false);
    refused("replicas was already set to 3", () -> b.replicas(1));
    refused("uploadInCreation was already set to false", () -> b.uploadInCreation(true));
    refused("peerLabel was already set to phone", () -> b.peerLabel("other"));
    refused("takeCounterOffers was already set to false", () -> b.takeCounterOffers(true));
    refused("requireFullRetention was already set to true", () -> b.requireFullRetention(false));
    refused("backoff was already set to " + Backoff.DEFAULT, () -> b.backoff(Backoff.DEFAULT));
    refused("requestTimeout was already set to PT9S", () -> b.requestTimeout(Duration.ofSeconds(1)));
    refused("patchBytes was already set to 4096", () -> b.patchBytes(8192));
    refused("holder http://127.0.0.1:1 was already given (holders [http://127.0.0.1:1])", () -> b.holder(h));
    b.holder(URI.create("http://127.0.0.1:2")).build();
  }

  @Test
  void forwarderRefusesASecondSetting() throws Exception {
    RateLimit r = RateLimit.perSecond(1L << 20);
    try (Custodian c = Custodian.open(HolderConfig.newBuilder(dir).limitBytes(1L << 20).ingress(r, r).egress(r, r)
        .build())) {
      Forwarder.Builder b = Forwarder.newBuilder(c).patchBytes(1000).requestTimeout(Duration.ofMinutes(1))
          .httpClient(ProtocolClient.newHttpClient(Duration.ofSeconds(1)));
      refused("patchBytes was already set to 1000", () -> b.patchBytes(1000));
      refused("requestTimeout was already set to PT1M", () -> b.requestTimeout(Duration.ofMinutes(2)));
      assertThrows(IllegalStateException.class, () -> b.httpClient(ProtocolClient.newHttpClient(Duration.ofSeconds(1))));
      b.build();
    }
  }

  @Test
  void aBadValueIsRefusedAndLeavesTheSettingFree() {
    SourceClient.Builder b = SourceClient.newBuilder();
    assertThrows(IllegalArgumentException.class, () -> b.requestTimeout(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> b.patchBytes(0));
    b.requestTimeout(Duration.ofSeconds(1)).patchBytes(1);
  }
}
