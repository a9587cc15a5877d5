package io.crowdbackup.engine.envelope;

import static io.crowdbackup.engine.envelope.EnvelopeFormat.*;

import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.EnvelopeException.Reason;

/**
 * How many chunk slots a seal may allocate, from the heap it is given: each slot holds one buffer (the
 * chunk, encrypted in place into its record) and, with compression, an LZ4 scratch buffer, so a pipeline of
 * {@code s} slots per layer costs about {@code s * (1 or 2) * chunk} bytes. The sealer takes at most half of what the JVM can still give
 * (the rest is for the caller, the garbage collector's headroom and the humongous-object fragmentation of
 * a small heap), runs fewer chunks at once when its ideal pipeline does not fit, and refuses up front —
 * before it reads or writes a byte — when not even one slot per layer fits.
 */
final class MemoryPlan {
  /** Per slot beyond its arrays: cipher and digest state, object headers, the task. Generous on purpose. */
  static final long SLOT_OVERHEAD_BYTES = 64 * 1024;

  final int slotsPerLayer;
  final long bytes;

  private MemoryPlan(int slotsPerLayer, long bytes) {
    this.slotsPerLayer = slotsPerLayer;
    this.bytes = bytes;
  }

  /** Bytes one slot takes at a chunk size. */
  static long slotBytes(int chunk, boolean compress) {
    long buf = ChunkEncoder.DATA_OFFSET + (long) chunk + TAG_BYTES;
    long lz4 = compress ? ChunkEncoder.scratchBytes(chunk) : 0;
    return buf + lz4 + SLOT_OVERHEAD_BYTES;
  }

  /**
   * The plan for a seal: {@code 2 * parallelism + 1} slots per layer when parallel (every worker busy while
   * the caller fills one), 1 otherwise, never more than there are chunks, and no more than fit in {@code
   * budgetBytes}. The outer layer of a relay is never compressed.
   */
  static MemoryPlan of(int chunk, int parallelism, long chunks, boolean compress, boolean relayed, long budgetBytes)
      throws EnvelopeException {
    long perSlotAllLayers = slotBytes(chunk, compress) + (relayed ? slotBytes(chunk, false) : 0);
    long ideal = parallelism > 1 ? Math.max(1, Math.min(2L * parallelism + 1, chunks)) : 1;
    long fit = budgetBytes / perSlotAllLayers;
    if (fit < 1) {
      throw new EnvelopeException(Reason.NOT_ENOUGH_MEMORY, "sealing at chunk size " + chunk + " bytes"
          + (compress ? " with compression" : "") + (relayed ? " through a relay" : "") + " needs at least "
          + mib(perSlotAllLayers) + " of heap, and this sealer may take " + mib(budgetBytes) + " (half of what"
          + " the JVM can still give, " + mib(Runtime.getRuntime().maxMemory()) + " maximum): "
          + advice(chunk, compress, relayed, budgetBytes));
    }
    int slots = (int) Math.min(ideal, fit);
    return new MemoryPlan(slots, slots * perSlotAllLayers);
  }

  /**
   * Chunk slots for a parallel opener: {@code 2 * parallelism + 1} (every worker busy while the caller
   * reads and writes), fewer when they do not fit in {@code budgetBytes}, and at least one: the opener has
   * always held one chunk's buffers, whatever the heap, and a refusal here would turn a deliverable envelope
   * away. Each slot holds the record, its decrypted chunk and, for LZ4 chunks, the decoded chunk.
   */
  static int openingSlots(int chunk, int parallelism, long budgetBytes) {
    long slot = RECORD_LENGTH_FIELD_BYTES + (long) maxDataCiphertextBytes(chunk) + 1L + chunk + chunk
        + SLOT_OVERHEAD_BYTES;
    return (int) Math.max(1, Math.min(parallelism > 1 ? 2L * parallelism + 1 : 1, budgetBytes / slot));
  }

  private static String advice(int chunk, boolean compress, boolean relayed, long budgetBytes) {
    for (int c = chunk >>> 1; c >= 1 << MIN_CHUNK_SIZE_LOG2; c >>>= 1) {
      if (slotBytes(c, compress) + (relayed ? slotBytes(c, false) : 0) <= budgetBytes) {
        return "use a chunk size of at most " + c + " bytes, or give the JVM more heap (-Xmx)";
      }
    }
    return "give the JVM more heap (-Xmx); no chunk size fits";
  }

  private static String mib(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }

  /** Half of the heap the JVM can still give: its maximum less what is in use now. */
  static long heapBudgetBytes() {
    Runtime r = Runtime.getRuntime();
    return Math.max(0, r.maxMemory() - (r.totalMemory() - r.freeMemory())) / 2;
  }
}
