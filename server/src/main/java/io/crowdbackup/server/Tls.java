package io.crowdbackup.server;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Locale;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for the home side: a destination's key store, a forwarder's trust store, and the forwarder's rule
 * that plain HTTP is for this machine only. A locator is a home server or an archive somewhere on the
 * internet; the holder sends it a stranger's envelope and drops its copy on the receipt it answers, so
 * both travel over TLS unless the destination is on the loopback interface.
 */
public final class Tls {
  private Tls() {}

  /** A server context from a key store file (PKCS12 or JKS) holding the destination's key and certificate. */
  public static SSLContext serverContext(Path keyStore, char[] password) throws IOException {
    try {
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(load(keyStore, password), password);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IOException("key store " + keyStore + " is unusable for TLS: " + e, e);
    }
  }

  /**
   * An HTTP client that trusts exactly the certificates in a trust store file (a self-signed home server's
   * certificate, say), not the platform's default authorities. Redirects are never followed.
   */
  public static HttpClient clientTrusting(Path trustStore, char[] password, Duration connectTimeout) throws IOException {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(load(trustStore, password));
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return HttpClient.newBuilder().sslContext(ctx).connectTimeout(connectTimeout)
          .followRedirects(HttpClient.Redirect.NEVER).build();
    } catch (GeneralSecurityException e) {
      throw new IOException("trust store " + trustStore + " is unusable for TLS: " + e, e);
    }
  }

  private static KeyStore load(Path file, char[] password) throws IOException, GeneralSecurityException {
    String type = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jks") ? "JKS" : "PKCS12";
    KeyStore ks = KeyStore.getInstance(type);
    try (InputStream in = Files.newInputStream(file)) {
      ks.load(in, password);
    }
    return ks;
  }

  /**
   * Whether the forwarder may contact {@code locator}: https anywhere; plain http only to a loopback
   * address written as one ({@code 127.x.y.z}, {@code [::1]}) or {@code localhost}. A name that merely
   * resolves to loopback is not trusted to stay there, so no lookup is made.
   */
  static boolean allowedInPlain(URI locator) {
    if ("https".equalsIgnoreCase(locator.getScheme())) {
      return true;
    }
    String host = locator.getHost();
    if (host == null) {
      return false;
    }
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    String literal = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    if (!literal.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) {
      return false; // a name, not an address: never resolved here
    }
    try {
      return InetAddress.getByName(literal).isLoopbackAddress(); // a literal: parsed, not looked up
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
