package io.crowdbackup.cli;

import io.crowdbackup.api.DestinationCard;
import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.SigningKeyPair;
import io.crowdbackup.engine.keys.KeyFormatException;
import io.crowdbackup.engine.keys.Keys;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads key and card files, bounded in size, with errors that name the file. */
final class KeyFiles {
  private KeyFiles() {}

  static DestinationCard card(Path file) throws CliException {
    try {
      return Keys.decodeCard(read(file, "card"));
    } catch (KeyFormatException e) {
      throw bad(file, "card", e);
    }
  }

  static DestinationKeyPair destination(Path file) throws CliException {
    try {
      return Keys.decodeDestination(read(file, "destination key"));
    } catch (KeyFormatException e) {
      throw bad(file, "destination key", e);
    }
  }

  static SigningKeyPair signing(Path file) throws CliException {
    try {
      return Keys.decodeSigning(read(file, "signing key"));
    } catch (KeyFormatException e) {
      throw bad(file, "signing key", e);
    }
  }

  private static CliException bad(Path file, String what, KeyFormatException e) {
    return new CliException(ExitCodes.BAD_KEY, "BAD_KEY_FILE", file.toString(),
        file + " is not a valid " + what + " file: " + e.getMessage(), e);
  }

  private static String read(Path file, String what) throws CliException {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      // One byte more than allowed tells "too large" apart from "exactly at the bound".
      bytes = in.readNBytes(Keys.MAX_FILE_BYTES + 1);
    } catch (IOException e) {
      throw Failures.io(file, e);
    }
    if (bytes.length > Keys.MAX_FILE_BYTES) {
      throw new CliException(ExitCodes.BAD_KEY, "BAD_KEY_FILE", file.toString(),
          file + " is larger than " + Keys.MAX_FILE_BYTES + " bytes: not a " + what + " file", null);
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new CliException(ExitCodes.BAD_KEY, "BAD_KEY_FILE", file.toString(),
          file + " is not UTF-8 text: not a " + what + " file", e);
    }
  }
}
