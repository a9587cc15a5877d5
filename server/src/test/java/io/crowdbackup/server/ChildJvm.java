package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server in a child JVM on this test class path ({@link HolderProcess}, {@link DestinationProcess}):
 * started with its own heap limit, known by the port it writes once it listens, killed with SIGKILL.
 */
final class ChildJvm implements AutoCloseable {
  final Process process;
  final URI uri;
  private final Path output;

  private ChildJvm(Process process, URI uri, Path output) {
    this.process = process;
    this.uri = uri;
    this.output = output;
  }

  /** Starts {@code main} with {@code -Xmx<heap>}; its arguments are {@code args} then the port file. */
  static ChildJvm start(Class<?> main, String heap, Path work, String... args) throws Exception {
    Path portFile = Files.createTempFile(work, "port-", "");
    Files.delete(portFile);
    Path output = Files.createTempFile(work, "child-", ".out");
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heap);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    cmd.add(portFile.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(portFile)) {
      assertTrue(p.isAlive(), "the child JVM died: " + Files.readString(output));
      assertTrue(System.nanoTime() < deadline, "the child JVM did not listen in 60 s: " + Files.readString(output));
      Thread.sleep(50);
    }
    return new ChildJvm(p, URI.create("http://127.0.0.1:" + Files.readString(portFile).trim()), output);
  }

  /** What the child printed so far. */
  String output() throws IOException {
    return Files.readString(output, StandardCharsets.UTF_8);
  }

  /** Sends a line to the child's stdin and waits for the output line that starts with {@code prefix}. */
  String ask(String prefix) throws Exception {
    OutputStream in = process.getOutputStream();
    in.write('\n');
    in.flush();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(output),
          StandardCharsets.UTF_8))) {
        String last = null;
        for (String l = r.readLine(); l != null; l = r.readLine()) {
          if (l.startsWith(prefix)) {
            last = l;
          }
        }
        if (last != null) {
          return last;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the child never printed " + prefix + ": " + output());
  }

  /** SIGKILL on Linux: no shutdown hook, no close. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the child JVM did not die");
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill9();
    }
  }
}
