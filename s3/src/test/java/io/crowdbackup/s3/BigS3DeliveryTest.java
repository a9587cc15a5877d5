package io.crowdbackup.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.receipt.Receipts;
import io.crowdbackup.engine.store.BigStoreWorker.PseudoRandom;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;

/**
 * A big delivery into the S3 sink at {@code -Xmx128m}, in a child JVM ({@link BigDeliveryProcess}); S3Proxy
 * runs in this JVM. The file goes up as a multipart upload of 8 MiB parts, so the heap holds one part
 * buffer, not the file. By default 160 MiB of plaintext (more than the child's heap, so a sink that held
 * the file would fail), to keep the module's tests short; the 4 GiB with
 * {@code -Dcrowdbackup.bigs3.plaintextBytes=4294967296} (about twice the plaintext free under
 * {@code java.io.tmpdir} is needed; skipped, saying so, without it). {@code -Dcrowdbackup.bigs3=false}
 * leaves it out, {@code -Dcrowdbackup.bigs3.heap=64m} changes the child's heap. Alone: {@code mvn -o -Dquick -pl s3 -am test -Dtest=BigS3DeliveryTest
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("bigstore")
@DisabledIfSystemProperty(named = "crowdbackup.bigs3", matches = "false")
class BigS3DeliveryTest {
  @TempDir Path dir;

  @Test
  void aBigDeliveryStreamsIntoTheBucketUnderAHundredAndTwentyEightMibHeap() throws Exception {
    long plaintextBytes = Long.getLong("crowdbackup.bigs3.plaintextBytes", 160L << 20);
    long free = Files.getFileStore(dir).getUsableSpace();
    Assumptions.assumeTrue(free > 2 * plaintextBytes + (256L << 20), "skipped: " + (free >> 20) + " MiB free under "
        + dir + ", the big S3 delivery test needs " + ((2 * plaintextBytes >> 20) + 256) + " MiB");
    try (S3ProxyFixture s3 = S3ProxyFixture.start(dir.resolve("s3"))) {
      long t0 = System.nanoTime();
      Path output = dir.resolve("child.out");
      List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx" + System.getProperty("crowdbackup.bigs3.heap", "128m"), "-cp", System.getProperty("java.class.path"), BigDeliveryProcess.class.getName(),
          s3.endpoint.toString(), "big/", Long.toString(plaintextBytes)));
      Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
      try {
        assertTrue(child.waitFor(60, TimeUnit.MINUTES), "the child JVM did not finish");
      } finally {
        child.destroyForcibly();
      }
      long t1 = System.nanoTime();
      String out = Files.readString(output, StandardCharsets.UTF_8);
      System.out.println(out);
      assertEquals(0, child.exitValue(), out);
      Fingerprint fp = Fingerprint.fromHex(line(out, "FINGERPRINT "));
      byte[] receipt = Base64.getDecoder().decode(line(out, "RECEIPT "));
      assertEquals(fp, Receipts.decode(receipt).fingerprint());

      MessageDigest expected = MessageDigest.getInstance("SHA-256");
      PseudoRandom plain = new PseudoRandom(plaintextBytes);
      ByteBuffer buf = ByteBuffer.allocate(1 << 20);
      while (plain.read(buf) >= 0) {
        buf.flip();
        expected.update(buf);
        buf.clear();
      }
      byte[] expectedSha = expected.digest();

      String contentKey = "big/files/" + fp.toHex();
      String recordKey = "big/deliveries/" + fp.toHex();
      DeliveryRecord record = DeliveryRecord.decode(s3.client.getObjectAsBytes(GetObjectRequest.builder()
          .bucket(S3ProxyFixture.BUCKET).key(recordKey).build()).asByteArray(), fp, recordKey);
      assertArrayEquals(receipt, record.receipt());
      assertEquals(plaintextBytes, record.sizeBytes);
      assertArrayEquals(expectedSha, record.sha256(), "the SHA-256 recorded is not the plaintext's");
      MessageDigest stored = MessageDigest.getInstance("SHA-256");
      long length = 0;
      try (InputStream in = s3.client.getObject(GetObjectRequest.builder().bucket(S3ProxyFixture.BUCKET)
          .key(contentKey).build())) {
        byte[] b = new byte[1 << 20];
        for (int n; (n = in.read(b)) >= 0; ) {
          stored.update(b, 0, n);
          length += n;
        }
      }
      assertEquals(plaintextBytes, length);
      assertArrayEquals(expectedSha, stored.digest(), "the stored file differs from the plaintext sealed");
      assertEquals(List.of(), s3.openUploads());
      System.out.printf("big S3 delivery: %d plaintext bytes at -Xmx" + System.getProperty("crowdbackup.bigs3.heap", "128m") + "; child %.1f s, checks %.1f s; %s%n",
          plaintextBytes, (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9, line(out, "PEAK HEAP "));
    }
  }

  private static String line(String out, String prefix) {
    for (String l : out.split("\n")) {
      if (l.startsWith(prefix)) {
        return l.substring(prefix.length()).trim();
      }
    }
    throw new AssertionError("the child never printed " + prefix + ": " + out);
  }
}
