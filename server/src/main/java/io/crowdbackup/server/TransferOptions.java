package io.crowdbackup.server;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Objects;

/**
 * The settings every uploader of envelopes shares (the {@link SourceClient} and the {@link Forwarder}):
 * which HTTP client, how to retry, how long a request may take, how many bytes per PATCH. A base for
 * their builders, which return themselves from each setter. Each setting may be given once: a second one fails
 * with "<i>name</i> was already set to <i>value</i>" rather than replace the first.
 *
 * @param <B> the concrete builder
 */
public abstract class TransferOptions<B extends TransferOptions<B>> {
  HttpClient http;
  Backoff backoff = Backoff.DEFAULT;
  Duration requestTimeout = Duration.ofMinutes(10);
  long patchBytes = 8L << 20;
  /** The settings given so far; the subclasses' own settings are recorded here too. */
  final SetOnce given = new SetOnce();

  TransferOptions() {}

  abstract B self();

  /** The client to use; default {@link ProtocolClient#newHttpClient} (HTTP/1.1, no redirects). */
  public B httpClient(HttpClient http) {
    Objects.requireNonNull(http, "http");
    given.mark("httpClient", this.http);
    this.http = http;
    return self();
  }

  /** How failures are retried against the same peer. Default {@link Backoff#DEFAULT}. */
  public B backoff(Backoff backoff) {
    Objects.requireNonNull(backoff, "backoff");
    given.mark("backoff", this.backoff);
    this.backoff = backoff;
    return self();
  }

  /** How long one request may take, body included; positive. Default 10 minutes. */
  public B requestTimeout(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("requestTimeout must be positive but was " + timeout);
    }
    given.mark("requestTimeout", this.requestTimeout);
    this.requestTimeout = timeout;
    return self();
  }

  /** Bytes per PATCH. Default 8 MiB. */
  public B patchBytes(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("patchBytes must be positive but was " + bytes);
    }
    given.mark("patchBytes", this.patchBytes);
    this.patchBytes = bytes;
    return self();
  }

  /** The HTTP client given, or a new one with this connect timeout. */
  HttpClient httpOrDefault(Duration connectTimeout) {
    return http != null ? http : ProtocolClient.newHttpClient(connectTimeout);
  }
}
