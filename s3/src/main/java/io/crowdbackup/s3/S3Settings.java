package io.crowdbackup.s3;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Where an {@link S3DeliverySink} keeps deliveries: a bucket and key prefix in an S3-compatible store, how
 * to reach it and how big its upload parts are. Immutable; made by {@link #newBuilder()} or from a URL by
 * {@link #parse(String)}.
 *
 * <p>Unset credentials and region come from the AWS SDK's default chains (environment, system properties,
 * {@code ~/.aws/config} and {@code credentials}, container and instance roles), so a secret need not appear
 * on a command line.
 */
public final class S3Settings {
  /** S3's smallest part size (all parts but the last). */
  public static final int MIN_PART_SIZE_BYTES = 5 << 20;
  /** The largest part buffer this sink allows, so that a misconfiguration cannot exhaust the heap. */
  public static final int MAX_PART_SIZE_BYTES = 256 << 20;
  /** S3's limit on the parts of one multipart upload. */
  public static final int MAX_PARTS = 10_000;
  /** The default part size: a 4 GiB file in 512 parts, the largest file 78 GiB. */
  public static final int DEFAULT_PART_SIZE_BYTES = 8 << 20;
  /** The default number of deliveries that hold a part buffer at once. */
  public static final int DEFAULT_MAX_CONCURRENT_UPLOADS = 4;
  /** The region used with an explicit endpoint when the SDK's region chain finds none. */
  public static final String FALLBACK_REGION = "us-east-1";

  private final String bucket;
  private final String keyPrefix;
  private final @Nullable URI endpoint;
  private final @Nullable String region;
  private final boolean pathStyle;
  private final @Nullable String accessKeyId;
  private final @Nullable String secretAccessKey;
  private final int partSizeBytes;
  private final int maxConcurrentUploads;
  private final int openingThreads;

  private S3Settings(Builder b, String bucket) {
    this.bucket = bucket;
    this.keyPrefix = b.keyPrefix;
    this.endpoint = b.endpoint;
    this.region = b.region;
    this.pathStyle = b.pathStyle;
    this.accessKeyId = b.accessKeyId;
    this.secretAccessKey = b.secretAccessKey;
    this.partSizeBytes = b.partSizeBytes;
    this.maxConcurrentUploads = b.maxConcurrentUploads;
    this.openingThreads = b.openingThreads;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Settings from a URL: {@code s3://BUCKET[/PREFIX][?endpoint=URL&region=R&path-style=true|false]}, for
   * example {@code s3://archive/crowdbackup/?endpoint=http://127.0.0.1:9000&path-style=true} for a local
   * MinIO. The prefix is the path after the bucket, as written (a trailing {@code /} makes it a folder).
   * Credentials are never taken from a URL: they come from the SDK's default chain.
   *
   * @throws IllegalArgumentException the URL is not of that form, saying what is wrong
   */
  public static S3Settings parse(String url) {
    URI uri;
    try {
      uri = new URI(Objects.requireNonNull(url, "url"));
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException("S3 URL \"" + url + "\" is not a URL: " + e.getMessage(), e);
    }
    if (!"s3".equalsIgnoreCase(uri.getScheme()) || uri.getRawAuthority() == null) {
      throw new IllegalArgumentException("S3 URL \"" + url + "\" must look like s3://BUCKET/PREFIX?endpoint=...");
    }
    if (uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException("S3 URL \"" + url + "\" carries credentials; give them through the AWS"
          + " SDK's default chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ~/.aws/credentials) instead");
    }
    Builder b = newBuilder().bucket(uri.getRawAuthority());
    String path = uri.getPath();
    if (path != null && path.length() > 1) {
      b.keyPrefix(path.substring(1));
    }
    String query = uri.getRawQuery();
    if (query != null && !query.isEmpty()) {
      for (String pair : query.split("&", -1)) {
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("S3 URL \"" + url + "\": \"" + pair + "\" is not name=value");
        }
        String name = URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
        String value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        switch (name) {
          case "endpoint":
            b.endpoint(URI.create(value));
            break;
          case "region":
            b.region(value);
            break;
          case "path-style":
            if (!value.equals("true") && !value.equals("false")) {
              throw new IllegalArgumentException("S3 URL \"" + url + "\": path-style must be true or false but was \""
                  + value + "\"");
            }
            b.pathStyle(Boolean.parseBoolean(value));
            break;
          default:
            throw new IllegalArgumentException("S3 URL \"" + url + "\": unknown setting \"" + name
                + "\" (known: endpoint, region, path-style)");
        }
      }
    }
    return b.build();
  }

  public String bucket() {
    return bucket;
  }

  /** Prepended, as is, to every object key this sink writes; empty by default. */
  public String keyPrefix() {
    return keyPrefix;
  }

  /** The store's endpoint; {@code null} for AWS S3's own endpoint of the region. */
  public @Nullable URI endpoint() {
    return endpoint;
  }

  /** {@code null}: from the SDK's default region chain. */
  public @Nullable String region() {
    return region;
  }

  /** Path-style ({@code https://host/bucket/key}) rather than virtual-host ({@code https://bucket.host/key}). */
  public boolean pathStyle() {
    return pathStyle;
  }

  /** {@code null}: credentials from the SDK's default chain. */
  public @Nullable String accessKeyId() {
    return accessKeyId;
  }

  /**
   * The secret access key given to the builder, or {@code null}. Named for what it hands out: nothing else
   * of this class prints or returns it (not {@link #toString()}).
   */
  public @Nullable String revealSecretAccessKey() {
    return secretAccessKey;
  }

  /** The part buffer: files up to this size are one PutObject, larger ones a multipart upload of such parts. */
  public int partSizeBytes() {
    return partSizeBytes;
  }

  /** How many deliveries hold a part buffer at once (more wait): heap used is at most this × the part size. */
  public int maxConcurrentUploads() {
    return maxConcurrentUploads;
  }

  /**
   * Threads that verify and decrypt envelopes' chunks while deliveries upload the plaintext, shared by all
   * deliveries of the sink; each delivery buffers at most {@code 2 × threads + 1} chunks (fewer when the heap
   * is short) besides its part buffer.
   */
  public int openingThreads() {
    return openingThreads;
  }

  /** The largest file this sink can keep: {@link #MAX_PARTS} parts of {@link #partSizeBytes()}. */
  public long maxFileBytes() {
    return (long) MAX_PARTS * partSizeBytes;
  }

  @Override
  public String toString() {
    return "S3Settings{s3://" + bucket + "/" + keyPrefix + ", endpoint=" + (endpoint == null ? "(AWS)" : endpoint)
        + ", region=" + (region == null ? "(SDK chain)" : region) + ", " + (pathStyle ? "path-style" : "virtual-host")
        + ", credentials=" + (accessKeyId == null ? "(SDK chain)" : accessKeyId + "/(secret)") + ", partSizeBytes="
        + partSizeBytes + ", maxConcurrentUploads=" + maxConcurrentUploads + ", openingThreads=" + openingThreads + "}";
  }

  /** Fail-fast builder: a setting given twice fails, and {@link #build()} does not change the builder. */
  public static final class Builder {
    private @Nullable String bucket;
    private String keyPrefix = "";
    private @Nullable URI endpoint;
    private @Nullable String region;
    private boolean pathStyle;
    private @Nullable String accessKeyId;
    private @Nullable String secretAccessKey;
    private int partSizeBytes = DEFAULT_PART_SIZE_BYTES;
    private int maxConcurrentUploads = DEFAULT_MAX_CONCURRENT_UPLOADS;
    private int openingThreads = io.crowdbackup.engine.inbox.Inbox.Builder.defaultOpeningThreads();
    private final Set<String> set = new HashSet<>();

    private Builder() {}

    /** Required: the bucket, which must exist (opening the sink checks). */
    public Builder bucket(String bucket) {
      requireUnset("bucket", this.bucket);
      Objects.requireNonNull(bucket, "bucket");
      // S3's rules (3-63 of a-z 0-9 . -), loosened to upper case for older stores that allowed it.
      if (bucket.length() < 3 || bucket.length() > 63 || !bucket.matches("[A-Za-z0-9][A-Za-z0-9.\\-_]*")) {
        throw new IllegalArgumentException("bucket must be 3 to 63 letters, digits, '.', '-' or '_' but was \""
            + bucket + "\"");
      }
      this.bucket = bucket;
      set.add("bucket");
      return this;
    }

    /** Prepended to every key, as is ({@code "crowdbackup/"} puts everything in that folder). */
    public Builder keyPrefix(String prefix) {
      requireUnset("keyPrefix", this.keyPrefix);
      Objects.requireNonNull(prefix, "prefix");
      if (prefix.startsWith("/") || prefix.length() > 512 || prefix.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
        throw new IllegalArgumentException("keyPrefix must not start with '/', must have no control characters and"
            + " at most 512 characters but was \"" + prefix + "\"");
      }
      this.keyPrefix = prefix;
      set.add("keyPrefix");
      return this;
    }

    /** The store's endpoint (MinIO, Ceph RGW, Garage, S3Proxy); unset for AWS S3. */
    public Builder endpoint(URI endpoint) {
      requireUnset("endpoint", this.endpoint);
      Objects.requireNonNull(endpoint, "endpoint");
      String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || endpoint.getHost() == null) {
        throw new IllegalArgumentException("endpoint must be an http or https URL with a host but was " + endpoint);
      }
      this.endpoint = endpoint;
      set.add("endpoint");
      return this;
    }

    /** The region (any name for most non-AWS stores); unset: the SDK's region chain, else {@value #FALLBACK_REGION} with an endpoint. */
    public Builder region(String region) {
      requireUnset("region", this.region);
      Objects.requireNonNull(region, "region");
      if (region.isEmpty() || !region.matches("[A-Za-z0-9\\-_]+")) {
        throw new IllegalArgumentException("region must be letters, digits, '-' or '_' but was \"" + region + "\"");
      }
      this.region = region;
      set.add("region");
      return this;
    }

    /** Path-style addressing (what MinIO and S3Proxy usually need); virtual-host unless set. */
    public Builder pathStyle(boolean pathStyle) {
      requireUnset("pathStyle", this.pathStyle);
      this.pathStyle = pathStyle;
      set.add("pathStyle");
      return this;
    }

    /** Static credentials; unset: the SDK's default chain. */
    public Builder credentials(String accessKeyId, String secretAccessKey) {
      requireUnset("credentials", this.accessKeyId);
      Objects.requireNonNull(accessKeyId, "accessKeyId");
      Objects.requireNonNull(secretAccessKey, "secretAccessKey");
      if (accessKeyId.isEmpty() || secretAccessKey.isEmpty()) {
        throw new IllegalArgumentException("credentials must not be empty (access key id \"" + accessKeyId + "\")");
      }
      this.accessKeyId = accessKeyId;
      this.secretAccessKey = secretAccessKey;
      set.add("credentials");
      return this;
    }

    /** The part buffer; {@value #DEFAULT_PART_SIZE_BYTES} unless set. */
    public Builder partSizeBytes(int bytes) {
      requireUnset("partSizeBytes", this.partSizeBytes);
      if (bytes < MIN_PART_SIZE_BYTES || bytes > MAX_PART_SIZE_BYTES) {
        throw new IllegalArgumentException("partSizeBytes must be between " + MIN_PART_SIZE_BYTES + " and "
            + MAX_PART_SIZE_BYTES + " but was " + bytes);
      }
      this.partSizeBytes = bytes;
      set.add("partSizeBytes");
      return this;
    }

    /** Deliveries holding a part buffer at once; {@value #DEFAULT_MAX_CONCURRENT_UPLOADS} unless set. */
    public Builder maxConcurrentUploads(int uploads) {
      requireUnset("maxConcurrentUploads", this.maxConcurrentUploads);
      if (uploads < 1 || uploads > 1024) {
        throw new IllegalArgumentException("maxConcurrentUploads must be between 1 and 1024 but was " + uploads);
      }
      this.maxConcurrentUploads = uploads;
      set.add("maxConcurrentUploads");
      return this;
    }

    /** {@link S3Settings#openingThreads()}: 1..256, one per processor unless set (1 opens on the caller's thread). */
    public Builder openingThreads(int threads) {
      requireUnset("openingThreads", this.openingThreads);
      if (threads < 1 || threads > 256) {
        throw new IllegalArgumentException("openingThreads must be between 1 and 256 but was " + threads);
      }
      this.openingThreads = threads;
      set.add("openingThreads");
      return this;
    }

    public S3Settings build() {
      if (bucket == null) {
        throw new IllegalStateException("bucket was not set");
      }
      return new S3Settings(this, bucket);
    }

    /** Fails if {@code name} was given before: one line of a configuration never undoes another. */
    private void requireUnset(String name, @Nullable Object current) {
      if (set.contains(name)) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }
  }
}
