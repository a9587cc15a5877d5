package io.crowdbackup.engine.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** One answer of the protocol core: a status, headers, and a small body. Every body it sends is small. */
public final class ProtocolResponse {
  private final int status;
  private final Map<String, String> headers = new LinkedHashMap<>();
  private byte[] body = new byte[0];

  private ProtocolResponse(int status) {
    this.status = status;
  }

  public static ProtocolResponse status(int status) {
    return new ProtocolResponse(status);
  }

  /** A problem answer: its status, {@code application/problem+json}, and the problem's body. */
  public static ProtocolResponse problem(Problem p) {
    return status(p.status()).body(Problem.MEDIA_TYPE, p.encode());
  }

  /** A JSON answer. */
  public static ProtocolResponse json(int status, Json.Writer json) {
    return status(status).body("application/json", json.toBytes());
  }

  public ProtocolResponse header(String name, String value) {
    headers.put(name, value);
    return this;
  }

  public ProtocolResponse body(String contentType, byte[] bytes) {
    headers.put("Content-Type", contentType);
    this.body = bytes.clone();
    return this;
  }

  public int status() {
    return status;
  }

  public Map<String, String> headers() {
    return Collections.unmodifiableMap(headers);
  }

  public byte[] body() {
    return body.clone();
  }

  public int bodyLength() {
    return body.length;
  }

  @Override
  public String toString() {
    return status + " " + headers + (body.length == 0 ? "" : " " + new String(body, StandardCharsets.UTF_8));
  }
}
