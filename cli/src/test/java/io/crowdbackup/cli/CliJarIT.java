package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The end-to-end scenarios against what a user runs: the shaded jar with plain {@code java -jar}. Runs in
 * {@code mvn verify} (the {@code jar-end-to-end} execution in cli/pom.xml), after {@code package}.
 */
class CliJarIT extends CliScenarios {
  static Path jar;
  static Path launcherScript;

  @BeforeAll
  static void locate() {
    jar = Path.of(System.getProperty("crowdbackup.jar", "target/crowdbackup.jar"));
    launcherScript = Path.of(System.getProperty("crowdbackup.launcher", "crowdbackup"));
    assertTrue(Files.isRegularFile(jar), "build the jar first (mvn package): " + jar.toAbsolutePath());
  }

  @Override
  List<String> launcher() {
    return List.of(javaBinary(), "-jar", jar.toAbsolutePath().toString());
  }

  /** The bash launcher finds the jar beside it in target/ and runs it with its JVM options. */
  @Test
  void theLauncherScriptRunsTheJar() throws Exception {
    List<String> command = List.of("bash", launcherScript.toAbsolutePath().toString(), "--version");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().remove("CROWDBACKUP_JAR");
    pb.environment().put("CROWDBACKUP_NO_BUILD", "1"); // never a Maven build inside this one
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    assertTrue(out.startsWith("crowdbackup 0."), out);
  }

  /** The manifest carries Chronicle Map's module flags, so `java -jar` needs none typed. */
  @Test
  void theJarManifestCarriesMainClassAndModuleFlags() throws Exception {
    try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar.toFile())) {
      java.util.jar.Attributes a = j.getManifest().getMainAttributes();
      assertEquals(Main.class.getName(), a.getValue("Main-Class"));
      assertTrue(a.getValue("Add-Opens").contains("java.base/java.lang"));
      assertTrue(a.getValue("Add-Exports").contains("java.base/sun.nio.ch"));
      assertNull(j.getEntry("META-INF/BC1024KE.SF"), "stale signature files must be stripped");
    }
  }
}
