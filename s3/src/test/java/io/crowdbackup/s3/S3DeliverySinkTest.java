package io.crowdbackup.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.api.policy.TimeSource;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;

/** The S3 sink against a real S3 protocol server (S3Proxy, filesystem backend): no mock of the SDK. */
class S3DeliverySinkTest {
  private static final DestinationKeyPair DESTINATION = TestEnvelopes.destination(1, "https://archive.example/");
  private static final SigningKeyPair SOURCE = TestEnvelopes.source(2);

  @TempDir static Path dir;
  private static S3ProxyFixture s3;
  private static int prefixes;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3ProxyFixture.start(dir.resolve("s3"));
  }

  @AfterAll
  static void stopS3() throws Exception {
    s3.close();
  }

  /** Each test in its own folder of the one bucket. */
  private static synchronized String freshPrefix() {
    return "t" + (++prefixes) + "/";
  }

  static byte[] seal(long seed, byte[] plaintext, String name) throws Exception {
    return TestEnvelopes.seal(TestEnvelopes.deterministicSealer(seed, 1),
        TestEnvelopes.request(DESTINATION, SOURCE).name(name).chunkSizeBytes(64 * 1024).build(), plaintext);
  }

  static Fingerprint fingerprint(byte[] envelope) throws Exception {
    return Envelopes.fingerprint(channel(envelope));
  }

  static ReadableByteChannel channel(byte[] b) {
    return Channels.newChannel(new ByteArrayInputStream(b));
  }

  private byte[] object(String key) {
    return s3.client.getObjectAsBytes(GetObjectRequest.builder().bucket(S3ProxyFixture.BUCKET).key(key).build())
        .asByteArray();
  }

  private static String storedChecksum(String key) {
    return s3.client.headObject(HeadObjectRequest.builder().bucket(S3ProxyFixture.BUCKET).key(key)
        .checksumMode(ChecksumMode.ENABLED).build()).checksumSHA256();
  }

  private static List<String> under(String prefix) {
    return s3.keys().stream().filter(k -> k.startsWith(prefix)).sorted().toList();
  }

  @Test
  void aDeliveryIsKeptAndASecondServerAnswersItsReceiptFromTheBucket() throws Exception {
    String prefix = freshPrefix();
    byte[] plain = TestEnvelopes.plaintext(3, 300_000, false);
    byte[] env = seal(3, plain, "holiday.jpg");
    Fingerprint fp = fingerprint(env);
    byte[] receipt;
    try (S3DeliverySink sink = S3DeliverySink.open(s3.settings(prefix).build(), DESTINATION)) {
      assertNull(sink.receipt(fp));
      receipt = sink.deliver(channel(env), fp);
      assertEquals(Receipts.ENCODED_BYTES, receipt.length);
      EnvelopeHeader header = Envelopes.readHeader(channel(env));
      Receipts.verify(Receipts.decode(receipt), fp, header);
      assertArrayEquals(plain, object(sink.contentKey(fp)));
      assertEquals(List.of(prefix + "deliveries/" + fp.toHex(), prefix + "files/" + fp.toHex()), under(prefix));

      DeliveryRecord record = DeliveryRecord.decode(object(sink.recordKey(fp)), fp, "record");
      assertEquals(plain.length, record.sizeBytes);
      assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(plain), record.sha256());
      assertEquals("holiday.jpg", record.name);
      assertEquals(sink.contentKey(fp), record.contentKey);
      assertArrayEquals(receipt, record.receipt());
      // The store kept the SHA-256 the sink sent with the single PutObject: the file's own.
      assertEquals(Base64.getEncoder().encodeToString(record.sha256()), storedChecksum(sink.contentKey(fp)));
    }
    // A server that never saw the delivery, with nothing but the key and the bucket.
    try (S3DeliverySink other = S3DeliverySink.open(s3.settings(prefix).build(), DESTINATION)) {
      assertArrayEquals(receipt, other.receipt(fp));
      assertArrayEquals(receipt, other.deliver(channel(env), fp), "a re-delivery to another server");
    }
  }

  @Test
  void aLargeFileGoesUpInPartsAndIsCompletedWhole() throws Exception {
    String prefix = freshPrefix();
    byte[] plain = TestEnvelopes.plaintext(4, 12 * 1024 * 1024 + 12345, false); // three 5 MiB parts
    byte[] env = seal(4, plain, "video.mp4");
    Fingerprint fp = fingerprint(env);
    try (S3DeliverySink sink = S3DeliverySink.open(s3.settings(prefix).partSizeBytes(S3Settings.MIN_PART_SIZE_BYTES)
        .build(), DESTINATION)) {
      byte[] receipt = sink.deliver(channel(env), fp);
      Receipts.verify(Receipts.decode(receipt), fp, Envelopes.readHeader(channel(env)));
      assertArrayEquals(plain, object(sink.contentKey(fp)));
      DeliveryRecord record = DeliveryRecord.decode(object(sink.recordKey(fp)), fp, "record");
      assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(plain), record.sha256());
      assertEquals(plain.length, record.sizeBytes);
      // A multipart object's checksum is the SHA-256 of its parts' SHA-256s, "-3" for three parts: every
      // part went up with its own.
      String stored = storedChecksum(sink.contentKey(fp));
      assertTrue(stored != null && stored.endsWith("-3"), "stored checksum " + stored);
    }
    assertEquals(List.of(), s3.openUploads());
  }

  @Test
  void virtualHostAddressingPutsTheBucketInTheHostName() throws Exception {
    s3.client.createBucket(b -> b.bucket("vhost"));
    byte[] plain = TestEnvelopes.plaintext(13, 5000, false);
    byte[] env = seal(13, plain, "v.bin");
    Fingerprint fp = fingerprint(env);
    S3Settings settings = S3Settings.newBuilder().bucket("vhost")
        .endpoint(s3.endpoint)
        .region("us-east-1").pathStyle(false).credentials(S3ProxyFixture.IDENTITY, S3ProxyFixture.CREDENTIAL).build();
    try (S3DeliverySink sink = S3DeliverySink.open(settings, DESTINATION)) {
      byte[] receipt = sink.deliver(channel(env), fp);
      assertArrayEquals(receipt, sink.receipt(fp));
      // Read back path-style by another client: the same bucket.
      assertArrayEquals(plain, s3.client.getObjectAsBytes(b -> b.bucket("vhost").key(sink.contentKey(fp))).asByteArray());
    }
    // The addressing really is the setting's: a bucket whose host name does not resolve is reachable
    // path-style only.
    s3.client.createBucket(b -> b.bucket("unresolved"));
    S3Settings.Builder unresolved = S3Settings.newBuilder().bucket("unresolved").endpoint(s3.endpoint)
        .region("us-east-1").credentials(S3ProxyFixture.IDENTITY, S3ProxyFixture.CREDENTIAL);
    S3SinkException e = assertThrows(S3SinkException.class, () -> S3DeliverySink.open(unresolved.pathStyle(false)
        .build(), DESTINATION));
    assertEquals(S3SinkException.Reason.OBJECT_STORE_UNAVAILABLE, e.reason(), e.getMessage());
    S3DeliverySink.open(S3Settings.newBuilder().bucket("unresolved").endpoint(s3.endpoint).region("us-east-1")
        .pathStyle(true).credentials(S3ProxyFixture.IDENTITY, S3ProxyFixture.CREDENTIAL).build(), DESTINATION).close();
  }

  @Test
  void aDuplicateGetsTheFirstReceiptByteForByteNotAFreshSignature() throws Exception {
    String prefix = freshPrefix();
    byte[] env = seal(5, TestEnvelopes.plaintext(5, 10_000, true), "notes.txt");
    Fingerprint fp = fingerprint(env);
    AtomicLong clock = new AtomicLong(1_700_000_000_000L);
    TimeSource ticking = new TimeSource() {
      @Override
      public long monotonicNanos() {
        return System.nanoTime();
      }

      @Override
      public long epochMillis() {
        return clock.addAndGet(60_000); // a fresh signature would carry another time
      }
    };
    try (S3DeliverySink sink = S3DeliverySink.open(s3.settings(prefix).build(), DESTINATION, ticking)) {
      byte[] first = sink.deliver(channel(env), fp);
      byte[] again = sink.deliver(channel(env), fp);
      assertArrayEquals(first, again);
      assertArrayEquals(first, sink.receipt(fp));
      Receipt r = Receipts.decode(first);
      assertEquals(fp, r.fingerprint());
    }
    assertEquals(2, under(prefix).size());
  }

  @Test
  void aDuplicateWhoseBytesAreAnotherEnvelopeIsRejected() throws Exception {
    String prefix = freshPrefix();
    byte[] env = seal(6, TestEnvelopes.plaintext(6, 10_000, true), "a.txt");
    byte[] other = seal(7, TestEnvelopes.plaintext(7, 10_000, true), "b.txt");
    Fingerprint fp = fingerprint(env);
    try (S3DeliverySink sink = S3DeliverySink.open(s3.settings(prefix).build(), DESTINATION)) {
      sink.deliver(channel(env), fp);
      EnvelopeException e = assertThrows(EnvelopeException.class, () -> sink.deliver(channel(other), fp));
      assertEquals(EnvelopeException.Reason.FINGERPRINT_MISMATCH, e.reason());
    }
  }

  /** On the delivering thread alone (1) and on workers that verify chunks ahead of the one being uploaded. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(ints = {1, 4})
  void aTamperedEnvelopeLeavesNoObjectNoRecordAndNoOpenUpload(int threads) throws Exception {
    String prefix = freshPrefix();
    byte[] plain = TestEnvelopes.plaintext(8, 12 * 1024 * 1024, false);
    byte[] env = seal(8, plain, "big.bin");
    Fingerprint fp = fingerprint(env);
    byte[] tampered = env.clone();
    tampered[tampered.length - 1000] ^= 1; // in the last chunk: two parts are already in the store by then
    byte[] small = seal(9, TestEnvelopes.plaintext(9, 50_000, false), "small.bin");
    Fingerprint smallFp = fingerprint(small);
    byte[] smallTampered = small.clone();
    smallTampered[small.length / 2] ^= 1;
    try (S3DeliverySink sink = S3DeliverySink.open(s3.settings(prefix).partSizeBytes(S3Settings.MIN_PART_SIZE_BYTES)
        .openingThreads(threads).build(), DESTINATION)) {
      assertEquals(EnvelopeException.Reason.BAD_CHUNK_TAG,
          assertThrows(EnvelopeException.class, () -> sink.deliver(channel(tampered), fp)).reason());
      assertEquals(EnvelopeException.Reason.BAD_CHUNK_TAG,
          assertThrows(EnvelopeException.class, () -> sink.deliver(channel(smallTampered), smallFp)).reason());
      assertEquals(List.of(), under(prefix));
      assertEquals(List.of(), s3.openUploads(), "the parts sent before the bad chunk were aborted");
      assertNull(sink.receipt(fp));
      // The genuine envelope is still taken afterwards.
      sink.deliver(channel(env), fp);
      assertArrayEquals(plain, object(sink.contentKey(fp)));
    }
  }

  @Test
  void anEnvelopeForAnotherDestinationIsRejectedAndNothingKept() throws Exception {
    String prefix = freshPrefix();
    DestinationKeyPair stranger = TestEnvelopes.destination(99, "https://elsewhere.example/");
    byte[] env = TestEnvelopes.seal(TestEnvelopes.deterministicSealer(10, 1),
        TestEnvelopes.request(stranger, SOURCE).build(), TestEnvelopes.plaintext(10, 1000, true));
    Fingerprint fp = fingerprint(env);
    try (S3DeliverySink sink = S3DeliverySink.open(s3.settings(prefix).build(), DESTINATION)) {
      assertThrows(EnvelopeException.class, () -> sink.deliver(channel(env), fp));
    }
    assertEquals(List.of(), under(prefix));
  }

  @Test
  void aMissingBucketIsRefusedAtOpenNamingIt() {
    S3SinkException e = assertThrows(S3SinkException.class, () -> S3DeliverySink.open(S3Settings.newBuilder()
        .bucket("no-such-bucket").endpoint(s3.endpoint).region("us-east-1").pathStyle(true)
        .credentials(S3ProxyFixture.IDENTITY, S3ProxyFixture.CREDENTIAL).build(), DESTINATION));
    assertEquals(S3SinkException.Reason.OBJECT_STORE_REFUSED, e.reason());
    assertTrue(e.getMessage().contains("s3://no-such-bucket"), e.getMessage());
  }

  @Test
  void noCredentialsAnywhereIsARefusedSettingNotAnUnavailableStore(@TempDir Path home) throws Exception {
    // The SDK chain also reads the environment, which a test cannot clear: run only where it has none.
    assumeTrue(System.getenv("AWS_ACCESS_KEY_ID") == null && System.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") == null
        && System.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") == null
        && System.getenv("AWS_WEB_IDENTITY_TOKEN_FILE") == null, "the environment holds AWS credentials");
    Path empty = Files.createFile(home.resolve("empty"));
    Map<String, String> props = Map.of("aws.sharedCredentialsFile", empty.toString(), "aws.configFile",
        empty.toString(), "aws.disableEc2Metadata", "true");
    Map<String, String> saved = new HashMap<>();
    props.forEach((k, v) -> saved.put(k, System.setProperty(k, v)));
    try {
      S3SinkException e = assertThrows(S3SinkException.class, () -> S3DeliverySink.open(S3Settings.newBuilder()
          .bucket(S3ProxyFixture.BUCKET).endpoint(s3.endpoint).region("us-east-1").pathStyle(true).build(),
          DESTINATION));
      assertEquals(S3SinkException.Reason.OBJECT_STORE_REFUSED, e.reason());
      assertTrue(e.getMessage().contains("no credentials"), e.getMessage());
    } finally {
      saved.forEach((k, v) -> {
        if (v == null) {
          System.clearProperty(k);
        } else {
          System.setProperty(k, v);
        }
      });
    }
  }

  @Test
  void aBucketThatVanishesIsAFailureNotANewEnvelope() throws Exception {
    byte[] env = seal(12, TestEnvelopes.plaintext(12, 1000, true), "y.txt");
    Fingerprint fp = fingerprint(env);
    s3.client.createBucket(b -> b.bucket("vanishing"));
    try (S3DeliverySink sink = S3DeliverySink.open(S3Settings.newBuilder().bucket("vanishing").endpoint(s3.endpoint)
        .region("us-east-1").pathStyle(true).credentials(S3ProxyFixture.IDENTITY, S3ProxyFixture.CREDENTIAL).build(),
        DESTINATION)) {
      s3.client.deleteBucket(b -> b.bucket("vanishing"));
      S3SinkException e = assertThrows(S3SinkException.class, () -> sink.receipt(fp));
      assertEquals(S3SinkException.Reason.OBJECT_STORE_REFUSED, e.reason());
      assertThrows(S3SinkException.class, () -> sink.deliver(channel(env), fp));
    }
  }

  @Test
  void incompleteUploadsOfKilledServersAreAbortedOnceOldEnough() throws Exception {
    String prefix = freshPrefix();
    try (S3DeliverySink sink = S3DeliverySink.open(s3.settings(prefix).build(), DESTINATION)) {
      // What a server killed mid-delivery leaves: an upload with a part, never completed.
      String key = prefix + S3DeliverySink.FILES + "0".repeat(64);
      String id = s3.client.createMultipartUpload(b -> b.bucket(S3ProxyFixture.BUCKET).key(key)).uploadId();
      s3.client.uploadPart(b -> b.bucket(S3ProxyFixture.BUCKET).key(key).uploadId(id).partNumber(1),
          RequestBody.fromBytes(new byte[1000]));
      String elsewhere = "other/" + S3DeliverySink.FILES + "0".repeat(64);
      String otherId = s3.client.createMultipartUpload(b -> b.bucket(S3ProxyFixture.BUCKET).key(elsewhere)).uploadId();
      assertEquals(0, sink.abortIncompleteUploads(java.time.Duration.ofHours(1)), "too young to be abandoned");
      assertEquals(1, sink.abortIncompleteUploads(java.time.Duration.ZERO));
      assertEquals(List.of(otherId), s3.openUploads().stream().map(u -> u.uploadId()).toList(),
          "only this sink's prefix is swept");
      s3.client.abortMultipartUpload(b -> b.bucket(S3ProxyFixture.BUCKET).key(elsewhere).uploadId(otherId));
    }
  }

  @Test
  void aCorruptRecordIsReportedAsSuchNotAsNotDelivered() throws Exception {
    String prefix = freshPrefix();
    byte[] env = seal(11, TestEnvelopes.plaintext(11, 1000, true), "x.txt");
    Fingerprint fp = fingerprint(env);
    try (S3DeliverySink sink = S3DeliverySink.open(s3.settings(prefix).build(), DESTINATION)) {
      s3.client.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(sink.recordKey(fp)),
          RequestBody.fromString("crowdbackup-s3-delivery 1\nfingerprint 00\n", StandardCharsets.UTF_8));
      S3SinkException e = assertThrows(S3SinkException.class, () -> sink.receipt(fp));
      assertEquals(S3SinkException.Reason.DELIVERY_RECORD_CORRUPT, e.reason());
      assertTrue(e.getMessage().contains(sink.recordKey(fp)), e.getMessage());
    }
  }
}
