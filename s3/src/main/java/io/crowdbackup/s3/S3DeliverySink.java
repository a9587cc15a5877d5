package io.crowdbackup.s3;

import io.crowdbackup.api.ContentKind;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeOpener;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.policy.TimeSource;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.protocol.DeliverySink;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.utils.SdkAutoCloseable;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * A destination's {@link DeliverySink} in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, Garage): any
 * number of destination servers, each with the destination key and nothing else of its own, share one
 * bucket, and the first copy of each envelope wins with no lock service and no traffic between servers.
 *
 * <p><b>Object layout</b>, for an envelope of fingerprint {@code F} (64 hex digits) under the configured
 * {@linkplain S3Settings#keyPrefix() prefix} {@code P}:
 * <ul>
 *   <li>{@code P + "files/" + F}: the delivered file (the envelope's verified plaintext), a single
 *       PutObject up to the part size, else a multipart upload; every request carries
 *       {@code x-amz-checksum-sha256}, so the store checks each part it got. The key depends on the
 *       fingerprint only, so servers racing on one envelope write the same bytes to the same key.
 *   <li>{@code P + "deliveries/" + F}: the delivery record ({@link DeliveryRecord}: the signed 143-byte
 *       receipt, the content key, the file's size, SHA-256, name and media type), created with
 *       {@code If-None-Match: *}. It is the commit point: an envelope is delivered exactly when its record
 *       exists, and the record that exists is the only receipt ever answered for it.
 * </ul>
 *
 * <p><b>A delivery</b>: if the record exists, the envelope is only hashed (keylessly) to confirm its
 * fingerprint and the stored receipt is answered. Otherwise it is opened with the destination key, its
 * plaintext streamed into the content object through one part buffer; a multipart upload is completed
 * only after the opener verified every chunk, the metadata and the fingerprint, and aborted on any failure
 * or rejection, so nothing unverified becomes visible. Then the receipt is signed and the record created
 * conditionally; a {@code 412 Precondition Failed} (or {@code 409 ConditionalRequestConflict}, retried)
 * means another server committed first: its record is read and its receipt answered, byte for byte.
 * A server killed before its record leaves at most a content object (identical to what a retry writes)
 * or an incomplete multipart upload (for the bucket's {@code AbortIncompleteMultipartUpload} lifecycle
 * rule or {@link #abortIncompleteUploads}), never a delivery.
 *
 * <p><b>Memory</b>: at most {@link S3Settings#maxConcurrentUploads()} deliveries hold a part buffer, which
 * grows to {@link S3Settings#partSizeBytes()}; further deliveries wait. Destination mode only: envelopes
 * of kind {@link ContentKind#FILE}; a relay keeps its outbox in a filesystem inbox. Thread-safe.
 */
public final class S3DeliverySink implements DeliverySink, Closeable {
  /** Key segment of the delivered files. */
  public static final String FILES = "files/";
  /** Key segment of the delivery records. */
  public static final String DELIVERIES = "deliveries/";
  private static final int FIRST_BUFFER_BYTES = 64 * 1024;
  /** Rounds of 409 ConditionalRequestConflict (a concurrent conditional write in flight) before giving up. */
  private static final int CONFLICT_ROUNDS = 8;

  private final S3Settings settings;
  private final S3Client s3;
  /** Closed by {@link #close()}: an S3Client does not close a provider it was given. */
  private final AwsCredentialsProvider credentials;
  private final DestinationKeyPair keys;
  private final EnvelopeOpener opener;
  private final TimeSource time;
  private final Semaphore buffers;
  /** Test seam: runs after the content is in place, before the record is created (a race test holds it). */
  private volatile Consumer<Fingerprint> beforeCommit = fp -> { };

  private S3DeliverySink(S3Settings settings, S3Client s3, AwsCredentialsProvider credentials, DestinationKeyPair keys,
      TimeSource time) {
    this.credentials = credentials;
    this.settings = settings;
    this.s3 = s3;
    this.keys = keys;
    this.opener = Envelopes.parallelOpener(keys, settings.openingThreads());
    this.time = time;
    this.buffers = new Semaphore(settings.maxConcurrentUploads(), true);
  }

  /** As {@link #open(S3Settings, DestinationKeyPair, TimeSource)} with the system clock. */
  public static S3DeliverySink open(S3Settings settings, DestinationKeyPair keys) throws IOException {
    return open(settings, keys, TimeSource.system());
  }

  /**
   * Connects to the store and checks that the bucket is there and reachable with the credentials.
   *
   * @param time where receipt timestamps come from
   * @throws S3SinkException the bucket cannot be reached ({@code OBJECT_STORE_UNAVAILABLE}) or is refused
   *     ({@code OBJECT_STORE_REFUSED}: missing, access denied)
   */
  public static S3DeliverySink open(S3Settings settings, DestinationKeyPair keys, TimeSource time) throws IOException {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(time, "time");
    AwsCredentialsProvider credentials = settings.accessKeyId() == null
        ? DefaultCredentialsProvider.builder().build()
        : StaticCredentialsProvider.create(AwsBasicCredentials.create(settings.accessKeyId(),
            Objects.requireNonNull(settings.revealSecretAccessKey(), "secret")));
    S3Client s3 = null;
    try {
      resolve(credentials, settings);
      s3 = newClient(settings, credentials);
      s3.headBucket(HeadBucketRequest.builder().bucket(settings.bucket()).build());
      return new S3DeliverySink(settings, s3, credentials, keys, time);
    } catch (S3SinkException | RuntimeException e) {
      if (s3 != null) {
        s3.close();
      }
      closeQuietly(credentials);
      if (e instanceof SdkException) {
        throw failure("s3://" + settings.bucket(), "cannot reach the bucket (" + settings + ")", (SdkException) e);
      }
      throw e;
    }
  }

  /**
   * Asks the provider once, here: no credentials is a setting to fix (refused), not a store that is away for a
   * while (unavailable, which a caller would retry for ever).
   */
  private static void resolve(AwsCredentialsProvider credentials, S3Settings settings) throws S3SinkException {
    try {
      credentials.resolveCredentials();
    } catch (SdkClientException e) {
      throw new S3SinkException(S3SinkException.Reason.OBJECT_STORE_REFUSED, "s3://" + settings.bucket(),
          "no credentials: none given and none found by the AWS SDK's credentials chain (AWS_ACCESS_KEY_ID and"
          + " AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws/credentials, container or instance role)", e);
    }
  }

  private static void closeQuietly(AwsCredentialsProvider credentials) {
    if (credentials instanceof SdkAutoCloseable) {
      ((SdkAutoCloseable) credentials).close();
    }
  }

  private static S3Client newClient(S3Settings settings, AwsCredentialsProvider credentials)
      throws S3SinkException {
    S3ClientBuilder b = S3Client.builder()
        // Uploads hold a connection each; record reads come from every request thread of the server and are
        // short: room for both, so that a read never waits out the pool's acquisition timeout.
        .httpClientBuilder(Apache5HttpClient.builder().maxConnections(64 + settings.maxConcurrentUploads()))
        .credentialsProvider(credentials)
        .region(region(settings))
        .forcePathStyle(settings.pathStyle())
        // Checksums only where this class asks for them (SHA-256 on every write, computed here), so that
        // the SDK adds no CRC of its own and no aws-chunked trailer that some stores do not take.
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED);
    if (settings.endpoint() != null) {
      b.endpointOverride(settings.endpoint());
    }
    return b.build();
  }

  private static Region region(S3Settings settings) throws S3SinkException {
    if (settings.region() != null) {
      return Region.of(settings.region());
    }
    try {
      return DefaultAwsRegionProviderChain.builder().build().getRegion();
    } catch (SdkClientException e) {
      if (settings.endpoint() != null) {
        return Region.of(S3Settings.FALLBACK_REGION);
      }
      throw new S3SinkException(S3SinkException.Reason.OBJECT_STORE_REFUSED, "s3://" + settings.bucket(),
          "no region set and none found by the AWS SDK's region chain (AWS_REGION, ~/.aws/config)", e);
    }
  }

  public S3Settings settings() {
    return settings;
  }

  /** The key of the delivered file of {@code fingerprint} (whether it exists or not). */
  public String contentKey(Fingerprint fingerprint) {
    return settings.keyPrefix() + FILES + fingerprint.toHex();
  }

  /** The key of the delivery record of {@code fingerprint} (whether it exists or not). */
  public String recordKey(Fingerprint fingerprint) {
    return settings.keyPrefix() + DELIVERIES + fingerprint.toHex();
  }

  void beforeCommit(Consumer<Fingerprint> hook) {
    this.beforeCommit = Objects.requireNonNull(hook, "hook");
  }

  /** The stored receipt, read from the bucket: this server keeps nothing of its own. */
  @Override
  public byte @Nullable [] receipt(Fingerprint fingerprint) throws IOException {
    DeliveryRecord r = record(Objects.requireNonNull(fingerprint, "fingerprint"));
    return r == null ? null : r.receipt();
  }

  @Override
  public byte[] deliver(ReadableByteChannel envelope, Fingerprint expected) throws IOException {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(expected, "expected");
    DeliveryRecord done = record(expected);
    if (done != null) {
      Fingerprint actual = Envelopes.fingerprint(envelope);
      if (!actual.equals(expected)) {
        throw new EnvelopeException(EnvelopeException.Reason.FINGERPRINT_MISMATCH,
            "fingerprint is " + actual + ", expected " + expected);
      }
      return done.receipt();
    }
    try {
      buffers.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a part buffer for " + expected);
    }
    OpenResult opened;
    ContentUpload upload = new ContentUpload(contentKey(expected));
    try {
      try {
        opened = opener.open(envelope, upload, expected);
        if (opened.metadata().contentKind() != ContentKind.FILE) {
          throw new EnvelopeException(EnvelopeException.Reason.WRONG_CONTENT_KIND, "envelope " + expected + " holds a "
              + opened.metadata().contentKind() + ", an S3 destination takes " + ContentKind.FILE);
        }
        upload.finish(opened.plaintextSha256());
      } catch (IOException | RuntimeException | Error e) {
        upload.abort(e);
        throw e;
      }
    } finally {
      upload.release();
      buffers.release();
    }
    beforeCommit.accept(expected);
    byte[] receipt = Receipts.encode(Receipts.signReceipt(keys, expected, time.epochSecond()));
    DeliveryRecord mine = new DeliveryRecord(expected, receipt, upload.key, upload.written,
        opened.plaintextSha256(), opened.metadata().name(), opened.metadata().mediaType());
    return commit(mine).receipt();
  }

  /**
   * Creates the record unless one exists; returns the record that stands, this one or the first server's.
   */
  private DeliveryRecord commit(DeliveryRecord mine) throws IOException {
    String key = recordKey(mine.fingerprint);
    byte[] body = mine.encode();
    for (int round = 1; ; round++) {
      try {
        s3.putObject(PutObjectRequest.builder().bucket(settings.bucket()).key(key).ifNoneMatch("*")
                .contentType("text/plain; charset=utf-8").checksumAlgorithm(ChecksumAlgorithm.SHA256)
                .checksumSHA256(sha256Base64(body, body.length)).build(),
            RequestBody.fromBytes(body));
        return mine;
      } catch (S3Exception e) {
        boolean lost = e.statusCode() == 412;
        boolean conflict = e.statusCode() == 409;
        if (!lost && !conflict) {
          throw failure(object(key), "cannot create the delivery record", e);
        }
        DeliveryRecord winner = record(mine.fingerprint);
        if (winner != null) {
          return winner;
        }
        if (lost || round >= CONFLICT_ROUNDS) {
          // 412 with no record to read, or a conflict that does not settle: say so rather than guess.
          throw failure(object(key), "the conditional create answered " + e.statusCode() + " but no record is"
              + " readable after " + round + " rounds", e);
        }
        pause(round, key);
      } catch (SdkException e) {
        throw failure(object(key), "cannot create the delivery record", e);
      }
    }
  }

  private static void pause(int round, String key) throws InterruptedIOException {
    try {
      // A conflict lasts as long as the other write takes: back off with jitter, 10 ms doubling.
      Thread.sleep((10L << Math.min(round, 6)) + java.util.concurrent.ThreadLocalRandom.current().nextLong(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while retrying the record " + key);
    }
  }

  /** The record of {@code fingerprint}, or {@code null} if it was never delivered. */
  private @Nullable DeliveryRecord record(Fingerprint fingerprint) throws IOException {
    String key = recordKey(fingerprint);
    ResponseBytes<GetObjectResponse> bytes;
    try {
      bytes = s3.getObjectAsBytes(GetObjectRequest.builder().bucket(settings.bucket()).key(key)
          .range("bytes=0-" + (DeliveryRecord.MAX_BYTES - 1)).build());
    } catch (NoSuchKeyException e) {
      return null;
    } catch (S3Exception e) {
      // Only a missing key means "not delivered": a missing bucket must not make every envelope look new.
      boolean noBucket = e.awsErrorDetails() != null && "NoSuchBucket".equals(e.awsErrorDetails().errorCode());
      if (e.statusCode() == 404 && !noBucket) {
        return null;
      }
      throw failure(object(key), "cannot read the delivery record", e);
    } catch (SdkException e) {
      throw failure(object(key), "cannot read the delivery record", e);
    }
    return DeliveryRecord.decode(bytes.asByteArray(), fingerprint, object(key));
  }

  private String object(String key) {
    return "s3://" + settings.bucket() + "/" + key;
  }

  /** An SDK failure as this sink's exception: server-side, throttled or unreachable is retryable. */
  private static S3SinkException failure(String object, String what, SdkException e) {
    if (e instanceof S3Exception) {
      int status = ((S3Exception) e).statusCode();
      String code = ((S3Exception) e).awsErrorDetails() == null ? "" : " "
          + ((S3Exception) e).awsErrorDetails().errorCode();
      boolean retryable = status >= 500 || status == 429 || status == 408 || status == 409;
      return new S3SinkException(retryable ? S3SinkException.Reason.OBJECT_STORE_UNAVAILABLE
          : S3SinkException.Reason.OBJECT_STORE_REFUSED, object, what + ": HTTP " + status + code + " ("
          + e.getMessage() + ")", e);
    }
    return new S3SinkException(S3SinkException.Reason.OBJECT_STORE_UNAVAILABLE, object, what + ": " + e.getMessage(),
        e);
  }

  static String sha256Base64(byte[] b, int length) {
    MessageDigest md = sha256();
    md.update(b, 0, length);
    return Base64.getEncoder().encodeToString(md.digest());
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /**
   * Aborts this sink's multipart uploads (under {@code <prefix>files/}) started more than {@code olderThan}
   * ago: those of servers killed mid-delivery. They were never visible and hold no delivery, only storage;
   * a bucket lifecycle rule ({@code AbortIncompleteMultipartUpload}) does the same where the store has one.
   * Choose {@code olderThan} well above the longest delivery, or a running upload is cut (its delivery then
   * fails and is retried by its holder).
   *
   * @return how many uploads were aborted
   */
  public int abortIncompleteUploads(Duration olderThan) throws IOException {
    Objects.requireNonNull(olderThan, "olderThan");
    if (olderThan.isNegative()) {
      throw new IllegalArgumentException("olderThan must not be negative but was " + olderThan);
    }
    Instant cutoff = Instant.ofEpochMilli(time.epochMillis()).minus(olderThan);
    String prefix = settings.keyPrefix() + FILES;
    int aborted = 0;
    try {
      for (MultipartUpload u : s3.listMultipartUploadsPaginator(ListMultipartUploadsRequest.builder()
          .bucket(settings.bucket()).prefix(prefix).build()).uploads()) {
        if (u.initiated() != null && u.initiated().isBefore(cutoff)) {
          s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(settings.bucket()).key(u.key())
              .uploadId(u.uploadId()).build());
          aborted++;
        }
      }
    } catch (SdkException e) {
      throw failure(object(prefix), "cannot list or abort incomplete multipart uploads", e);
    }
    return aborted;
  }

  /** Closes the HTTP client. Deliveries in flight fail; nothing they wrote counts (no record). */
  @Override
  public void close() {
    try {
      opener.close(); // its threads stop once the deliveries in flight are done with them
      s3.close();
    } finally {
      closeQuietly(credentials);
    }
  }

  /**
   * The opener's plaintext output: fills one part buffer; when it is full and more comes, the buffer goes
   * out as the next part of a multipart upload (started then). {@link #finish} sends what is left, as a
   * single PutObject if there never was a part, else as the last part, and completes the upload.
   */
  private final class ContentUpload implements WritableByteChannel {
    final String key;
    private byte[] buffer = new byte[Math.min(FIRST_BUFFER_BYTES, settings.partSizeBytes())];
    private int filled;
    long written;
    private @Nullable String uploadId;
    private final List<CompletedPart> parts = new ArrayList<>();

    ContentUpload(String key) {
      this.key = key;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = src.remaining();
      while (src.hasRemaining()) {
        if (filled == buffer.length) {
          if (buffer.length < settings.partSizeBytes()) {
            buffer = Arrays.copyOf(buffer, (int) Math.min(Math.max(FIRST_BUFFER_BYTES, 2L * buffer.length),
                settings.partSizeBytes()));
          } else {
            sendPart(); // full, and more is coming: so this is not the last part
          }
        }
        int take = Math.min(src.remaining(), buffer.length - filled);
        src.get(buffer, filled, take);
        filled += take;
      }
      written += n;
      return n;
    }

    private void sendPart() throws IOException {
      if (uploadId == null) {
        try {
          uploadId = s3.createMultipartUpload(CreateMultipartUploadRequest.builder().bucket(settings.bucket()).key(key)
              .contentType("application/octet-stream").checksumAlgorithm(ChecksumAlgorithm.SHA256).build()).uploadId();
        } catch (SdkException e) {
          throw failure(object(key), "cannot start the multipart upload", e);
        }
      }
      int number = parts.size() + 1;
      if (number > S3Settings.MAX_PARTS) {
        throw new S3SinkException(S3SinkException.Reason.PART_LIMIT_EXCEEDED, object(key), "the file is larger than "
            + S3Settings.MAX_PARTS + " parts of " + settings.partSizeBytes() + " bytes (" + settings.maxFileBytes()
            + " bytes); configure a larger part size");
      }
      String checksum = sha256Base64(buffer, filled);
      byte[] b = buffer;
      int length = filled;
      try {
        UploadPartResponse r = s3.uploadPart(UploadPartRequest.builder().bucket(settings.bucket()).key(key)
                .uploadId(uploadId).partNumber(number).contentLength((long) length)
                .checksumAlgorithm(ChecksumAlgorithm.SHA256).checksumSHA256(checksum).build(),
            RequestBody.fromContentProvider(() -> new ByteArrayInputStream(b, 0, length), length,
                "application/octet-stream"));
        parts.add(CompletedPart.builder().partNumber(number).eTag(r.eTag()).checksumSHA256(checksum).build());
      } catch (SdkException e) {
        throw failure(object(key), "cannot upload part " + number, e);
      }
      filled = 0;
    }

    /** Called once the opener returned normally: everything written is verified plaintext. */
    void finish(byte[] fileSha256) throws IOException {
      try {
        if (uploadId == null) {
          String checksum = sha256Base64(buffer, filled);
          // One part: the store's checksum is the file's, and must be what the opener computed.
          if (!checksum.equals(Base64.getEncoder().encodeToString(fileSha256))) {
            throw new IllegalStateException("the opener's plaintext SHA-256 differs from the bytes it wrote");
          }
          byte[] b = buffer;
          int length = filled;
          s3.putObject(PutObjectRequest.builder().bucket(settings.bucket()).key(key)
                  .contentType("application/octet-stream").contentLength((long) length)
                  .checksumAlgorithm(ChecksumAlgorithm.SHA256).checksumSHA256(checksum).build(),
              RequestBody.fromContentProvider(() -> new ByteArrayInputStream(b, 0, length), length,
                  "application/octet-stream"));
          return;
        }
        sendPart();
        s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder().bucket(settings.bucket()).key(key)
            .uploadId(uploadId).multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()).build());
        uploadId = null;
      } catch (SdkException e) {
        throw failure(object(key), "cannot complete the upload of the delivered file", e);
      }
    }

    /** After a rejection or failure: the parts sent are dropped, so nothing unverified ever shows. */
    void abort(Throwable cause) {
      String id = uploadId;
      if (id == null) {
        return;
      }
      uploadId = null;
      try {
        s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(settings.bucket()).key(key).uploadId(id)
            .build());
      } catch (SdkException e) {
        // Left for the bucket's lifecycle rule; an incomplete upload is invisible either way.
        cause.addSuppressed(new UncheckedIOException(failure(object(key), "cannot abort multipart upload " + id, e)));
      }
    }

    void release() {
      buffer = new byte[0];
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {
      // The sink owns the upload: finish or abort.
    }
  }
}
