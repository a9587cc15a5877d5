package io.crowdbackup.bench.store;

import io.crowdbackup.api.Compression;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SealRequest;
import io.crowdbackup.api.SealResult;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.envelope.StreamingSealer;
import io.crowdbackup.engine.keys.Keys;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** Shared set-up of the store benchmarks: where their files go, and real sealed envelopes. */
final class BenchFiles {
  /**
   * Parent of every benchmark directory: {@code $CROWDBACKUP_BENCH_DIR} (forks inherit the environment),
   * else {@code java.io.tmpdir}. It must be on the disk being measured: a tmpfs would make every fsync free.
   */
  static Path root() throws IOException {
    String env = System.getenv("CROWDBACKUP_BENCH_DIR");
    Path root = Paths.get(env != null && !env.isEmpty() ? env : System.getProperty("java.io.tmpdir"));
    Files.createDirectories(root);
    return root;
  }

  static Path tempDir(String prefix) throws IOException {
    return Files.createTempDirectory(root(), prefix);
  }

  /**
   * The {@code file-per-blob} peer's durable put: {@code bytes} into a new temp file beside {@code target},
   * fsync, atomic rename to {@code target}, fsync of the directory.
   */
  static void putFilePerBlob(Path temp, Path target, byte[] bytes) throws IOException {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(temp,
        java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    Files.move(temp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    fsyncDirectory(target.getParent());
  }

  /**
   * What a naive holder that verifies does to a blob it receives: hash every 64 KiB slice as it goes by
   * (SHA-256 of the slice, then SHA-256 over those digests — one pass of SHA-256 over every byte, the cost
   * of checking an envelope's fingerprint) and compare the result with what was expected, writing each slice
   * after hashing it. Not the envelope's real fingerprint algorithm: the same hashing work, without the
   * parsing.
   */
  static final class Verifier {
    private static final int SLICE = 64 * 1024;
    private final byte[] bytes;
    private final byte[] expected;
    /** The peer's read buffer, reused across its puts (as the store reuses its own): one Verifier per thread. */
    private final java.nio.ByteBuffer slice = java.nio.ByteBuffer.allocate(SLICE);

    Verifier(byte[] bytes) {
      this.bytes = bytes;
      this.expected = digestOf(bytes);
    }

    private static byte[] digestOf(byte[] bytes) {
      java.security.MessageDigest outer = sha256();
      java.security.MessageDigest slice = sha256();
      for (int at = 0; at < bytes.length; at += SLICE) {
        slice.update(bytes, at, Math.min(SLICE, bytes.length - at));
        outer.update(slice.digest());
      }
      return outer.digest();
    }

    /**
     * The envelope as every impl of a benchmark receives it ({@link #input}), so the peer pays the same
     * input copy as the store: before, the peer hashed and wrote straight from the array while the store
     * read through {@code Channels.newChannel(InputStream)} (two copies and an 8 KiB array per put).
     */
    java.nio.channels.ReadableByteChannel input() {
      return BenchFiles.input(bytes);
    }

    /** Reads {@code in} slice by slice, hashing, then writing each at the channel's position; checks the digest. */
    void append(java.nio.channels.ReadableByteChannel in, java.nio.channels.FileChannel ch) throws IOException {
      java.security.MessageDigest outer = sha256();
      java.security.MessageDigest sliceDigest = sha256();
      boolean eof = false;
      while (!eof) {
        slice.clear();
        while (slice.hasRemaining()) {
          if (in.read(slice) < 0) {
            eof = true;
            break;
          }
        }
        slice.flip();
        if (!slice.hasRemaining()) {
          break;
        }
        sliceDigest.update(slice.duplicate());
        outer.update(sliceDigest.digest());
        while (slice.hasRemaining()) {
          ch.write(slice);
        }
      }
      if (!java.security.MessageDigest.isEqual(outer.digest(), expected)) {
        throw new IOException("bytes do not verify");
      }
    }

    /** {@link BenchFiles#putFilePerBlob} with every slice read from {@link #input}, hashed, then written. */
    void putFilePerBlob(Path temp, Path target) throws IOException {
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(temp,
          java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
        append(input(), ch);
        ch.force(true);
      }
      Files.move(temp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      fsyncDirectory(target.getParent());
    }

    private static java.security.MessageDigest sha256() {
      try {
        return java.security.MessageDigest.getInstance("SHA-256");
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** A put's input channel, the same for every impl (see {@link Verifier#input}). */
  static java.nio.channels.ReadableByteChannel input(byte[] envelope) {
    return new io.crowdbackup.bench.MemoryChannels.ArrayReading(envelope, null);
  }

  static void fsyncDirectory(Path dir) throws IOException {
    try (java.nio.channels.FileChannel d = java.nio.channels.FileChannel.open(dir,
        java.nio.file.StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** A sealed envelope: its bytes and what sealing reported. */
  static final class Sealed {
    final byte[] bytes;
    final SealResult result;

    Sealed(byte[] bytes, SealResult result) {
      this.bytes = bytes;
      this.result = result;
    }
  }

  private final DestinationKeyPair destination = Keys.generateDestination("home.bench.example");
  private final SigningKeyPair source = Keys.generateSigning();
  private final StreamingSealer sealer = new StreamingSealer(1);

  /** The key every envelope of {@link #seal} is sealed for: a destination opens them with it. */
  DestinationKeyPair destination() {
    return destination;
  }

  /**
   * Seals {@code plaintextBytes} of incompressible pseudo-random bytes (64 KiB chunks, compression off, so
   * the envelope is the plaintext plus about 0.1 % framing) expiring at {@code expiresAtEpochSecond}.
   */
  Sealed seal(long seed, int plaintextBytes, long expiresAtEpochSecond) throws IOException {
    byte[] plaintext = new byte[plaintextBytes];
    new SplittableRandom(seed).nextBytes(plaintext);
    SealRequest request = SealRequest.newBuilder()
        .destination(destination.card())
        .releaseKey(source.publicKey())
        .expiresAtEpochSecond(expiresAtEpochSecond)
        .name("bench.bin")
        .mediaType("application/octet-stream")
        .createdAtEpochMillis(System.currentTimeMillis())
        .compression(Compression.OFF)
        .build();
    ByteArrayOutputStream out = new ByteArrayOutputStream(plaintextBytes + plaintextBytes / 256 + 4096);
    SealResult r = sealer.seal(request, Channels.newChannel(new ByteArrayInputStream(plaintext)), plaintextBytes,
        Channels.newChannel(out));
    return new Sealed(out.toByteArray(), r);
  }
}
