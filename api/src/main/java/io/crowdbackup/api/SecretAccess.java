package io.crowdbackup.api;

/**
 * A token that a caller passes to read secret key bytes, so that every place that does so is visible in
 * the code and easy to audit. There is deliberately no getter of secret bytes without it.
 */
public final class SecretAccess {
  private static final SecretAccess INSTANCE = new SecretAccess();

  private SecretAccess() {}

  /** Grants access; call it only where secret bytes must leave their holder (key files, key agreement). */
  public static SecretAccess explicitly() {
    return INSTANCE;
  }
}
