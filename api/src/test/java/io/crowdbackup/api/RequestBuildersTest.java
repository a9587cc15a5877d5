package io.crowdbackup.api;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.UploadRequest;
import org.junit.jupiter.api.Test;

/** The request builders refuse a setting given twice and check the whole in build(), as StoreConfig does. */
class RequestBuildersTest {
  private static final DestinationCard HOME = new DestinationCard("https://home.example", new byte[32], new byte[32]);
  private static final DestinationCard RELAY = new DestinationCard("https://relay.example", new byte[32],
      new byte[32]);
  private static final Fingerprint FP = Fingerprint.fromHex("ab".repeat(32));

  private static SealRequest.Builder seal() {
    return SealRequest.newBuilder().destination(HOME).releaseKey(new byte[32]).expiresAtEpochSecond(100);
  }

  @Test
  void aSealRequestRefusesASettingGivenTwiceNamingTheValueAlreadySet() {
    SealRequest.Builder b = seal().chunkSizeBytes(8192).name("a.jpg");
    assertEquals("chunkSizeBytes was already set to 8192",
        assertThrows(IllegalStateException.class, () -> b.chunkSizeBytes(4096)).getMessage());
    assertEquals("name was already set to a.jpg",
        assertThrows(IllegalStateException.class, () -> b.name("b.jpg")).getMessage());
    assertEquals("expiresAtEpochSecond was already set to 100",
        assertThrows(IllegalStateException.class, () -> b.expiresAtEpochSecond(200)).getMessage());
    assertThrows(IllegalStateException.class, () -> b.destination(RELAY));
    assertThrows(IllegalStateException.class, () -> b.releaseKey(new byte[32]));
    assertThrows(IllegalArgumentException.class, () -> b.mediaType("not ascii é"));
    b.mediaType("image/jpeg"); // a refused value does not count as set
    assertThrows(IllegalStateException.class, () -> b.mediaType("image/png"));
    SealRequest r = b.build();
    assertEquals(8192, r.chunkSizeBytes(), "the first value stands");
    assertEquals("a.jpg", r.name());
  }

  @Test
  void aSealRequestChecksTheWholeInBuildAndBuildChangesNothing() {
    SealRequest.Builder b = seal().relay(HOME);
    assertTrue(assertThrows(IllegalStateException.class, b::build).getMessage().contains("relay is the destination"));
    assertEquals("relay was already set to " + HOME,
        assertThrows(IllegalStateException.class, () -> b.relay(RELAY)).getMessage());
    assertEquals("destination was not set",
        assertThrows(IllegalStateException.class, () -> SealRequest.newBuilder().build()).getMessage());
    SealRequest viaRelay = seal().relay(RELAY).build();
    assertEquals(RELAY, viaRelay.relay());
  }

  @Test
  void toBuilderStartsFromTheRequestAndTakesEachSettingOnceMore() {
    SealRequest base = seal().name("a.jpg").build();
    SealRequest.Builder b = base.toBuilder().name("b.jpg");
    assertThrows(IllegalStateException.class, () -> b.name("c.jpg"));
    assertEquals("b.jpg", b.build().name());
    assertEquals("a.jpg", base.name());
  }

  @Test
  void anUploadRequestRefusesASettingGivenTwiceAndOwnAndCustodyAreOneSetting() {
    UploadRequest.Builder b = UploadRequest.newBuilder().fingerprint(FP).declaredLengthBytes(10);
    assertThrows(IllegalStateException.class, () -> b.fingerprint(FP));
    assertEquals("declaredLengthBytes was already set to 10",
        assertThrows(IllegalStateException.class, () -> b.declaredLengthBytes(11)).getMessage());
    assertEquals("neither own() nor custodyFrom(peer) was called",
        assertThrows(IllegalStateException.class, b::build).getMessage());
    b.custodyFrom("alice");
    assertEquals("kind was already set to CUSTODY (custodyFrom(\"alice\"))",
        assertThrows(IllegalStateException.class, b::own).getMessage());
    assertThrows(IllegalStateException.class, () -> b.custodyFrom("bob"));
    b.expiresNoLaterThanEpochSecond(50);
    assertThrows(IllegalStateException.class, () -> b.expiresNoLaterThanEpochSecond(60));
    UploadRequest r = b.build();
    assertEquals(BlobKind.CUSTODY, r.kind());
    assertEquals("alice", r.sourcePeer());
    assertEquals(50, r.expiresNoLaterThanEpochSecond());
  }
}
