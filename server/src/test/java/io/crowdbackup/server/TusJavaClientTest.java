package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.receipt.Receipts;
import io.tus.java.client.TusClient;
import io.tus.java.client.TusURLMemoryStore;
import io.tus.java.client.TusUpload;
import io.tus.java.client.TusUploader;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tus client no one here wrote (tus-java-client 0.5.1) uploads to a holder and to a destination, is cut
 * off halfway by a proxy, and resumes from the durable offset.
 */
class TusJavaClientTest {
  @TempDir Path dir;

  private static final class Env {
    final Path file;
    final Fingerprint fp;
    final long expires;

    Env(Path file) throws IOException {
      this.file = file;
      try (FileChannel ch = FileChannel.open(file)) {
        expires = Envelopes.readHeader(ch).expiresAtEpochSecond();
        ch.position(0);
        fp = Envelopes.fingerprint(ch);
      }
    }
  }

  /** Uploads with tus-java-client through a proxy that cuts the connection halfway; returns resume offset. */
  private static long uploadWithADisconnect(URI server, Env env) throws Exception {
    long length = Files.size(env.file);
    try (CuttingProxy proxy = new CuttingProxy(server, length / 2)) {
      TusClient client = new TusClient();
      client.setUploadCreationURL(proxy.uri().resolve("/v1/uploads").toURL());
      client.enableResuming(new TusURLMemoryStore());
      boolean disconnected = false;
      try {
        upload(client, env);
      } catch (IOException | io.tus.java.client.ProtocolException e) {
        disconnected = true;
      }
      assertTrue(disconnected && proxy.hasCut(), "the proxy cut the upload");
      // Resume: tus-java-client finds the upload URL in its store, asks HEAD, and continues from there.
      return upload(client, env);
    }
  }

  private static long upload(TusClient client, Env env) throws Exception {
    TusUpload upload = new TusUpload(env.file.toFile());
    Map<String, String> md = new LinkedHashMap<>();
    md.put("fingerprint", env.fp.toHex());
    md.put("expiresAtEpochSecond", Long.toString(env.expires));
    md.put("filename", env.file.getFileName().toString());
    upload.setMetadata(md);
    upload.setFingerprint(env.fp.toHex());
    TusUploader uploader = client.resumeOrCreateUpload(upload);
    long startedAt = uploader.getOffset();
    uploader.setChunkSize(8 * 1024);
    uploader.setRequestPayloadSize(64 * 1024);
    while (uploader.uploadChunk() > -1) {
      // next chunk
    }
    uploader.finish();
    return startedAt;
  }

  @Test
  void tusJavaClientUploadsToAHolderAndResumesAfterADisconnect() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Destination home = net.destination("home");
      Net.Holder holder = net.holder("h", 8L << 20);
      Env env = new Env(Net.seal(Files.createDirectories(dir.resolve("out")), "e", home.keys, 400_000, 21));
      long resumedFrom = uploadWithADisconnect(holder.uri(), env);
      assertTrue(resumedFrom > 0, "resumed from the durable offset, not from 0: " + resumedFrom);
      assertEquals(BlobState.HELD, holder.custodian.stat(env.fp).state());
      assertEquals(Files.size(env.file), holder.custodian.stat(env.fp).envelopeLengthBytes());
      assertEquals(0, holder.custodian.stats().reservedBytes());
    }
  }

  @Test
  void tusJavaClientUploadsToADestinationAndResumesAfterADisconnect() throws Exception {
    try (Net net = new Net(dir)) {
      Net.Destination home = net.destination("home");
      Env env = new Env(Net.seal(Files.createDirectories(dir.resolve("out")), "e", home.keys, 400_000, 22));
      long resumedFrom = uploadWithADisconnect(home.uri(), env);
      assertTrue(resumedFrom > 0, "resumed from the staged offset, not from 0: " + resumedFrom);
      assertEquals(1, home.inbox.deliveredCount());
      assertNotNull(home.inbox.receiptFor(env.fp));
      assertArrayEquals(Files.readAllBytes(dir.resolve("out").resolve("e.cbe")), Files.readAllBytes(env.file));
      assertEquals(env.fp, Receipts.decode(Receipts.encode(home.inbox.receiptFor(env.fp))).fingerprint());
      assertTrue(Files.exists(home.inbox.directory().resolve("e.bin")));
    }
  }
}
