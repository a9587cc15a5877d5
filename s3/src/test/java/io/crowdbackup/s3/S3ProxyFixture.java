package io.crowdbackup.s3;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.gaul.s3proxy.blobstore.BlobStore;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * This module's view of an {@link S3ProxyServer}: one bucket, {@link #BUCKET}, and virtual-host addressing
 * under {@link #VIRTUAL_HOST} as well as path-style.
 */
final class S3ProxyFixture implements AutoCloseable {
  static final String IDENTITY = S3ProxyServer.ACCESS_KEY_ID;
  static final String CREDENTIAL = S3ProxyServer.SECRET_ACCESS_KEY;
  static final String BUCKET = "deliveries";
  /** The domain of virtual-host addressing; {@code vhost.localhost} resolves in the tests (see test-hosts). */
  static final String VIRTUAL_HOST = "localhost";

  private final S3ProxyServer server;
  final URI endpoint;
  final S3Client client;

  private S3ProxyFixture(S3ProxyServer server) {
    this.server = server;
    this.endpoint = server.endpoint();
    this.client = server.client();
  }

  /** Starts S3Proxy over {@code dir} (created) and creates {@link #BUCKET}. */
  static S3ProxyFixture start(Path dir) throws Exception {
    return start(dir, UnaryOperator.identity());
  }

  /** As {@link #start(Path)}, the filesystem store wrapped by {@code wrap} (a fault-injecting store). */
  static S3ProxyFixture start(Path dir, UnaryOperator<BlobStore> wrap) throws Exception {
    return new S3ProxyFixture(S3ProxyServer.start(dir, wrap, VIRTUAL_HOST, BUCKET));
  }

  /** Settings for a sink on {@link #BUCKET} here, with the given prefix. */
  S3Settings.Builder settings(String prefix) {
    return server.settings(BUCKET, prefix);
  }

  /** Every object key in the bucket, sorted. */
  List<String> keys() {
    return server.keys(BUCKET);
  }

  /** Multipart uploads started and neither completed nor aborted. */
  List<MultipartUpload> openUploads() {
    return server.openUploads(BUCKET);
  }

  @Override
  public void close() throws java.io.IOException {
    try {
      server.close();
    } catch (Exception e) {
      throw new java.io.IOException("S3Proxy did not stop", e);
    }
  }
}
