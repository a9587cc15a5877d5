package io.crowdbackup.engine.envelope;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.EnvelopeException;
import org.junit.jupiter.api.Test;

/** The sealer's pipeline fits the heap it is given: fewer slots when it must, a typed refusal when none fits. */
class MemoryPlanTest {
  static final int MIB = 1 << 20;

  @Test
  void aRoomyHeapGetsTwiceTheThreadsPlusOneSlots() throws Exception {
    assertEquals(9, MemoryPlan.of(64 * 1024, 4, 1_000, true, false, 1L << 30).slotsPerLayer);
    assertEquals(1, MemoryPlan.of(64 * 1024, 1, 1_000, true, false, 1L << 30).slotsPerLayer);
    assertEquals(3, MemoryPlan.of(64 * 1024, 4, 3, false, false, 1L << 30).slotsPerLayer, "no more than chunks");
  }

  @Test
  void aSmallHeapGetsFewerSlotsAndThePlanStaysInsideTheBudget() throws Exception {
    for (long budget = 5 * MIB; budget < 64 * MIB; budget += 3 * MIB) {
      for (boolean compress : new boolean[] {false, true}) {
        for (boolean relayed : new boolean[] {false, true}) {
          long perSlot = MemoryPlan.slotBytes(4 * MIB, compress) + (relayed ? MemoryPlan.slotBytes(4 * MIB, false) : 0);
          if (perSlot > budget) {
            continue;
          }
          MemoryPlan p = MemoryPlan.of(4 * MIB, 4, 1_000, compress, relayed, budget);
          assertTrue(p.bytes <= budget, "within budget");
          assertEquals(Math.min(9, budget / perSlot), p.slotsPerLayer);
        }
      }
    }
  }

  @Test
  void whenNotOneSlotFitsTheRefusalSaysWhichChunkSizeWould() {
    EnvelopeException e = assertThrows(EnvelopeException.class,
        () -> MemoryPlan.of(4 * MIB, 4, 1_000, true, false, 6 * MIB));
    assertEquals(EnvelopeException.Reason.NOT_ENOUGH_MEMORY, e.reason());
    assertTrue(e.getMessage().contains("chunk size of at most 2097152 bytes"), e.getMessage());
    EnvelopeException none = assertThrows(EnvelopeException.class,
        () -> MemoryPlan.of(4 * MIB, 1, 1_000, false, false, 1024));
    assertTrue(none.getMessage().contains("no chunk size fits"), none.getMessage());
  }

  @Test
  void aParallelOpenerGetsTwiceTheThreadsPlusOneSlotsWithinItsBudgetAndNeverNone() {
    assertEquals(5, MemoryPlan.openingSlots(64 * 1024, 2, 1L << 30));
    assertEquals(1, MemoryPlan.openingSlots(64 * 1024, 1, 1L << 30));
    for (long budget = 0; budget < 64 * MIB; budget += 3 * MIB) {
      int slots = MemoryPlan.openingSlots(4 * MIB, 8, budget);
      assertTrue(slots >= 1, "at least the one slot an opener always had");
      // Three buffers of about a chunk each per slot: the plan never counts fewer.
      assertTrue(slots == 1 || (long) slots * 3 * 4 * MIB <= budget, slots + " slots in " + budget + " bytes");
    }
  }
}
