/**
 * A destination's deliveries in an S3-compatible bucket: {@link io.crowdbackup.s3.S3DeliverySink}, a
 * {@link io.crowdbackup.engine.protocol.DeliverySink} that any number of destination servers share.
 *
 * <p>Wiring a destination server to it (the filesystem inbox stays the default):
 *
 * <pre>{@code
 * S3Settings settings = S3Settings.parse("s3://archive/crowdbackup/?endpoint=http://127.0.0.1:9000&path-style=true");
 * try (S3DeliverySink sink = S3DeliverySink.open(settings, destinationKeys);
 *     DestinationProtocol protocol = DestinationProtocol.newBuilder(sink, stagingFolder)
 *         .maxEnvelopeBytes(Math.min(16L << 30, settings.maxFileBytes())).build()) {
 *   // bind protocol::handle to an HTTP server
 * }
 * }</pre>
 *
 * <p>The server keeps nothing of its own but the key and the staging folder of unfinished uploads; the
 * object layout and the commit protocol are described on {@link io.crowdbackup.s3.S3DeliverySink}, the
 * record format on {@code DeliveryRecord}. Credentials and region come from the settings or the AWS SDK's
 * default chains. The credentials need {@code s3:GetObject}, {@code s3:PutObject},
 * {@code s3:AbortMultipartUpload} and {@code s3:ListBucket} on the bucket: without {@code ListBucket}, S3
 * answers a read of a missing record with 403 rather than 404, and every new envelope would fail as
 * refused. {@link io.crowdbackup.s3.S3DeliverySink#abortIncompleteUploads} also needs
 * {@code s3:ListBucketMultipartUploads}.
 */
package io.crowdbackup.s3;
