package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.crowdbackup.cli.CliScenarios.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve destination}'s choice between an inbox and a bucket, in this process: every combination that
 * cannot work is a one-line usage error (exit 2) saying what to give instead, before any key, folder or
 * connection is opened. (The bucket itself: {@code CliScenarios#serveDestinationIntoS3DeliversIntoTheBucket}.)
 */
class ServeS3OptionsTest {
  private static final String URL = "s3://archive/cb/?endpoint=http://127.0.0.1:9&path-style=true";

  @TempDir Path dir;

  @BeforeEach
  void keys() {
    CliMessagesTest.ok("keygen", "--out", dir.resolve("keys").toString(), "--locator", "http://127.0.0.1:9");
  }

  private Run serve(String... args) {
    String[] all = new String[args.length + 4];
    all[0] = "serve";
    all[1] = "destination";
    all[2] = "--key";
    all[3] = dir.resolve("keys/destination.key").toString();
    System.arraycopy(args, 0, all, 4, args.length);
    return CliMessagesTest.run(all);
  }

  private void usage(String contains, String... args) {
    CliScenarios.assertOneLineError(serve(args), ExitCodes.USAGE, contains);
  }

  @Test
  void anInboxOrABucketIsNeeded() {
    usage("give --inbox DIR (a folder) or --s3 URL (a bucket)");
  }

  @Test
  void aRelayCannotDeliverIntoABucket() {
    usage("--relay and --s3 do not go together", "--s3", URL, "--staging", dir.resolve("s").toString(), "--relay");
  }

  @Test
  void theBucketReplacesTheInbox() {
    usage("--inbox and --s3 do not go together", "--s3", URL, "--staging", dir.resolve("s").toString(), "--inbox",
        dir.resolve("in").toString());
  }

  @Test
  void aBucketNeedsAStagingFolder() {
    usage("--s3 needs --staging DIR", "--s3", URL);
  }

  @Test
  void theS3OptionsNeedS3() {
    usage("go with --s3 only", "--inbox", dir.resolve("in").toString(), "--s3-part-size", "16MiB");
    usage("go with --s3 only", "--inbox", dir.resolve("in").toString(), "--staging", dir.resolve("s").toString());
    assertFalse(Files.exists(dir.resolve("in")), "nothing created on a usage error");
  }

  @Test
  void aBadUrlOrPartSizeIsNamed() {
    usage("--s3: S3 URL \"s3://archive/?token=x\": unknown setting \"token\"", "--s3", "s3://archive/?token=x",
        "--staging", dir.resolve("s").toString());
    usage("carries credentials", "--s3", "s3://key:secret@archive/", "--staging", dir.resolve("s").toString());
    usage("--s3-part-size: partSizeBytes must be between 5242880 and 268435456 but was 1048576", "--s3", URL,
        "--staging", dir.resolve("s").toString(), "--s3-part-size", "1MiB");
    usage("--s3-uploads: maxConcurrentUploads must be between 1 and 1024 but was 0", "--s3", URL, "--staging",
        dir.resolve("s").toString(), "--s3-uploads", "0");
    assertFalse(Files.exists(dir.resolve("s")), "nothing created on a usage error");
  }

  @Test
  void theHelpNamesTheS3Options() {
    Run help = serve("--help");
    assertEquals(0, help.exitCode, help.toString());
    for (String option : new String[] {"--s3", "--staging", "--s3-part-size", "--s3-uploads", "docs/s3.md"}) {
      org.junit.jupiter.api.Assertions.assertTrue(help.out.contains(option), option + " in:\n" + help.out);
    }
  }
}
