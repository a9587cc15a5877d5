package io.crowdbackup.engine.store.index;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.store.BlobKind;
import io.crowdbackup.api.store.BlobState;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Byte form of an {@link IndexEntry} value (the key, the fingerprint, is stored apart), for indexes that
 * persist bytes. Versioned by its first byte; a value of another version decodes to {@code null}, which an
 * index treats as "rebuild me", never as data.
 */
public final class IndexEntryCodec {
  public static final int VERSION = 1;

  private IndexEntryCodec() {}

  public static byte[] encodeValue(IndexEntry e) {
    byte[] peer = e.sourcePeer().getBytes(StandardCharsets.UTF_8);
    byte[] locator = e.locator().getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(1 + 8 * 5 + 2 + 2 + peer.length + 2 + locator.length);
    b.put((byte) VERSION);
    b.putLong(e.blobId()).putLong(e.groupEpochSecond()).putLong(e.envelopeLengthBytes())
        .putLong(e.expiresAtEpochSecond()).putLong(e.storedAtEpochMillis());
    b.put((byte) e.state().ordinal()).put((byte) e.kind().ordinal());
    b.putShort((short) peer.length).put(peer);
    b.putShort((short) locator.length).put(locator);
    return b.array();
  }

  /** The entry, or {@code null} if the bytes are not a value of this version. */
  public static @Nullable IndexEntry decodeValue(Fingerprint key, byte[] value) {
    try {
      ByteBuffer b = ByteBuffer.wrap(value);
      if (b.get() != VERSION) {
        return null;
      }
      long blobId = b.getLong();
      long group = b.getLong();
      long length = b.getLong();
      long expires = b.getLong();
      long stored = b.getLong();
      int state = b.get();
      int kind = b.get();
      if (state < 0 || state >= BlobState.values().length || kind < 0 || kind >= BlobKind.values().length) {
        return null;
      }
      String peer = string(b);
      String locator = string(b);
      if (b.hasRemaining()) {
        return null;
      }
      return new IndexEntry(key, blobId, group, length, expires, stored, BlobState.values()[state],
          BlobKind.values()[kind], peer, locator);
    } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
      return null; // shorter than its fields say, or a string running past the value
    }
  }

  private static String string(ByteBuffer b) {
    int n = b.getShort() & 0xffff;
    byte[] bytes = new byte[Math.min(n, b.remaining())];
    if (bytes.length != n) {
      throw new IllegalArgumentException("string runs past the value");
    }
    b.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
