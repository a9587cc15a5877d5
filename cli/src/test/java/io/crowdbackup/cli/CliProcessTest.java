package io.crowdbackup.cli;

import java.util.List;

/** The end-to-end scenarios against the compiled classes, in a child JVM: part of {@code mvn test}. */
class CliProcessTest extends CliScenarios {
  @Override
  List<String> launcher() {
    return List.of(javaBinary(), "-cp", System.getProperty("java.class.path"), "-XX:TieredStopAtLevel=1",
        Main.class.getName());
  }
}
