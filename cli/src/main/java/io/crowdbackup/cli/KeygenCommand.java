package io.crowdbackup.cli;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SecretAccess;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.keys.Keys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "keygen", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Create a destination key pair, or a source signing key.",
        "DIR/destination.key is secret (owner-only); DIR/destination.card is public: give it to the devices",
        "that seal files for you.",
        "With --signing, create a source signing key instead: DIR/signing.key (secret) and DIR/signing.pub;",
        "pass the key to 'seal --signing-key' so that you can later release envelopes you delivered yourself.",
        "Existing files are never replaced."})
final class KeygenCommand extends HasGlobals implements Callable<Integer> {
  static final String DESTINATION_KEY = "destination.key";
  static final String DESTINATION_CARD = "destination.card";
  static final String SIGNING_KEY = "signing.key";
  static final String SIGNING_PUB = "signing.pub";

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write the files to (created if absent).")
  Path out;

  @Option(names = "--locator", paramLabel = "URI",
      description = "Where envelopes for this destination are delivered, e.g. https://home.example/inbox"
          + " (default: urn:crowdbackup:<first 16 hex digits of the receipt key>).")
  String locator;

  @Option(names = "--signing", description = "Create a source signing key instead of a destination key pair.")
  boolean signing;

  @Override
  public Integer call() throws Exception {
    if (signing && locator != null) {
      throw new CliException(ExitCodes.USAGE, "--locator applies to destination keys, not with --signing");
    }
    try {
      OutputFiles.createFolder(out);
    } catch (IOException e) {
      throw Failures.io(out, e);
    }
    return signing ? signingKey() : destinationKey();
  }

  private int destinationKey() throws CliException {
    DestinationKeyPair keys = Keys.generateDestination(locator == null ? "urn:crowdbackup:pending" : checked(locator));
    if (locator == null) {
      SecretAccess access = SecretAccess.explicitly();
      String derived = "urn:crowdbackup:" + HexFormat.of().formatHex(keys.card().receiptKey()).substring(0, 16);
      DestinationKeyPair renamed = Keys.destinationFromSecrets(derived, keys.agreementPrivateKey(access),
          keys.receiptSigningSeed(access));
      keys.destroy();
      keys = renamed;
    }
    Path keyFile = out.resolve(DESTINATION_KEY);
    Path cardFile = out.resolve(DESTINATION_CARD);
    refuseExisting(keyFile, cardFile);
    write(keyFile, Keys.encodeDestination(keys), true);
    write(cardFile, Keys.encodeCard(keys.card()), false);
    keys.destroy();
    if (globals.json) {
      spec.commandLine().getOut().println(Json.obj().put("key", keyFile.toString()).put("card", cardFile.toString())
          .put("locator", keysLocator(cardFile)));
    } else {
      spec.commandLine().getOut().println("destination key  " + keyFile + "  (secret: keep it, readable by you only)");
      spec.commandLine().getOut().println("public card      " + cardFile + "  (give this to the devices that seal for you)");
    }
    return ExitCodes.OK;
  }

  private int signingKey() throws CliException {
    SigningKeyPair keys = Keys.generateSigning();
    Path keyFile = out.resolve(SIGNING_KEY);
    Path pubFile = out.resolve(SIGNING_PUB);
    refuseExisting(keyFile, pubFile);
    write(keyFile, Keys.encodeSigning(keys), true);
    write(pubFile, HexFormat.of().formatHex(keys.publicKey()) + "\n", false);
    String pub = HexFormat.of().formatHex(keys.publicKey());
    keys.destroy();
    if (globals.json) {
      spec.commandLine().getOut().println(Json.obj().put("key", keyFile.toString()).put("publicKey", pub));
    } else {
      spec.commandLine().getOut().println("signing key  " + keyFile + "  (secret)");
      spec.commandLine().getOut().println("public key   " + pub);
    }
    return ExitCodes.OK;
  }

  private static String keysLocator(Path card) {
    try {
      return KeyFiles.card(card).locator();
    } catch (CliException e) {
      return null;
    }
  }

  private static String checked(String locator) throws CliException {
    try {
      new io.crowdbackup.api.DestinationCard(locator, new byte[32], new byte[32]);
      return locator;
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "USAGE", null, "--locator: " + e.getMessage(), e);
    }
  }

  private static void refuseExisting(Path... files) throws CliException {
    for (Path f : files) {
      if (Files.exists(f)) {
        throw new CliException(ExitCodes.IO, "EXISTS", f.toString(),
            f + ": already exists; keygen never replaces a key (move it away first)", null);
      }
    }
  }

  private static void write(Path file, String text, boolean secret) throws CliException {
    try {
      OutputFiles.writeNew(file, text.getBytes(StandardCharsets.UTF_8), secret);
    } catch (IOException e) {
      throw Failures.io(file, e);
    }
  }
}
