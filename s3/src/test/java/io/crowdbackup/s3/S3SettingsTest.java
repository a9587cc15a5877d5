package io.crowdbackup.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import org.junit.jupiter.api.Test;

class S3SettingsTest {
  @Test
  void everySettingGivenTwiceFailsNamingTheFirstValue() {
    S3Settings.Builder b = S3Settings.newBuilder().bucket("one").keyPrefix("p/").endpoint(URI.create("http://h:1"))
        .region("r1").pathStyle(true).credentials("id", "wJalrXUtn-SECRET").partSizeBytes(S3Settings.MIN_PART_SIZE_BYTES)
        .maxConcurrentUploads(2);
    assertEquals("bucket was already set to one",
        assertThrows(IllegalStateException.class, () -> b.bucket("two")).getMessage());
    assertThrows(IllegalStateException.class, () -> b.keyPrefix("q/"));
    assertThrows(IllegalStateException.class, () -> b.endpoint(URI.create("http://h:2")));
    assertThrows(IllegalStateException.class, () -> b.region("r2"));
    assertThrows(IllegalStateException.class, () -> b.pathStyle(true));
    assertThrows(IllegalStateException.class, () -> b.credentials("id2", "s2"));
    assertThrows(IllegalStateException.class, () -> b.partSizeBytes(S3Settings.MIN_PART_SIZE_BYTES));
    assertThrows(IllegalStateException.class, () -> b.maxConcurrentUploads(2));
    S3Settings s = b.build();
    assertEquals("one", s.bucket());
    assertEquals("p/", s.keyPrefix());
    assertTrue(s.pathStyle());
    assertFalse(s.toString().contains("wJalrXUtn-SECRET"), s.toString());
    assertEquals("wJalrXUtn-SECRET", s.revealSecretAccessKey());
  }

  @Test
  void badValuesFailWithTheValue() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> S3Settings.newBuilder().partSizeBytes(1024))
        .getMessage().contains("1024"));
    assertThrows(IllegalArgumentException.class, () -> S3Settings.newBuilder().bucket("a"));
    assertThrows(IllegalArgumentException.class, () -> S3Settings.newBuilder().keyPrefix("/abs"));
    assertThrows(IllegalArgumentException.class, () -> S3Settings.newBuilder().endpoint(URI.create("ftp://h/")));
    assertThrows(IllegalStateException.class, () -> S3Settings.newBuilder().build(), "bucket is required");
  }

  @Test
  void aUrlGivesBucketPrefixEndpointRegionAndAddressing() {
    S3Settings s = S3Settings.parse("s3://archive/crowd/backup/?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=eu-west-1"
        + "&path-style=true");
    assertEquals("archive", s.bucket());
    assertEquals("crowd/backup/", s.keyPrefix());
    assertEquals(URI.create("http://127.0.0.1:9000"), s.endpoint());
    assertEquals("eu-west-1", s.region());
    assertTrue(s.pathStyle());
    assertNull(s.accessKeyId());

    S3Settings aws = S3Settings.parse("s3://archive");
    assertEquals("", aws.keyPrefix());
    assertNull(aws.endpoint());
    assertFalse(aws.pathStyle());
  }

  @Test
  void aUrlWithCredentialsOrUnknownSettingsIsRefused() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> S3Settings.parse("s3://key:secret@archive/"))
        .getMessage().contains("credentials"));
    assertThrows(IllegalArgumentException.class, () -> S3Settings.parse("s3://archive/?colour=red"));
    assertThrows(IllegalArgumentException.class, () -> S3Settings.parse("s3://archive/?path-style=yes"));
    assertThrows(IllegalArgumentException.class, () -> S3Settings.parse("https://archive/"));
    assertThrows(IllegalStateException.class, () -> S3Settings.parse("s3://archive/?region=a&region=b"));
  }
}
