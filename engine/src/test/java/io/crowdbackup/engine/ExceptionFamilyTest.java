package io.crowdbackup.engine;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.CrowdBackupException;
import io.crowdbackup.api.EnvelopeException;
import io.crowdbackup.api.ReceiptException;
import io.crowdbackup.api.policy.Refusal;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.api.store.StoreException;
import io.crowdbackup.engine.custody.CustodyException;
import io.crowdbackup.engine.inbox.InboxException;
import io.crowdbackup.engine.keys.KeyFormatException;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** One exception family: a front-end that forwards, stores or opens a blob catches one type. */
class ExceptionFamilyTest {
  private static final Map<Class<? extends CrowdBackupException>, Class<? extends Enum<?>>> FAMILY = Map.of(
      EnvelopeException.class, EnvelopeException.Reason.class,
      ReceiptException.class, ReceiptException.Reason.class,
      RefusalException.class, Refusal.Reason.class,
      StoreException.class, StoreException.Reason.class,
      CustodyException.class, CustodyException.Reason.class,
      InboxException.class, InboxException.Reason.class,
      KeyFormatException.class, KeyFormatException.Reason.class);


  @Test
  void everyFamilyIsACrowdBackupExceptionAndAnIOException() {
    for (Class<? extends CrowdBackupException> c : FAMILY.keySet()) {
      assertTrue(IOException.class.isAssignableFrom(c), c.getName());
    }
  }

  @Test
  void noReasonIsSpelledInTwoEnums() {
    Map<String, Set<String>> owners = new TreeMap<>();
    for (Class<? extends Enum<?>> e : FAMILY.values()) {
      for (Enum<?> constant : e.getEnumConstants()) {
        owners.computeIfAbsent(constant.name(), k -> new TreeSet<>()).add(e.getName());
      }
    }
    Set<String> duplicated = new TreeSet<>();
    owners.forEach((name, in) -> {
      if (in.size() > 1) {
        duplicated.add(name);
      }
    });
    // No reason means two things: a condition has one owner; a layer that only re-reports it throws the
    // owner's exception, and one that means something of its own says so in its own word.
    assertEquals(Set.of(), duplicated, "reason names in several enums: " + owners);
  }

  @Test
  void oneCatchSeesEveryReasonAndARefusalStillCarriesItsNumbers() {
    CrowdBackupException e = Refusal.ofSpace(Refusal.Reason.QUOTA_FULL, "offered 10 bytes; 5 free", 5, 5)
        .toException();
    assertSame(Refusal.Reason.QUOTA_FULL, e.reason());
    assertEquals(5, ((RefusalException) e).refusal().bytesFree());
    assertEquals(0, e.getStackTrace().length, "a refusal is an answer, recorded without a stack trace");
    CrowdBackupException custody = new CustodyException(CustodyException.Reason.WRONG_LOCATOR, "x");
    assertSame(CustodyException.Reason.WRONG_LOCATOR, custody.reason());
  }
}
