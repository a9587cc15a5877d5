package io.crowdbackup.engine.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.Refusal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessagesTest {
  private static final Fingerprint FP = Fingerprint.fromHex("ab".repeat(32));

  @Test
  void offerRoundTripsAsJsonAndAsTusMetadata() throws ProtocolException {
    OfferMessage m = new OfferMessage(FP, 123_456, 1_800_000_000L, "phone 7", true);
    assertEquals(m, OfferMessage.decode(m.encode()));
    Map<String, String> md = Tus.parseMetadata(Tus.formatMetadata(m.toTusMetadata()));
    assertEquals(m, OfferMessage.fromTus(md, 123_456));
    OfferMessage anonymous = new OfferMessage(FP, 1, 0, null, false);
    assertEquals(anonymous, OfferMessage.decode(anonymous.encode()));
  }

  @Test
  void offerIgnoresUnknownMembersAndRefusesBadOnes() throws ProtocolException {
    String ok = "{\"fingerprint\":\"" + FP.toHex() + "\",\"lengthBytes\":5,\"expiresAtEpochSecond\":7,\"future\":1}";
    assertEquals(5, OfferMessage.decode(ok.getBytes(StandardCharsets.UTF_8)).lengthBytes());
    String[] bad = {
        "{\"fingerprint\":\"abc\",\"lengthBytes\":5,\"expiresAtEpochSecond\":7}",
        "{\"fingerprint\":\"" + "zz".repeat(32) + "\",\"lengthBytes\":5,\"expiresAtEpochSecond\":7}",
        "{\"fingerprint\":\"" + FP.toHex() + "\",\"lengthBytes\":0,\"expiresAtEpochSecond\":7}",
        "{\"fingerprint\":\"" + FP.toHex() + "\",\"lengthBytes\":5,\"expiresAtEpochSecond\":-1}",
        "{\"fingerprint\":\"" + FP.toHex() + "\",\"lengthBytes\":5}",
        "{\"fingerprint\":\"" + FP.toHex() + "\",\"lengthBytes\":5,\"expiresAtEpochSecond\":7,\"peer\":\"\"}",
        "{\"fingerprint\":\"" + FP.toHex() + "\",\"lengthBytes\":5,\"expiresAtEpochSecond\":7,\"peer\":\"a\\nb\"}",
        "{\"fingerprint\":\"" + FP.toHex() + "\",\"lengthBytes\":5,\"expiresAtEpochSecond\":\"7\"}",
    };
    for (String s : bad) {
      assertThrows(ProtocolException.class, () -> OfferMessage.decode(s.getBytes(StandardCharsets.UTF_8)), s);
    }
    Map<String, String> md = new LinkedHashMap<>();
    md.put("fingerprint", FP.toHex());
    assertThrows(ProtocolException.class, () -> OfferMessage.fromTus(md, 5)); // no expiry
    md.put("expiresAtEpochSecond", "7");
    md.put("requireFullRetention", "yes");
    assertThrows(ProtocolException.class, () -> OfferMessage.fromTus(md, 5));
    md.put("requireFullRetention", "false");
    md.put("filename", "ignored.cbe");
    assertEquals(7, OfferMessage.fromTus(md, 5).expiresAtEpochSecond());
    assertThrows(ProtocolException.class, () -> OfferMessage.fromTus(md, 0));
  }

  @Test
  void everyRefusalSurvivesTheWireWithItsNumbers() throws ProtocolException {
    List<Refusal> all = new ArrayList<>();
    for (Refusal.Reason r : Refusal.Reason.values()) {
      all.add(Refusal.of(r, "because " + r));
    }
    all.add(Refusal.ofSpace(Refusal.Reason.QUOTA_FULL, "full", 1000, 900));
    all.add(Refusal.ofTime(Refusal.Reason.TTL_TOO_LONG, "shorter", 43_200, 1_800_000_000L));
    for (Refusal r : all) {
      Problem p = Problem.decode(Problem.of(r).encode());
      assertEquals(r, p.toRefusal());
      assertEquals(Problem.TYPE_PREFIX + r.reason().name().toLowerCase().replace('_', '-'), p.type());
      assertEquals(r.reason().name(), p.text(Problem.REASON));
      assertTrue(p.status() >= 400 && p.status() < 600);
    }
    Problem counter = Problem.of(Refusal.ofTime(Refusal.Reason.TTL_TOO_LONG, "shorter", 43_200, 99));
    assertEquals(409, counter.status());
    assertEquals(99, counter.number(Problem.COUNTER_OFFER_EXPIRES, -1));
    assertFalse(counter.extensions().containsKey(Problem.BYTES_FREE));
  }

  @Test
  void aRefusalWithNumbersOutOfRangeIsRefusedTyped() throws ProtocolException {
    String[] bad = {"\"bytesFree\":-5", "\"acceptableBytes\":-1", "\"longestRetentionSeconds\":-43200",
        "\"counterOfferExpiresAtEpochSecond\":-1", "\"counterOfferExpiresAtEpochSecond\":253402300800",
        "\"counterOfferExpiresAtEpochSecond\":\"tomorrow\""};
    for (String member : bad) {
      Problem p = Problem.decode(("{\"type\":\"" + Problem.Type.TTL_TOO_LONG.uri() + "\",\"status\":409,"
          + member + "}").getBytes(StandardCharsets.UTF_8));
      ProtocolException e = assertThrows(ProtocolException.class, p::toRefusal, member);
      assertEquals(ProtocolException.Reason.MALFORMED, e.reason());
      assertTrue(e.getMessage().contains(member.substring(1, member.indexOf('"', 1))), e.getMessage());
    }
    Problem zero = Problem.decode(("{\"type\":\"" + Problem.Type.QUOTA_FULL.uri() + "\",\"bytesFree\":0,"
        + "\"acceptableBytes\":0}").getBytes(StandardCharsets.UTF_8));
    assertEquals(0, zero.toRefusal().bytesFree());
  }

  @Test
  void problemsOfOtherTypesAreNotRefusals() throws ProtocolException {
    Problem p = Problem.decode(Problem.of(Problem.Type.OFFSET_MISMATCH, "x").with(Problem.UPLOAD_OFFSET, 7).encode());
    assertNull(p.toRefusal());
    assertEquals(Problem.Type.OFFSET_MISMATCH, p.knownType());
    assertEquals(7, p.number(Problem.UPLOAD_OFFSET, -1));
    Problem foreign = Problem.decode("{\"type\":\"https://example.com/x\",\"status\":418,\"extra\":[1]}"
        .getBytes(StandardCharsets.UTF_8));
    assertNull(foreign.knownType());
    assertEquals(418, foreign.status());
    assertFalse(foreign.extensions().containsKey("extra"));
  }

  @Test
  void deliveryQueryRoundTripsAndIsBounded() throws ProtocolException {
    Fingerprint other = Fingerprint.fromHex("cd".repeat(32));
    assertEquals(List.of(FP, other), DeliveryQuery.decodeRequest(DeliveryQuery.encodeRequest(List.of(FP, other, FP))));
    byte[] receipt = new byte[143];
    Arrays.fill(receipt, (byte) 7);
    Map<Fingerprint, byte[]> answer = DeliveryQuery.decodeResponse(DeliveryQuery.encodeResponse(Map.of(FP, receipt)));
    assertEquals(1, answer.size());
    assertArrayEquals(receipt, answer.get(FP));
    List<Fingerprint> tooMany = new ArrayList<>();
    StringBuilder sb = new StringBuilder("{\"fingerprints\":[");
    for (int i = 0; i <= DeliveryQuery.MAX_FINGERPRINTS; i++) {
      sb.append(i == 0 ? "" : ",").append('"').append(FP.toHex()).append('"');
      tooMany.add(FP);
    }
    String big = sb.append("]}").toString();
    assertEquals(ProtocolException.Reason.TOO_LARGE, assertThrows(ProtocolException.class,
        () -> DeliveryQuery.decodeRequest(big.getBytes(StandardCharsets.UTF_8))).reason());
    assertThrows(IllegalArgumentException.class, () -> DeliveryQuery.encodeRequest(tooMany));
    assertThrows(ProtocolException.class, () -> DeliveryQuery.decodeRequest("{\"fingerprints\":[1]}"
        .getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void uploadIdsAreCapabilities() throws ProtocolException {
    UploadIds ids = new UploadIds(new byte[32]);
    String id = ids.idOf(FP);
    assertEquals(FP, ids.fingerprintOf(id));
    assertEquals(FP, new UploadIds(new byte[32]).fingerprintOf(id)); // derived: survives a restart
    byte[] other = new byte[32];
    other[0] = 1;
    assertNull(new UploadIds(other).fingerprintOf(id));
    char last = id.charAt(id.length() - 1);
    assertNull(ids.fingerprintOf(id.substring(0, id.length() - 1) + (last == '0' ? '1' : '0')));
    assertThrows(ProtocolException.class, () -> ids.fingerprintOf("short"));
    assertThrows(ProtocolException.class, () -> ids.fingerprintOf(FP.toHex() + "." + "zz".repeat(16)));
  }

  @Test
  void peerIdentityGroupsAnIpv6SlashSixtyFour() throws Exception {
    java.net.InetAddress a = java.net.InetAddress.getByName("2001:db8:1:2:aaaa::1");
    java.net.InetAddress b = java.net.InetAddress.getByName("2001:db8:1:2:bbbb::9");
    java.net.InetAddress c = java.net.InetAddress.getByName("2001:db8:1:3::1");
    assertEquals(PeerIdentity.BY_ADDRESS.of(a, "x"), PeerIdentity.BY_ADDRESS.of(b, "y"));
    assertFalse(PeerIdentity.BY_ADDRESS.of(a, null).equals(PeerIdentity.BY_ADDRESS.of(c, null)));
    assertEquals("ip4:10.0.0.7", PeerIdentity.BY_ADDRESS.of(java.net.InetAddress.getByName("10.0.0.7"), "label"));
  }

  @Test
  void refusalsSentToPeersNameNoLocalPath() throws ProtocolException {
    String leaky = "[/home/u/h/blobs/partial/ab.part]: the bytes hash to 01, C:\\data\\x.part too, "
        + "and /var/lib/crowdbackup/blobs/x; nothing was stored";
    for (Problem p : List.of(Problem.of(Refusal.of(Refusal.Reason.MALFORMED, leaky)),
        Problem.of(new EnvelopeException(EnvelopeException.Reason.FINGERPRINT_MISMATCH, leaky)))) {
      String detail = p.detail();
      assertFalse(detail.contains("/home") || detail.contains("/var") || detail.contains("C:"), detail);
      assertTrue(detail.contains("the bytes hash to 01") && detail.contains("nothing was stored"), detail);
    }
    Problem mismatch = Problem.of(new EnvelopeException(EnvelopeException.Reason.FINGERPRINT_MISMATCH, "x"));
    assertEquals(Problem.Type.FINGERPRINT_MISMATCH, mismatch.knownType());
    assertEquals("FINGERPRINT_MISMATCH", mismatch.text(Problem.ENVELOPE_REASON));
    assertNull(mismatch.toRefusal(), "the envelope's rejection, not a refusal of the offer");
    assertEquals("quota 5 of 7 bytes", Problem.peerSafe("quota 5 of 7 bytes"));
  }
}
