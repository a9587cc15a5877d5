package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobState;
import io.crowdbackup.api.store.BlobStat;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.keys.Keys;
import io.crowdbackup.engine.protocol.Tus;
import io.crowdbackup.engine.store.FileCustodyStore;
import io.crowdbackup.engine.store.StoreConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The holder service killed with {@code kill -9} (SIGKILL: {@link Process#destroyForcibly}) in a child JVM
 * while an upload streams in, and restarted on the same directory: the client resumes from HEAD's durable
 * offset, which never goes back behind one HEAD reported before the kill; an envelope whose last PATCH was
 * answered 204 before the kill is still held; both end up held, and read back to their fingerprints.
 */
class HolderCrashTest {
  @TempDir Path dir;

  private ChildJvm child;
  private URI uri;

  private void startHolder() throws Exception {
    child = ChildJvm.start(HolderProcess.class, "128m", dir, dir.resolve("holder").toString());
    uri = child.uri;
  }

  private void kill9() throws InterruptedException {
    child.kill9();
  }

  /** A client of the current child (its port changes with each start). */
  private FaultClient client() {
    return new FaultClient(uri);
  }

  @Test
  void whatAPatchAnsweredSurvivesAKillRightAfterTheAnswerAndTheSourceResumesFromIt() throws Exception {
    DestinationKeyPair home = Keys.generateDestination("http://127.0.0.1:9/");
    Path out = Files.createDirectories(dir.resolve("out"));
    Path envelope = Net.seal(out, "e", home, 500_000, 3);
    byte[] bytes = Files.readAllBytes(envelope);
    Fingerprint fp = FaultHolder.fingerprint(bytes);
    startHolder();
    try {
      String upload = client().create(bytes);
      long offset = 0;
      for (int end : new int[] {100_001, 250_003}) { // each inside a piece (16 KiB chunks)
        RawHttp.Answer a = client().patch(upload, bytes, (int) offset, end);
        assertEquals(204, a.status, a.toString());
        long answered = Long.parseLong(a.header(Tus.UPLOAD_OFFSET));
        assertEquals(end, answered, "the answer covers the PATCH");
        kill9(); // right after the answer
        startHolder();
        long durable = client().head(upload);
        assertTrue(durable >= answered, "after the kill HEAD says " + durable + ", the PATCH answered " + answered);
        offset = answered; // a client continues from the answer, not from a HEAD
      }
      // The source was killed too: it offers again and finishes from the holder's durable offset.
      SourceClient.Placement p = SourceClient.newBuilder().holder(uri).replicas(1).build().send(List.of(envelope))
          .get(0);
      assertEquals(List.of(uri), p.heldBy(), p.toString());
    } finally {
      child.close();
    }
    try (FileCustodyStore store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("holder").resolve("blobs"))
        .build())) {
      assertEquals(BlobState.HELD, store.stat(fp).state());
      try (ReadableByteChannel ch = store.open(fp)) {
        assertEquals(fp, Envelopes.fingerprint(ch));
      }
    }
  }

  @Test
  void aHolderKilledMidUploadResumesFromItsDurableOffsetAndLosesNothingAcknowledged() throws Exception {
    DestinationKeyPair home = Keys.generateDestination("http://127.0.0.1:9/");
    Path out = Files.createDirectories(dir.resolve("out"));
    byte[] done = Files.readAllBytes(Net.seal(out, "done", home, 200_000, 1));
    byte[] big = Files.readAllBytes(Net.seal(out, "big", home, 900_000, 2));
    Fingerprint doneFp = FaultHolder.fingerprint(done);
    Fingerprint bigFp = FaultHolder.fingerprint(big);
    startHolder();
    try {
      String doneUpload = client().create(done);
      assertEquals(204, client().patch(doneUpload, done, 0, done.length).status); // acknowledged: held
      String upload = client().create(big);
      long acknowledged = 0;
      for (int end = 150_000; end <= 450_000; end += 150_000) {
        assertEquals(204, client().patch(upload, big, (int) client().head(upload), end).status);
        acknowledged = client().head(upload);
      }
      assertTrue(acknowledged > 0, "nothing durable after 450,000 bytes");
      // The rest streams in; the holder is killed half way through it.
      try (RawHttp c = new RawHttp(uri)) {
        int from = (int) client().head(upload);
        c.send(FaultHolder.patch(upload, from, big.length - from)).send(big, from, 200_000);
        Thread.sleep(300);
        kill9();
      }

      startHolder();
      long resumed = client().head(upload);
      assertTrue(resumed >= acknowledged && resumed <= big.length, "after the kill HEAD says " + resumed
          + ", before it " + acknowledged);
      assertEquals(done.length, client().head(doneUpload), "the envelope held before the kill");
      // Killed again, this time mid-PATCH from the resumed offset, then finished.
      try (RawHttp c = new RawHttp(uri)) {
        c.send(FaultHolder.patch(upload, resumed, big.length - resumed)).send(big, (int) resumed, 100_000);
        Thread.sleep(300);
        kill9();
      }
      startHolder();
      long again = client().head(upload);
      assertTrue(again >= resumed, "HEAD went back from " + resumed + " to " + again);
      RawHttp.Answer last = client().patch(upload, big, (int) again, big.length);
      assertEquals(204, last.status, last.toString());
      kill9(); // right after the last 204: it must be held
    } finally {
      child.close();
    }
    try (FileCustodyStore store = FileCustodyStore.open(StoreConfig.newBuilder(dir.resolve("holder").resolve("blobs"))
        .build())) {
      for (Fingerprint f : List.of(doneFp, bigFp)) {
        BlobStat s = store.stat(f);
        assertTrue(s != null && s.state() == BlobState.HELD, f + " after the kills: " + s);
        try (ReadableByteChannel ch = store.open(f)) {
          assertEquals(f, Envelopes.fingerprint(ch));
        }
      }
      assertEquals(big.length, store.stat(bigFp).envelopeLengthBytes());
      assertTrue(store.uploads().isEmpty(), store.uploads().toString());
    }
  }
}
