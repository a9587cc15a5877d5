package io.crowdbackup.s3;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
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
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A real S3 protocol server for tests and benchmarks of other modules (this module's test-jar): S3Proxy
 * in this JVM on a loopback port, its filesystem backend in a folder, AWS signature v4 with fixed
 * credentials, path-style; and a plain SDK client that looks at the buckets as an operator would.
 */
public final class S3ProxyServer implements AutoCloseable {
  public static final String ACCESS_KEY_ID = "s3proxy-identity";
  public static final String SECRET_ACCESS_KEY = "s3proxy-credential";
  public static final String REGION = "us-east-1";

  private final S3Proxy proxy;
  private final URI endpoint;
  private final S3Client client;

  private S3ProxyServer(S3Proxy proxy, URI endpoint, S3Client client) {
    this.proxy = proxy;
    this.endpoint = endpoint;
    this.client = client;
  }

  /** Starts S3Proxy over {@code dir} (created; each bucket a folder in it) and creates {@code buckets}. */
  public static S3ProxyServer start(Path dir, String... buckets) throws Exception {
    return start(dir, UnaryOperator.identity(), null, buckets);
  }

  /**
   * As {@link #start(Path, String...)}, the filesystem store wrapped by {@code wrap} (a fault-injecting
   * store), and with {@code virtualHost} set, virtual-host addressing under that domain as well. S3Proxy then
   * takes any other host name as a bucket, so the endpoint names exactly that host.
   */
  public static S3ProxyServer start(Path dir, UnaryOperator<BlobStore> wrap, @Nullable String virtualHost,
      String... buckets) throws Exception {
    Properties p = new Properties();
    p.setProperty("jclouds.filesystem.basedir", Files.createDirectories(dir).toString());
    S3Proxy.Builder b = S3Proxy.builder().blobStore(wrap.apply(BlobStores.create("filesystem", p)))
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY_ID, SECRET_ACCESS_KEY);
    if (virtualHost != null) {
      b.virtualHost(virtualHost);
    }
    S3Proxy proxy = b.build();
    proxy.start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!"STARTED".equals(proxy.getState())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
      }
      Thread.sleep(10);
    }
    URI endpoint = URI.create("http://" + (virtualHost != null ? virtualHost : "127.0.0.1") + ":" + proxy.getPort());
    S3Client client = S3Client.builder().httpClientBuilder(Apache5HttpClient.builder())
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY_ID,
            SECRET_ACCESS_KEY)))
        .region(Region.of(REGION)).forcePathStyle(true).endpointOverride(endpoint)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED).build();
    for (String bucket : buckets) {
      client.createBucket(CreateBucketRequest.builder().bucket(bucket).build());
    }
    return new S3ProxyServer(proxy, endpoint, client);
  }

  public URI endpoint() {
    return endpoint;
  }

  /** The operator's client (path-style, this server's credentials). */
  public S3Client client() {
    return client;
  }

  /** Settings for a sink on {@code bucket} here under {@code prefix}, with this server's credentials. */
  public S3Settings.Builder settings(String bucket, String prefix) {
    return S3Settings.newBuilder().bucket(bucket).keyPrefix(prefix).endpoint(endpoint).region(REGION)
        .pathStyle(true).credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY);
  }

  /** Every object key in {@code bucket}, sorted: what a listing shows (no incomplete multipart upload). */
  public List<String> keys(String bucket) {
    List<String> keys = new ArrayList<>();
    for (S3Object o : client.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).build())
        .contents()) {
      keys.add(o.key());
    }
    keys.sort(null);
    return keys;
  }

  public byte[] object(String bucket, String key) {
    return client.getObjectAsBytes(GetObjectRequest.builder().bucket(bucket).key(key).build()).asByteArray();
  }

  /** Multipart uploads in {@code bucket} started and neither completed nor aborted. */
  public List<MultipartUpload> openUploads(String bucket) {
    return client.listMultipartUploads(ListMultipartUploadsRequest.builder().bucket(bucket).build()).uploads();
  }

  @Override
  public void close() throws Exception {
    client.close();
    proxy.stop();
  }
}
