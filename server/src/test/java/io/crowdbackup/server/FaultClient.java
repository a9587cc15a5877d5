package io.crowdbackup.server;

import io.crowdbackup.engine.protocol.Tus;
import java.io.IOException;
import java.net.URI;

/** tus requests to a holder sent by hand, each over a fresh {@link RawHttp} connection. */
final class FaultClient {
  private final URI server;

  FaultClient(URI server) {
    this.server = server;
  }

  /** Creates the upload of {@code envelope} over a fresh connection; its path. */
  String create(byte[] envelope) throws IOException {
    try (RawHttp c = new RawHttp(server)) {
      RawHttp.Answer a = c.send(FaultHolder.creation(FaultHolder.fingerprint(envelope), envelope.length)).read();
      if (a.status != 201) {
        throw new IOException("creation answered " + a);
      }
      return a.header("Location");
    }
  }

  /** HEAD over a fresh connection: the durable offset. */
  long head(String uploadPath) throws IOException {
    try (RawHttp c = new RawHttp(server)) {
      RawHttp.Answer a = c.send(FaultHolder.headRequest(uploadPath)).read(true);
      if (a.status != 200) {
        throw new IOException("HEAD answered " + a);
      }
      return Long.parseLong(a.header(Tus.UPLOAD_OFFSET));
    }
  }

  /** PATCH {@code envelope[offset, end)} over a fresh connection. */
  RawHttp.Answer patch(String uploadPath, byte[] envelope, int offset, int end) throws IOException {
    try (RawHttp c = new RawHttp(server)) {
      return c.send(FaultHolder.patch(uploadPath, offset, end - offset)).send(envelope, offset, end - offset).read();
    }
  }

  /** Resumes from HEAD's offset and sends the rest in one PATCH; the final answer. */
  RawHttp.Answer finish(String uploadPath, byte[] envelope) throws IOException {
    int offset = (int) head(uploadPath);
    return patch(uploadPath, envelope, offset, envelope.length);
  }
}
