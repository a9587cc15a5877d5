package io.crowdbackup.bench;

import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.security.MessageDigest;

/** In-memory channels for benchmarks: no file system, no syscalls, so only the code under test is timed. */
public final class MemoryChannels {
  private MemoryChannels() {}

  /** Counts and drops everything written: the envelope's bytes were computed (and hashed) but go nowhere. */
  static final class Discarding implements WritableByteChannel {
    long written;

    @Override
    public int write(ByteBuffer src) {
      int n = src.remaining();
      src.position(src.limit());
      written += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  /** Hashes and drops everything written: a baseline's "fingerprint" of its output. */
  static final class Hashing implements WritableByteChannel {
    final MessageDigest digest;

    Hashing(MessageDigest digest) {
      this.digest = digest;
    }

    @Override
    public int write(ByteBuffer src) {
      int n = src.remaining();
      digest.update(src);
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  /** Collects everything written into an array of exactly the expected size (no doubling of huge buffers). */
  static final class Collecting implements WritableByteChannel {
    final byte[] bytes;
    int position;

    Collecting(long expectedBytes) {
      if (expectedBytes > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("cannot collect " + expectedBytes + " bytes in one array");
      }
      bytes = new byte[(int) expectedBytes];
    }

    @Override
    public int write(ByteBuffer src) {
      int n = src.remaining();
      if (n > bytes.length - position) {
        throw new IllegalStateException("more than the expected " + bytes.length + " bytes were written");
      }
      src.get(bytes, position, n);
      position += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  /**
   * Reads an array; optionally hashes what it hands out (a baseline's fingerprint of its input). Each read
   * is one copy straight into the reader's buffer ({@code Channels.newChannel(InputStream)} adds an 8 KiB
   * transfer buffer per channel and a second copy), so the store benchmarks feed every impl through it alike.
   */
  public static final class ArrayReading implements ReadableByteChannel {
    private final byte[] bytes;
    private final MessageDigest digest;
    private int position;

    public ArrayReading(byte[] bytes, MessageDigest digestOrNull) {
      this.bytes = bytes;
      this.digest = digestOrNull;
    }

    @Override
    public int read(ByteBuffer dst) {
      if (position == bytes.length) {
        return -1;
      }
      int n = Math.min(dst.remaining(), bytes.length - position);
      if (digest != null) {
        digest.update(bytes, position, n);
      }
      dst.put(bytes, position, n);
      position += n;
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
