package io.crowdbackup.engine.envelope;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.Random;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.Test;

/** The block rules of envelope-format.md §8: every block a real compressor writes passes, each broken rule fails. */
class Lz4BlockTest {
  private static final byte[] ABC = "abcdefgh".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  @Test
  void everyBlockLz4JavasCompressorsWriteDecodesToItsInput() throws Exception {
    Random r = new Random(11);
    LZ4Compressor[] compressors = {LZ4Factory.safeInstance().fastCompressor(),
        LZ4Factory.safeInstance().highCompressor(), LZ4Factory.fastestJavaInstance().fastCompressor()};
    for (int round = 0; round < 400; round++) {
      int n = round < 40 ? round : 1 + r.nextInt(70_000);
      byte[] in = new byte[n];
      int alphabet = 1 + r.nextInt(round % 3 == 0 ? 256 : 4);
      for (int i = 0; i < n; i++) {
        in[i] = (byte) (r.nextInt(8) == 0 ? r.nextInt(256) : 'a' + r.nextInt(alphabet));
      }
      for (LZ4Compressor c : compressors) {
        byte[] block = c.compress(in);
        byte[] out = new byte[n];
        assertEquals(n, Lz4Block.decode(block, 0, block.length, out, n), "round " + round);
        assertArrayEquals(in, out, "round " + round);
      }
    }
  }

  @Test
  void eachBrokenRuleIsRefused() {
    assertRefused("offset 0", block(0x80, ABC, 0, 0, 0xc0, "ijklmnopqrst"));
    assertRefused("before the start", block(0x80, ABC, 9, 0, 0xc0, "ijklmnopqrst"));
    assertRefused("ends after a match", block(0x84, ABC, 8, 0));
    assertRefused("the last 5 bytes must be literals", block(0x84, ABC, 8, 0, 0x40, "wxyz"));
    assertRefused("must start at least 12 before", block(0x80, ABC, 8, 0, 0x50, "vwxyz"));
    assertRefused("empty", new byte[0]);
    assertRefused("longer than the", new byte[] {(byte) 0xf0, (byte) 255});
    assertRefused("longer than the", new byte[] {(byte) 0xf0, (byte) 255, (byte) 255, 1, 2, 3});
    assertRefused("inside a match offset", block(0x80, ABC, 8));
  }

  @Test
  void theEdgeOfTheRulesDecodes() throws Exception {
    byte[] b = block(0x83, ABC, 8, 0, 0x50, "ijklm");
    byte[] out = new byte[64];
    int n = Lz4Block.decode(b, 0, b.length, out, 64);
    assertEquals("abcdefghabcdefgijklm", new String(out, 0, n, java.nio.charset.StandardCharsets.US_ASCII));
  }

  @Test
  void aRunLongerThanTheChunkIsRefusedWithoutWritingPastIt() {
    byte[] b = block(0x1f, new byte[] {'a'}, 1, 0, 255, 255, 255, 0, 0x50, "vwxyz");
    byte[] out = new byte[100];
    Lz4Block.MalformedBlockException e = assertThrows(Lz4Block.MalformedBlockException.class,
        () -> Lz4Block.decode(b, 0, b.length, out, 64));
    assertTrue(e.getMessage().contains("more than 64"), e.getMessage());
    assertTrue(allZero(Arrays.copyOfRange(out, 64, 100)));
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static void assertRefused(String why, byte[] block) {
    Lz4Block.MalformedBlockException e = assertThrows(Lz4Block.MalformedBlockException.class,
        () -> Lz4Block.decode(block, 0, block.length, new byte[4096], 4096), why);
    assertTrue(e.getMessage().contains(why), why + ": " + e.getMessage());
  }

  /** Ints are single bytes, byte arrays and strings are copied as they are. */
  private static byte[] block(Object... parts) {
    java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof Integer) {
        o.write((Integer) p);
      } else if (p instanceof byte[]) {
        o.writeBytes((byte[]) p);
      } else {
        o.writeBytes(((String) p).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      }
    }
    return o.toByteArray();
  }
}
