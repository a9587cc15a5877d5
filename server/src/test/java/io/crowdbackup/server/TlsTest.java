package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.protocol.DeliverySink;
import io.crowdbackup.engine.protocol.DestinationProtocol;
import io.crowdbackup.engine.protocol.ProtocolRequest;
import io.crowdbackup.engine.protocol.ProtocolResponse;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The home side over TLS: a destination serving HTTPS with a self-signed certificate made here with the
 * JDK's keytool, and a forwarder that trusts it through a trust store holding just that certificate. A
 * forwarder with the platform's default trust refuses the same server (the copy stays), and a plain
 * {@code http} locator is contacted only on a loopback address.
 */
class TlsTest {
  private static final char[] PASSWORD = "changeit".toCharArray();
  @TempDir Path dir;

  /** A PKCS12 key store with an EC key and a self-signed certificate for 127.0.0.1; its trust store beside it. */
  private Path[] selfSigned() throws Exception {
    Path keyStore = dir.resolve("destination.p12");
    Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", "destination", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
        "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore",
        keyStore.toString(), "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD))
        .redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, new String(out, StandardCharsets.UTF_8));
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keyStore)) {
      ks.load(in, PASSWORD);
    }
    Certificate cert = ks.getCertificate("destination");
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, PASSWORD);
    trust.setCertificateEntry("home", cert);
    Path trustStore = dir.resolve("trust.p12");
    try (OutputStream o = Files.newOutputStream(trustStore)) {
      trust.store(o, PASSWORD);
    }
    return new Path[] {keyStore, trustStore};
  }

  @Test
  void aForwarderDeliversToAnHttpsDestinationItTrustsThroughItsTrustStore() throws Exception {
    Path[] stores = selfSigned();
    AtomicReference<Function<ProtocolRequest, ProtocolResponse>> core = new AtomicReference<>();
    try (ProtocolServer https = ProtocolServer.newBuilder(req -> core.get().apply(req)).port(0)
        .tls(Tls.serverContext(stores[0], PASSWORD)).stopTimeout(Duration.ZERO).name("home-tls").build().start();
        FaultHolder holder = new FaultHolder(dir.resolve("holder"), Duration.ofSeconds(5), 8)) {
      assertEquals("https", https.uri().getScheme());
      DestinationKeyPair keys = Keys.generateDestination(https.uri().toString());
      Files.createDirectories(dir.resolve("inbox"));
      try (Inbox inbox = Inbox.newBuilder().directory(dir.resolve("inbox")).keys(keys).open()) {
        core.set(DestinationProtocol.newBuilder(DeliverySink.inbox(inbox), dir.resolve("staging")).build()::handle);
        byte[] envelope = Files.readAllBytes(Net.seal(Files.createDirectories(dir.resolve("out")), "photo", keys,
            100_000, 1));
        Fingerprint fp = FaultHolder.fingerprint(envelope);
        String upload = holder.client().create(envelope);
        assertEquals(204, holder.client().finish(upload, envelope).status);

        // The platform's trust does not know a self-signed home server: nothing is sent, the copy stays.
        Forwarder.Report untrusted = Forwarder.newBuilder(holder.custodian)
            .backoff(new Backoff(1, Duration.ofMillis(1), Duration.ofMillis(1))).build().forwardAll();
        assertEquals(0, untrusted.delivered(), untrusted.toString());
        assertTrue(untrusted.failures().containsKey(fp), untrusted.toString());
        assertEquals(BlobState.HELD, holder.custodian.stat(fp).state());
        assertEquals(0, inbox.deliveredCount());

        Forwarder.Report trusted = Forwarder.newBuilder(holder.custodian)
            .httpClient(Tls.clientTrusting(stores[1], PASSWORD, Duration.ofSeconds(5))).build().forwardAll();
        assertEquals(1, trusted.delivered(), trusted.toString());
        assertEquals(1, inbox.deliveredCount());
        assertEquals(BlobState.DELIVERED, holder.custodian.stat(fp).state());
        assertTrue(Files.exists(inbox.directory().resolve("photo.bin")));
      }
    }
  }

  @Test
  void plainHttpIsRefusedForALocatorThatIsNotLoopback() throws Exception {
    try (FaultHolder holder = new FaultHolder(dir.resolve("holder"), Duration.ofSeconds(5), 8)) {
      // 192.0.2.0/24 is TEST-NET-1: never routed, and never contacted here either.
      DestinationKeyPair keys = Keys.generateDestination("http://192.0.2.7:8080/");
      byte[] envelope = Files.readAllBytes(Net.seal(Files.createDirectories(dir.resolve("out")), "e", keys, 1000, 2));
      Fingerprint fp = FaultHolder.fingerprint(envelope);
      String upload = holder.client().create(envelope);
      assertEquals(204, holder.client().finish(upload, envelope).status);
      long start = System.nanoTime();
      Forwarder.Report r = Forwarder.newBuilder(holder.custodian).build().forwardAll();
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "the forwarder tried to connect");
      assertEquals(List.of("http://192.0.2.7:8080/"), r.skippedLocators(), r.toString());
      assertEquals(0, r.delivered());
      assertEquals(BlobState.HELD, holder.custodian.stat(fp).state());
    }
  }

  @Test
  void plainHttpIsForLoopbackAddressesOnly() {
    for (String ok : new String[] {"http://127.0.0.1:8080/", "http://127.1.2.3/", "http://[::1]:9/", "http://localhost:1/",
        "https://archive.example/", "https://192.0.2.7/"}) {
      assertTrue(Tls.allowedInPlain(URI.create(ok)), ok);
    }
    for (String refused : new String[] {"http://192.0.2.7/", "http://archive.example/", "http://127.0.0.1.example/",
        "http://[2001:db8::1]/", "http://10.0.0.1:80/", "http://0x7f000001/", "http://[::ffff:192.0.2.7]/"}) {
      assertFalse(Tls.allowedInPlain(URI.create(refused)), refused);
    }
  }
}
