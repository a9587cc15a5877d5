package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.protocol.OfferMessage;
import io.crowdbackup.engine.protocol.Problem;
import io.crowdbackup.engine.protocol.PeerIdentity;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decision 0005: who a peer is, and what one that rotates identities can take. */
class PeerIdentityTest {
  private static final long QUOTA = 1L << 20;
  private static final long EACH = 200_000;
  @TempDir Path dir;
  private final HttpClient http = ProtocolClient.newHttpClient(Duration.ofSeconds(2));

  /** Offers {@code count} distinct envelopes of {@link #EACH} bytes, each under its own label; the answers. */
  private List<String> offer(URI holder, int count, boolean rotateLabel) throws Exception {
    List<String> answers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] fp = new byte[32];
      fp[0] = (byte) (i + 1);
      OfferMessage m = new OfferMessage(Fingerprint.of(fp), EACH, System.currentTimeMillis() / 1000 + 3600,
          rotateLabel ? "identity-" + i : "same", false);
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(holder + "/v1/offers"))
          .POST(HttpRequest.BodyPublishers.ofByteArray(m.encode())).build(), HttpResponse.BodyHandlers.ofString());
      answers.add(r.statusCode() == 201 ? "ACCEPTED"
          : Problem.decode(r.body().getBytes(StandardCharsets.UTF_8)).text(Problem.REASON));
    }
    return answers;
  }

  @Test
  void labelsDoNotMakeNewPeersWhenThePeerIsItsAddress() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Holder h = net.holder("h", QUOTA, 25, PeerIdentity.BY_ADDRESS);
      // A 25 % share of 1 MiB holds one 200 000-byte envelope; new labels from the same address change nothing.
      assertEquals(List.of("ACCEPTED", "PEER_SHARE_EXCEEDED", "PEER_SHARE_EXCEEDED"), offer(h.uri(), 3, true));
    }
  }

  @Test
  void aPeerThatRotatesIdentitiesNeverTakesMoreThanTheGlobalQuota() throws Exception {
    try (Net net = new Net(dir)) {
      // The worst case: identities are free (here, the label is trusted), so each offer is a new peer.
      Net.Holder h = net.holder("h", QUOTA, 25, PeerIdentity.BY_DECLARED_LABEL);
      List<String> answers = offer(h.uri(), 8, true);
      assertEquals(List.of("ACCEPTED", "ACCEPTED", "ACCEPTED", "ACCEPTED", "ACCEPTED", "QUOTA_FULL", "QUOTA_FULL",
          "QUOTA_FULL"), answers);
      assertEquals(5 * EACH, h.custodian.stats().reservedBytes());
      assertEquals(true, h.custodian.stats().reservedBytes() <= QUOTA);
    }
  }
}
