package io.crowdbackup.engine.protocol;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/** tus requests handed straight to a protocol core, from loopback, with {@code Tus-Resumable} set. */
final class TestRequests {
  private TestRequests() {}

  static ProtocolRequest request(String method, String path, Map<String, String> headers, byte[] body) {
    Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    h.putAll(headers);
    h.put(Tus.TUS_RESUMABLE, Tus.VERSION);
    return new ProtocolRequest() {
      @Override
      public String method() {
        return method;
      }

      @Override
      public String path() {
        return path;
      }

      @Override
      public @Nullable String header(String name) {
        return h.get(name);
      }

      @Override
      public InputStream body() {
        return new ByteArrayInputStream(body);
      }

      @Override
      public InetAddress remoteAddress() {
        return InetAddress.getLoopbackAddress();
      }
    };
  }

  /** A tus creation of an upload of {@code length} bytes with this metadata. */
  static ProtocolRequest creation(long length, Map<String, String> metadata) {
    return request("POST", "/v1/uploads", Map.of(Tus.UPLOAD_LENGTH, Long.toString(length), Tus.UPLOAD_METADATA,
        Tus.formatMetadata(metadata)), new byte[0]);
  }

  /** A PATCH of {@code envelope[offset, offset + length)}. */
  static ProtocolRequest patch(String url, byte[] envelope, long offset, int length) {
    return request("PATCH", url, Map.of(Tus.UPLOAD_OFFSET, Long.toString(offset), "Content-Type",
        Tus.OFFSET_OCTET_STREAM, "Content-Length", Integer.toString(length)),
        Arrays.copyOfRange(envelope, (int) offset, (int) offset + length));
  }

  static ProtocolRequest head(String url) {
    return request("HEAD", url, Map.of(), new byte[0]);
  }

  static long offset(ProtocolResponse r) {
    return Long.parseLong(r.headers().get(Tus.UPLOAD_OFFSET));
  }
}
