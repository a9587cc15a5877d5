package io.crowdbackup.examples.android;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.Transfer;
import io.crowdbackup.engine.keys.Keys;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The code a new team copies does what it says: a photo sealed into the phone's store opens at home. */
class PhoneSourceTest {
  @TempDir
  Path dir;

  @Test
  void aPhotoAndAStreamAreSealedIntoThePhonesStoreAndOpenAtHome() throws Exception {
    DestinationKeyPair home = Keys.generateDestination("home.example");
    byte[] photo = new byte[300_000];
    new SplittableRandom(1).nextBytes(photo);
    Path file = Files.write(dir.resolve("IMG_0001.jpg"), photo);
    Path app = dir.resolve("app");
    try (PhoneHolder holder = PhoneHolder.open(app, 1 << 20)) {
      PhoneSource source = new PhoneSource(holder.custodian(), PhoneSource.card(Keys.encodeCard(home.card())),
          Keys.generateSigning());
      long[] progress = new long[2];
      BlobStat sealed = source.seal(file, "image/jpeg", Transfer.create((done, total) -> {
        progress[0] = done;
        progress[1] = total;
      }));
      assertEquals(BlobKind.OWN, sealed.kind());
      assertEquals(sealed.envelopeLengthBytes(), progress[0]);
      assertEquals(photo.length, progress[1]);
      BlobStat streamed = source.seal(Channels.newChannel(new ByteArrayInputStream(photo)), "VID_0001.mp4",
          "video/mp4", Transfer.create());
      assertEquals(java.util.Set.of(sealed.fingerprint(), streamed.fingerprint()),
          source.offers().stream().map(BlobStat::fingerprint).collect(Collectors.toSet()));
      for (BlobStat s : source.offers()) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ReadableByteChannel in = holder.custodian().openOwn(s.fingerprint(), "peer")) {
          Envelopes.opener(home).open(in, Channels.newChannel(out), s.fingerprint());
        }
        assertArrayEquals(photo, out.toByteArray());
      }
    }
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> outside = s.filter(Files::isRegularFile).filter(p -> !p.startsWith(app) && !p.equals(file))
          .collect(Collectors.toList());
      assertTrue(outside.isEmpty(), "files outside the app's folder: " + outside);
    }
  }
}
