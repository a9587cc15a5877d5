package io.crowdbackup.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.crowdbackup.engine.store.ClockFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The custody clock file ({@link ClockFile}): the high-water mark of custody time a holder reads from its
 * own disk at every start, so that a clock set back across a restart cannot stretch retention. After a
 * crash it is untrusted disk bytes.
 *
 * <p>Contract ({@code readClockFile}): the file's bytes give the mark or an {@link IOException} naming the
 * file, nothing else escapes; allocation stays bounded whatever the file's length; a file that reads as a
 * mark is exactly what {@link ClockFile#write} writes for that mark (one mark, one encoding). Round trip
 * ({@code roundTrip}): any mark written reads back equal.
 */
class ClockFileFuzzTest {
  @FuzzTest
  void readClockFile(byte[] input) throws Exception {
    Path dir = DiskFixture.tempDir("clock-");
    try {
      Path file = dir.resolve("custody.clock");
      Files.write(file, input);
      Contract.Outcome<Long> read = Contract.withinBudget("reading the clock file", 2 * Contract.MIB, () -> {
        try {
          return Contract.Outcome.value(ClockFile.read(file));
        } catch (IOException e) {
          Contract.check(e.getMessage() != null && e.getMessage().contains(file.toString()),
              "a clock file refusal does not name the file: " + e);
          return Contract.Outcome.rejected(e);
        }
      });
      if (read.ok()) {
        Path again = dir.resolve("rewritten.clock");
        ClockFile.write(again, read.value);
        Contract.check(java.util.Arrays.equals(Files.readAllBytes(again), input),
            "bytes read as mark " + read.value + " are not what writing that mark produces");
      }
    } finally {
      DiskFixture.deleteQuietly(dir);
    }
  }

  /** A valid file, one cut short, one with a byte more, one with a flipped mark bit (checksum fails). */
  static java.util.Map<String, byte[]> seeds() {
    try {
      Path dir = DiskFixture.tempDir("clock-seeds-");
      try {
        Path file = dir.resolve("custody.clock");
        ClockFile.write(file, 1_790_000_123L);
        byte[] valid = Files.readAllBytes(file);
        java.util.Map<String, byte[]> out = new java.util.LinkedHashMap<>();
        out.put("seed-valid", valid);
        out.put("seed-truncated", java.util.Arrays.copyOf(valid, valid.length - 1));
        out.put("seed-one-byte-more", java.util.Arrays.copyOf(valid, valid.length + 1));
        byte[] flipped = valid.clone();
        flipped[15] ^= 1;
        out.put("seed-mark-bit-flipped", flipped);
        return out;
      } finally {
        DiskFixture.deleteQuietly(dir);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @FuzzTest
  void roundTrip(byte[] input) throws Exception {
    long mark = input.length >= 8 ? ByteBuffer.wrap(input).getLong() : input.length;
    Path dir = DiskFixture.tempDir("clock-");
    try {
      Path file = dir.resolve("custody.clock");
      ClockFile.write(file, mark);
      Contract.check(ClockFile.read(file) == mark, "mark " + mark + " did not read back");
    } finally {
      DiskFixture.deleteQuietly(dir);
    }
  }
}
