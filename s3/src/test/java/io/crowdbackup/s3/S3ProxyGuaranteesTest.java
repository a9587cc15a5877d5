package io.crowdbackup.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * What the sink relies on the store for, checked on the store the other tests use (S3Proxy 4.1.0,
 * filesystem backend), straight through the SDK: if S3Proxy stopped enforcing one of these, the sink's
 * tests would prove less than they claim, and this test says which.
 */
class S3ProxyGuaranteesTest {
  @TempDir static Path dir;
  private static S3ProxyFixture s3;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3ProxyFixture.start(dir.resolve("s3"));
  }

  @AfterAll
  static void stopS3() throws Exception {
    s3.close();
  }

  private static String sha256(byte[] b) {
    return S3DeliverySink.sha256Base64(b, b.length);
  }

  @Test
  void ifNoneMatchStarAdmitsExactlyOneOfManyRacingCreates() throws Exception {
    int writers = 16;
    for (int round = 0; round < 5; round++) {
      String key = "race/" + round;
      CountDownLatch go = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      List<Future<Integer>> answers = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        byte[] body = ("writer " + w).getBytes(StandardCharsets.UTF_8);
        answers.add(pool.submit(() -> {
          go.await();
          try {
            s3.client.putObject(PutObjectRequest.builder().bucket(S3ProxyFixture.BUCKET).key(key).ifNoneMatch("*")
                .build(), RequestBody.fromBytes(body));
            return 200;
          } catch (S3Exception e) {
            return e.statusCode();
          }
        }));
      }
      go.countDown();
      int created = 0;
      int refused = 0;
      for (Future<Integer> f : answers) {
        int status = f.get();
        if (status == 200) {
          created++;
        } else if (status == 412 || status == 409) {
          refused++;
        } else {
          throw new AssertionError("a conditional create answered " + status);
        }
      }
      pool.shutdown();
      assertEquals(1, created, "round " + round + ": creates that succeeded");
      assertEquals(writers - 1, refused);
    }
  }

  @Test
  void aPutWhoseSha256DoesNotMatchItsBodyIsRefusedAndNotStored() {
    byte[] body = "the bytes sent".getBytes(StandardCharsets.UTF_8);
    String wrong = sha256("other bytes".getBytes(StandardCharsets.UTF_8));
    S3Exception e = assertThrows(S3Exception.class, () -> s3.client.putObject(PutObjectRequest.builder()
        .bucket(S3ProxyFixture.BUCKET).key("checksum/put").checksumAlgorithm(ChecksumAlgorithm.SHA256)
        .checksumSHA256(wrong).build(), RequestBody.fromBytes(body)));
    assertEquals(400, e.statusCode(), e.getMessage());
    assertEquals(List.of(), s3.keys().stream().filter(k -> k.startsWith("checksum/")).toList());
  }

  @Test
  void aPartWhoseSha256DoesNotMatchItsBodyIsRefused() {
    String id = s3.client.createMultipartUpload(CreateMultipartUploadRequest.builder().bucket(S3ProxyFixture.BUCKET)
        .key("checksum/part").checksumAlgorithm(ChecksumAlgorithm.SHA256).build()).uploadId();
    byte[] body = new byte[1024];
    byte[] other = body.clone();
    other[0] = 1;
    S3Exception e = assertThrows(S3Exception.class, () -> s3.client.uploadPart(UploadPartRequest.builder()
        .bucket(S3ProxyFixture.BUCKET).key("checksum/part").uploadId(id).partNumber(1)
        .checksumAlgorithm(ChecksumAlgorithm.SHA256).checksumSHA256(sha256(other)).build(), RequestBody.fromBytes(body)));
    assertEquals(400, e.statusCode(), e.getMessage());
    // And the right one is taken, so the refusal was about the checksum.
    s3.client.uploadPart(UploadPartRequest.builder().bucket(S3ProxyFixture.BUCKET).key("checksum/part").uploadId(id)
        .partNumber(1).checksumAlgorithm(ChecksumAlgorithm.SHA256).checksumSHA256(sha256(body)).build(),
        RequestBody.fromBytes(body));
    s3.client.abortMultipartUpload(b -> b.bucket(S3ProxyFixture.BUCKET).key("checksum/part").uploadId(id));
    assertEquals(Base64.getDecoder().decode(sha256(body)).length, 32);
  }
}
