package io.crowdbackup.cli;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
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
 * The S3 store of the {@code serve destination --s3} tests: S3Proxy in the test JVM on a loopback port
 * (filesystem backend, signature v4, path-style), which the crowdbackup processes reach as any S3 endpoint
 * with credentials from their environment, as a user gives them. Also a plain SDK client that looks at the
 * bucket as an operator would.
 */
final class LocalS3 implements AutoCloseable {
  static final String ACCESS_KEY_ID = "cli-test-identity";
  static final String SECRET_ACCESS_KEY = "cli-test-credential";
  static final String BUCKET = "archive";

  final URI endpoint;
  final S3Client client;
  private final S3Proxy proxy;

  private LocalS3(S3Proxy proxy, URI endpoint, S3Client client) {
    this.proxy = proxy;
    this.endpoint = endpoint;
    this.client = client;
  }

  /** Starts S3Proxy over {@code dir} (created) and creates {@link #BUCKET}. */
  static LocalS3 start(Path dir) throws Exception {
    Properties p = new Properties();
    p.setProperty("jclouds.filesystem.basedir", Files.createDirectories(dir).toString());
    S3Proxy proxy = S3Proxy.builder().blobStore(BlobStores.create("filesystem", p))
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY_ID, SECRET_ACCESS_KEY).build();
    proxy.start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!"STARTED".equals(proxy.getState())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
      }
      Thread.sleep(10);
    }
    URI endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    S3Client client = S3Client.builder().httpClientBuilder(Apache5HttpClient.builder())
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY_ID,
            SECRET_ACCESS_KEY)))
        .region(Region.US_EAST_1).forcePathStyle(true).endpointOverride(endpoint)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED).build();
    client.createBucket(CreateBucketRequest.builder().bucket(BUCKET).build());
    return new LocalS3(proxy, endpoint, client);
  }

  /** The {@code --s3} URL of {@link #BUCKET}/{@code prefix} at {@code endpoint} (this store or a proxy of it). */
  static String url(String prefix, URI endpoint) {
    return "s3://" + BUCKET + "/" + prefix + "?endpoint=" + endpoint + "&path-style=true&region=us-east-1";
  }

  /**
   * What a user exports before {@code serve destination --s3}: the SDK's environment credentials, and no
   * shared config or instance metadata of the machine the tests run on.
   */
  static void environment(Map<String, String> env, Path dir) {
    env.put("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID);
    env.put("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY);
    env.remove("AWS_SESSION_TOKEN");
    env.remove("AWS_PROFILE");
    env.put("AWS_CONFIG_FILE", dir.resolve("no-aws-config").toString());
    env.put("AWS_SHARED_CREDENTIALS_FILE", dir.resolve("no-aws-credentials").toString());
    env.put("AWS_EC2_METADATA_DISABLED", "true");
  }

  /** Every object key in the bucket, sorted (what a listing shows: no incomplete multipart upload). */
  List<String> keys() {
    List<String> keys = new ArrayList<>();
    for (S3Object o : client.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(BUCKET).build()).contents()) {
      keys.add(o.key());
    }
    keys.sort(null);
    return keys;
  }

  byte[] object(String key) {
    return client.getObjectAsBytes(GetObjectRequest.builder().bucket(BUCKET).key(key).build()).asByteArray();
  }

  /** Multipart uploads started and neither completed nor aborted. */
  List<MultipartUpload> openUploads() {
    return client.listMultipartUploads(ListMultipartUploadsRequest.builder().bucket(BUCKET).build()).uploads();
  }

  @Override
  public void close() throws Exception {
    client.close();
    proxy.stop();
  }
}
