package io.crowdbackup.cli;

import io.crowdbackup.s3.S3ProxyServer;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * The S3 store of the {@code serve destination --s3} tests: {@link S3ProxyServer} (S3Proxy in the test
 * JVM) with one bucket, which the crowdbackup processes reach as any S3 endpoint, with credentials from
 * their environment as a user gives them.
 */
final class LocalS3 implements AutoCloseable {
  static final String BUCKET = "archive";

  final URI endpoint;
  private final S3ProxyServer server;

  private LocalS3(S3ProxyServer server) {
    this.server = server;
    this.endpoint = server.endpoint();
  }

  /** Starts S3Proxy over {@code dir} (created) and creates {@link #BUCKET}. */
  static LocalS3 start(Path dir) throws Exception {
    return new LocalS3(S3ProxyServer.start(dir, BUCKET));
  }

  /** The {@code --s3} URL of {@link #BUCKET}/{@code prefix} at {@code endpoint} (this store or a proxy of it). */
  static String url(String prefix, URI endpoint) {
    return "s3://" + BUCKET + "/" + prefix + "?endpoint=" + endpoint + "&path-style=true&region="
        + S3ProxyServer.REGION;
  }

  /**
   * What a user exports before {@code serve destination --s3}: the SDK's environment credentials, and no
   * shared config or instance metadata of the machine the tests run on.
   */
  static void environment(Map<String, String> env, Path dir) {
    env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY_ID);
    env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_ACCESS_KEY);
    env.remove("AWS_SESSION_TOKEN");
    env.remove("AWS_PROFILE");
    env.put("AWS_CONFIG_FILE", dir.resolve("no-aws-config").toString());
    env.put("AWS_SHARED_CREDENTIALS_FILE", dir.resolve("no-aws-credentials").toString());
    env.put("AWS_EC2_METADATA_DISABLED", "true");
  }

  /** Every object key in the bucket, sorted (what a listing shows: no incomplete multipart upload). */
  List<String> keys() {
    return server.keys(BUCKET);
  }

  byte[] object(String key) {
    return server.object(BUCKET, key);
  }

  /** Multipart uploads started and neither completed nor aborted. */
  List<MultipartUpload> openUploads() {
    return server.openUploads(BUCKET);
  }

  /** How many parts S3Proxy holds of the open multipart {@code upload}. */
  int partsOf(MultipartUpload upload) {
    return server.client().listParts(software.amazon.awssdk.services.s3.model.ListPartsRequest.builder()
        .bucket(BUCKET).key(upload.key()).uploadId(upload.uploadId()).build()).parts().size();
  }

  @Override
  public void close() throws Exception {
    server.close();
  }
}
