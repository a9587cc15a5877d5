package io.crowdbackup.engine;

import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.EnvelopeSealer;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.OpenResult;
import io.crowdbackup.api.Receipt;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.receipt.Receipts;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's usage example, kept compiling and true. */
class ReadmeExampleTest {
  @Test
  void sealHoldOpenReceipt(@TempDir Path dir) throws Exception {
    Path photoPath = dir.resolve("IMG_0001.jpg");
    byte[] photo = new byte[300_000];
    new Random(1).nextBytes(photo);
    Files.write(photoPath, photo);
    Path envelopePath = dir.resolve("envelope");
    Path tempPath = dir.resolve("opened.tmp");

    // --- as in README.md ---
    DestinationKeyPair home = Keys.generateDestination("https://home.example/inbox");
    SigningKeyPair phone = Keys.generateSigning();

    SealRequest request = SealRequest.newBuilder()
        .destination(home.card())
        .releaseKey(phone.publicKey())
        .expiresAtEpochSecond(Instant.now().plus(Duration.ofHours(12)).getEpochSecond())
        .name("IMG_0001.jpg").mediaType("image/jpeg")
        .build();
    SealResult sealed;
    try (EnvelopeSealer sealer = Envelopes.sealer();
        FileChannel out = FileChannel.open(envelopePath, CREATE_NEW, WRITE)) {
      sealed = sealer.seal(request, photoPath, out);
    }

    try (FileChannel in = FileChannel.open(envelopePath)) {
      EnvelopeHeader header = Envelopes.readHeader(in);
      assertEquals("https://home.example/inbox", header.locator());
    }
    try (FileChannel in = FileChannel.open(envelopePath)) {
      Fingerprint fingerprint = Envelopes.fingerprint(in);
      assertEquals(sealed.fingerprint(), fingerprint);
    }

    OpenResult opened;
    try (FileChannel in = FileChannel.open(envelopePath);
        FileChannel plain = FileChannel.open(tempPath, CREATE_NEW, WRITE)) {
      opened = Envelopes.opener(home).open(in, plain, sealed.fingerprint());
    }
    Receipt receipt = Receipts.signReceipt(home, sealed.fingerprint(), Instant.now().getEpochSecond());
    // --- end of README example ---

    assertArrayEquals(photo, Files.readAllBytes(tempPath));
    assertEquals("IMG_0001.jpg", opened.metadata().name());
    Receipts.verify(receipt, sealed.fingerprint(), sealed.header());
  }
}
