package io.crowdbackup.s3;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A real S3 protocol server for the tests: S3Proxy in this JVM on a loopback port, its filesystem backend
 * in a folder, AWS signature v4 with fixed test credentials, path-style. Also a plain SDK client to look at
 * the bucket the way an operator would.
 */
final class S3ProxyFixture implements AutoCloseable {
  static final String IDENTITY = "test-identity";
  static final String CREDENTIAL = "test-credential";
  static final String BUCKET = "deliveries";
  /** The domain of virtual-host addressing; {@code vhost.localhost} resolves in the tests (see test-hosts). */
  static final String VIRTUAL_HOST = "localhost";

  final S3Proxy proxy;
  final URI endpoint;
  final S3Client client;

  private S3ProxyFixture(S3Proxy proxy, URI endpoint, S3Client client) {
    this.proxy = proxy;
    this.endpoint = endpoint;
    this.client = client;
  }

  /** Starts S3Proxy over {@code dir} (created) and creates {@link #BUCKET}. */
  static S3ProxyFixture start(Path dir) throws Exception {
    return start(dir, store -> store);
  }

  /** As {@link #start(Path)}, the filesystem store wrapped by {@code wrap} (a fault-injecting store). */
  static S3ProxyFixture start(Path dir, UnaryOperator<BlobStore> wrap) throws Exception {
    Files.createDirectories(dir);
    Properties p = new Properties();
    p.setProperty("jclouds.filesystem.basedir", dir.toString());
    S3Proxy proxy = S3Proxy.builder().blobStore(wrap.apply(BlobStores.create("filesystem", p)))
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, IDENTITY, CREDENTIAL)
        .virtualHost(VIRTUAL_HOST) // a request to <bucket>.localhost names the bucket in its host
        .build();
    proxy.start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!"STARTED".equals(proxy.getState())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
      }
      Thread.sleep(10);
    }
    // Path-style requests must name exactly the virtual host: S3Proxy takes any other host as a bucket.
    URI endpoint = URI.create("http://" + VIRTUAL_HOST + ":" + proxy.getPort());
    S3Client client = S3Client.builder().httpClientBuilder(Apache5HttpClient.builder())
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(IDENTITY, CREDENTIAL)))
        .region(Region.US_EAST_1).forcePathStyle(true).endpointOverride(endpoint)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED).build();
    client.createBucket(CreateBucketRequest.builder().bucket(BUCKET).build());
    return new S3ProxyFixture(proxy, endpoint, client);
  }

  /** Settings for a sink on {@link #BUCKET} here, with the given prefix. */
  S3Settings.Builder settings(String prefix) {
    return S3Settings.newBuilder().bucket(BUCKET).keyPrefix(prefix).endpoint(endpoint).region("us-east-1")
        .pathStyle(true).credentials(IDENTITY, CREDENTIAL);
  }

  /** Every object key in the bucket. */
  List<String> keys() {
    List<String> keys = new ArrayList<>();
    for (S3Object o : client.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(BUCKET).build()).contents()) {
      keys.add(o.key());
    }
    return keys;
  }

  /** Multipart uploads started and neither completed nor aborted. */
  List<MultipartUpload> openUploads() {
    return client.listMultipartUploads(ListMultipartUploadsRequest.builder().bucket(BUCKET).build()).uploads();
  }

  @Override
  public void close() throws java.io.IOException {
    client.close();
    try {
      proxy.stop();
    } catch (Exception e) {
      throw new java.io.IOException("S3Proxy did not stop", e);
    }
  }
}
