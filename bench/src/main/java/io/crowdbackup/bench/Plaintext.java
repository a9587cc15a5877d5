package io.crowdbackup.bench;

import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.SplittableRandom;

/**
 * A benchmark plaintext of {@code lengthBytes} pseudo-random (incompressible) bytes, held in memory as one
 * block of at most {@link #MAX_BLOCK_BYTES} that repeats. Repeating keeps a 1 GiB input from needing 1 GiB
 * of heap, while a 64 MiB block is still far larger than a core's L2 cache, so the bytes come from the
 * shared cache or memory as they would from a file's page cache. Every implementation reads the same block with the same wrap-around, and the block
 * length is a multiple of the 64 KiB chunk, so no chunk straddles the wrap.
 */
final class Plaintext {
  static final int MAX_BLOCK_BYTES = 64 * 1024 * 1024;

  final byte[] block;
  final long lengthBytes;

  Plaintext(long lengthBytes, long seed) {
    if (lengthBytes < 0) {
      throw new IllegalArgumentException("lengthBytes must not be negative, was " + lengthBytes);
    }
    this.lengthBytes = lengthBytes;
    this.block = new byte[(int) Math.min(lengthBytes, MAX_BLOCK_BYTES)];
    new SplittableRandom(seed).nextBytes(block);
    if (lengthBytes > block.length && block.length % (1024 * 1024) != 0) {
      throw new IllegalArgumentException("a repeating block must be whole MiB, was " + block.length);
    }
  }

  /** Offset in {@link #block} of plaintext position {@code position}. */
  int offsetOf(long position) {
    return (int) (position % block.length);
  }

  /** A fresh channel that yields the whole plaintext once, copying out of the block as a file read would. */
  ReadableByteChannel channel() {
    return new ReadableByteChannel() {
      private long position;
      private boolean open = true;

      @Override
      public int read(ByteBuffer dst) {
        if (position == lengthBytes) {
          return -1;
        }
        int offset = offsetOf(position);
        int n = (int) Math.min(Math.min(dst.remaining(), block.length - offset), lengthBytes - position);
        dst.put(block, offset, n);
        position += n;
        return n;
      }

      @Override
      public boolean isOpen() {
        return open;
      }

      @Override
      public void close() {
        open = false;
      }
    };
  }
}
