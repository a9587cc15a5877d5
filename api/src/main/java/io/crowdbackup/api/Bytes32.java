package io.crowdbackup.api;

import java.util.Arrays;

/** Shared checks and hex helpers for the fixed-size byte values of this package. */
final class Bytes32 {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Bytes32() {}

  static byte[] copyOfLength(byte[] bytes, int expectedLength, String what) {
    if (bytes == null) {
      throw new NullPointerException(what + " must not be null");
    }
    if (bytes.length != expectedLength) {
      throw new IllegalArgumentException(
          what + " must be " + expectedLength + " bytes, was " + bytes.length);
    }
    return Arrays.copyOf(bytes, bytes.length);
  }

  static String hex(byte[] bytes) {
    char[] out = new char[bytes.length * 2];
    for (int i = 0; i < bytes.length; i++) {
      out[2 * i] = HEX[(bytes[i] >> 4) & 0xf];
      out[2 * i + 1] = HEX[bytes[i] & 0xf];
    }
    return new String(out);
  }

  /** ASCII hex only: Character.digit would also take full-width and other scripts' digits. */
  private static int digit(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  static byte[] fromHex(String hex, String what) {
    if (hex == null) {
      throw new NullPointerException(what + " must not be null");
    }
    if ((hex.length() & 1) != 0) {
      throw new IllegalArgumentException(what + " must have an even number of hex digits, had " + hex.length());
    }
    byte[] out = new byte[hex.length() / 2];
    for (int i = 0; i < out.length; i++) {
      int hi = digit(hex.charAt(2 * i));
      int lo = digit(hex.charAt(2 * i + 1));
      if (hi < 0 || lo < 0) {
        throw new IllegalArgumentException(what + " has a non-hex character near index " + (2 * i));
      }
      out[i] = (byte) ((hi << 4) | lo);
    }
    return out;
  }
}
