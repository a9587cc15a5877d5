package io.crowdbackup.examples.desktop;

import io.crowdbackup.api.CrowdBackupException;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.engine.inbox.Delivery;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.keys.Keys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The destination on a desktop: keys once, then an inbox folder that opens every envelope that arrives
 * (first copy wins) and answers each with a signed receipt, the same bytes for a duplicate.
 *
 * <pre>
 * java ... HomeDestination keygen KEYFILE https://home.example/inbox   # prints the card for the phones
 * java ... HomeDestination receive KEYFILE INBOX ENVELOPE...          # writes ENVELOPE.receipt beside each
 * </pre>
 */
public final class HomeDestination {
  private HomeDestination() {}

  public static void main(String[] args) throws IOException {
    if (args.length >= 3 && args[0].equals("keygen")) {
      DestinationKeyPair keys = Keys.generateDestination(args[2]);
      Files.write(Paths.get(args[1]), Keys.encodeDestination(keys).getBytes(StandardCharsets.UTF_8));
      System.out.println(Keys.encodeCard(keys.card()));  // public: give it to every source
    } else if (args.length >= 4 && args[0].equals("receive")) {
      DestinationKeyPair keys = Keys.decodeDestination(new String(Files.readAllBytes(Paths.get(args[1])), StandardCharsets.UTF_8));
      try (Inbox inbox = Inbox.newBuilder().directory(Paths.get(args[2])).keys(keys).open()) {
        for (int i = 3; i < args.length; i++) {
          receive(inbox, Paths.get(args[i]));
        }
      }
    } else {
      System.err.println("usage: keygen KEYFILE LOCATOR | receive KEYFILE INBOX ENVELOPE...");
      System.exit(2);
    }
  }

  /** Opens one envelope into the inbox and writes its receipt beside it. A bad envelope keeps nothing. */
  static void receive(Inbox inbox, Path envelope) throws IOException {
    try {
      Delivery d = inbox.deliver(envelope);
      Path receipt = envelope.resolveSibling(envelope.getFileName() + ".receipt");
      Files.write(receipt, d.receiptBytes());
      System.out.println(d.outcome() + " " + d.fingerprint().toHex()
          + (d.file() != null ? " -> " + d.file().getFileName() : ""));
    } catch (CrowdBackupException e) {
      System.out.println("REJECTED " + envelope.getFileName() + ": " + e.reason() + ": " + e.getMessage());
    }
  }

  /** Receives every {@code *.cbe} file of a folder, e.g. one a holder's forwarder writes into. */
  static void receiveAll(Inbox inbox, Path dropFolder) throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dropFolder, "*.cbe")) {
      for (Path f : files) {
        receive(inbox, f);
      }
    }
  }
}
