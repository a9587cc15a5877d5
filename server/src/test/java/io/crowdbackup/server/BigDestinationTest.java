package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.engine.envelope.StreamingSealer;
import io.crowdbackup.engine.envelope.TestEnvelopes;
import io.crowdbackup.engine.store.BigStoreWorker.PseudoRandom;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.protocol.OfferMessage;
import io.crowdbackup.engine.receipt.Receipts;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * A destination server in a child JVM at {@code -Xmx64m} receives a 4 GiB envelope over HTTP in one
 * PATCH, stages it, opens it into its inbox and answers with the receipt. The envelope is never on the
 * sender's disk: a deterministic sealer seals it once to learn its fingerprint and length (for the offer),
 * and again into the request body. Needs about 8.3 GiB free under {@code java.io.tmpdir} (the staged
 * envelope and the opened file) and is skipped, saying so, without it; {@code -Dcrowdbackup.bigdestination=false}
 * leaves it out, {@code -Dcrowdbackup.bigdestination.plaintextBytes=N} changes the size. Alone:
 * {@code mvn -o -Dquick -pl server -am test -Dtest=BigDestinationTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("bigstore")
@DisabledIfSystemProperty(named = "crowdbackup.bigdestination", matches = "false")
class BigDestinationTest {
  @TempDir Path dir;

  @Test
  void aFourGibEnvelopeIsReceivedOpenedAndReceiptedUnderASixtyFourMibHeap() throws Exception {
    long plaintextBytes = Long.getLong("crowdbackup.bigdestination.plaintextBytes", 4L << 30);
    long free = Files.getFileStore(dir).getUsableSpace();
    org.junit.jupiter.api.Assumptions.assumeTrue(free > 2 * plaintextBytes + (256L << 20),
        "skipped: " + (free >> 20) + " MiB free under " + dir + ", the 4 GiB destination test needs "
            + ((2 * plaintextBytes >> 20) + 256) + " MiB");
    DestinationKeyPair keys = TestEnvelopes.destination(1, "http://127.0.0.1:9/");
    Path keyFile = dir.resolve("destination.key");
    Files.writeString(keyFile, Keys.encodeDestination(keys), StandardCharsets.UTF_8);

    // Pass 1: fingerprint, length and the plaintext's SHA-256, with nothing written anywhere.
    long t0 = System.nanoTime();
    MessageDigest plainDigest = MessageDigest.getInstance("SHA-256");
    SealResult sealed = seal(keys, new Hashing(new PseudoRandom(plaintextBytes), plainDigest), plaintextBytes,
        new TestEnvelopes.DigestingSink());
    byte[] expectedPlain = plainDigest.digest();
    long t1 = System.nanoTime();

    Files.createDirectories(dir.resolve("destination"));
    ChildJvm child = ChildJvm.start(DestinationProcess.class, "64m", dir, dir.resolve("destination").toString(),
        keyFile.toString());
    try {
      URI uri = child.uri;
      ProtocolClient client = new ProtocolClient(ProtocolClient.newHttpClient(Duration.ofSeconds(5)), uri,
          Duration.ofMinutes(20));
      Map<String, String> md = new LinkedHashMap<>();
      md.put(OfferMessage.FINGERPRINT, sealed.fingerprint().toHex());
      md.put(OfferMessage.EXPIRES, Long.toString(TestEnvelopes.EXPIRES));
      ProtocolClient.Created created = client.create(md, sealed.envelopeLengthBytes());

      // Pass 2: the same envelope again, straight into the PATCH body.
      java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
      InputStream body = Channels.newInputStream(pipe.source());
      AtomicReference<Throwable> sealFailure = new AtomicReference<>();
      Thread sealer = new Thread(() -> {
        try (WritableByteChannel o = pipe.sink()) {
          SealResult again = seal(keys, new PseudoRandom(plaintextBytes), plaintextBytes, o);
          if (!again.fingerprint().equals(sealed.fingerprint())) {
            throw new AssertionError("the deterministic sealer sealed another envelope");
          }
        } catch (Throwable e) {
          sealFailure.set(e);
        }
      }, "sealer");
      sealer.start();
      ProtocolClient.Patched done = client.patch(created.upload(), 0, () -> body, sealed.envelopeLengthBytes());
      sealer.join();
      long t2 = System.nanoTime();
      assertEquals(null, sealFailure.get());
      assertEquals(sealed.envelopeLengthBytes(), done.offset());
      assertTrue(done.receipt() != null, "the last PATCH carried no receipt");
      assertEquals(sealed.fingerprint(), Receipts.decode(done.receipt()).fingerprint());

      String heap = child.ask("PEAK HEAP");
      assertTrue(child.process.waitFor(60, TimeUnit.SECONDS), "the destination did not stop");
      System.out.println(child.output());
      assertEquals(0, child.process.exitValue(), child.output());

      Path opened = dir.resolve("destination").resolve("inbox").resolve("big.bin");
      assertEquals(plaintextBytes, Files.size(opened));
      assertArrayEquals(expectedPlain, sha256(opened), "the opened file differs from the plaintext sealed");
      long t3 = System.nanoTime();
      System.out.printf("4 GiB destination: %d plaintext bytes, envelope %d; fingerprint pass %.1f s, upload + open"
          + " %.1f s, check %.1f s%n", plaintextBytes, sealed.envelopeLengthBytes(), (t1 - t0) / 1e9, (t2 - t1) / 1e9,
          (t3 - t2) / 1e9);
      System.out.println(heap);
    } finally {
      child.close();
    }
  }

  private static SealResult seal(DestinationKeyPair to, ReadableByteChannel plaintext, long plaintextBytes,
      WritableByteChannel out) throws IOException {
    SealRequest request = TestEnvelopes.request(to, TestEnvelopes.source(2)).name("big.bin")
        .mediaType("application/octet-stream").chunkSizeBytes(1 << 20).compression(Compression.OFF).build();
    try (StreamingSealer sealer = TestEnvelopes.deterministicSealer(1, 2)) {
      return sealer.seal(request, plaintext, plaintextBytes, out);
    }
  }

  private static byte[] sha256(Path file) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (ch.read(buf) >= 0) {
        buf.flip();
        md.update(buf);
        buf.clear();
      }
    }
    return md.digest();
  }

  /** Hashes what is read through it. */
  private static final class Hashing implements ReadableByteChannel {
    private final ReadableByteChannel in;
    private final MessageDigest md;

    Hashing(ReadableByteChannel in, MessageDigest md) {
      this.in = in;
      this.md = md;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      int start = dst.position();
      int n = in.read(dst);
      if (n > 0) {
        ByteBuffer d = dst.duplicate();
        d.position(start).limit(start + n);
        md.update(d);
      }
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
