package io.crowdbackup.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * AWS S3 answers a conditional create that meets another one in flight with {@code 409
 * ConditionalRequestConflict} (retry) rather than 412. S3Proxy never does, so a store in front of its
 * filesystem store answers record creates with it as many times as a test asks, straight over HTTP to the
 * sink's SDK client: the retry, the other server winning meanwhile, and a conflict that never settles.
 */
class S3ConflictTest {
  private static final DestinationKeyPair DESTINATION = TestEnvelopes.destination(1, "https://archive.example/");

  @TempDir Path dir;

  /** Answers the next {@code conflicts} conditional record creates with 409; runs {@code meanwhile} at the first. */
  private static final class ConflictingStore extends ForwardingBlobStore {
    final AtomicInteger conflicts = new AtomicInteger();
    final AtomicInteger served = new AtomicInteger();
    final AtomicReference<Runnable> meanwhile = new AtomicReference<>();

    ConflictingStore(BlobStore delegate) {
      super(delegate);
    }

    @Override
    public PutObjectResponse putBlob(PutObjectRequest request, InputStream in) {
      if ("*".equals(request.ifNoneMatch()) && request.key().contains(S3DeliverySink.DELIVERIES)
          && conflicts.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        served.incrementAndGet();
        Runnable r = meanwhile.getAndSet(null);
        if (r != null) {
          r.run();
        }
        throw (S3Exception) S3Exception.builder().statusCode(409).awsErrorDetails(AwsErrorDetails.builder()
            .errorCode("ConditionalRequestConflict").errorMessage("A conflicting conditional operation is currently"
                + " in progress against this resource. Please try again.").serviceName("S3").build()).build();
      }
      return super.putBlob(request, in);
    }
  }

  private ConflictingStore store;
  private S3ProxyFixture s3;
  private S3DeliverySink sink;

  @BeforeEach
  void start() throws Exception {
    s3 = S3ProxyFixture.start(dir.resolve("s3"), s -> store = new ConflictingStore(s));
    sink = S3DeliverySink.open(s3.settings("p/").build(), DESTINATION);
  }

  @AfterEach
  void stop() throws Exception {
    sink.close();
    s3.close();
  }

  private static byte[] envelope(long seed) throws Exception {
    return S3DeliverySinkTest.seal(seed, TestEnvelopes.plaintext(seed, 1000, true), "file-" + seed + ".txt");
  }

  @Test
  void aConflictIsRetriedUntilTheCreateGoesThrough() throws Exception {
    byte[] env = envelope(20);
    Fingerprint fp = S3DeliverySinkTest.fingerprint(env);
    store.conflicts.set(3);
    byte[] receipt = sink.deliver(S3DeliverySinkTest.channel(env), fp);
    assertTrue(store.served.get() >= 3, "conflicts answered: " + store.served.get());
    assertArrayEquals(receipt, sink.receipt(fp));
  }

  @Test
  void anotherServerWhoseCreateLandsDuringTheConflictWinsAndItsReceiptIsAnswered() throws Exception {
    byte[] env = envelope(21);
    Fingerprint fp = S3DeliverySinkTest.fingerprint(env);
    byte[] theirs = Receipts.encode(Receipts.signReceipt(DESTINATION, fp, 1_600_000_000L));
    byte[] theirRecord = new DeliveryRecord(fp, theirs, sink.contentKey(fp), 1000, new byte[32], "file-21.txt",
        "image/jpeg").encode();
    store.conflicts.set(1);
    store.meanwhile.set(() -> s3.client.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(sink.recordKey(fp)),
        RequestBody.fromBytes(theirRecord)));
    assertArrayEquals(theirs, sink.deliver(S3DeliverySinkTest.channel(env), fp));
    assertArrayEquals(theirs, sink.receipt(fp));
  }

  @Test
  void aConflictThatNeverSettlesFailsRetryablyAndCommitsNothing() throws Exception {
    byte[] env = envelope(22);
    Fingerprint fp = S3DeliverySinkTest.fingerprint(env);
    store.conflicts.set(Integer.MAX_VALUE);
    S3SinkException e = assertThrows(S3SinkException.class, () -> sink.deliver(S3DeliverySinkTest.channel(env), fp));
    assertEquals(S3SinkException.Reason.OBJECT_STORE_UNAVAILABLE, e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains(sink.recordKey(fp)), e.getMessage());
    assertNull(sink.receipt(fp));
    // Once the store settles, the same envelope is delivered.
    store.conflicts.set(0);
    assertArrayEquals(sink.deliver(S3DeliverySinkTest.channel(env), fp), sink.receipt(fp));
  }
}
