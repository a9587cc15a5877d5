package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.ExportedSurface;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line is a front-end like any other: it may use only what the engine's {@code module-info}
 * exports. The CLI is built on the class path (picocli and the shaded jar), where the JVM does not enforce
 * exports, so this test does: it fails the build if any CLI class refers to a type in a package the engine
 * does not export. A second test proves the module itself refuses such a reference from a named module.
 */
class ExportedSurfaceTest {
  @Test
  void theCliRefersOnlyToExportedEnginePackages() throws Exception {
    Set<String> exported = ExportedSurface.engineExports();
    assertTrue(exported.contains("io.crowdbackup.engine.custody"), "exports " + exported);
    assertFalse(exported.contains("io.crowdbackup.engine.store"), "exports " + exported);
    Path classes = ExportedSurface.location(Main.class);
    List<String> violations = ExportedSurface.internalReferences(classes, exported);
    assertEquals(List.of(), violations, "CLI classes that reach engine internals (use the exported surface)");
  }

  @Test
  void theCheckSeesAReferenceToAnInternalPackage(@TempDir Path dir) throws Exception {
    // A class that names an internal type in a field descriptor: the scan must report it.
    Path src = dir.resolve("src/p/Reaches.java");
    Files.createDirectories(src.getParent());
    Files.writeString(src, "package p; public class Reaches { io.crowdbackup.engine.store.StoreConfig c; }");
    Path out = dir.resolve("out");
    Files.createDirectories(out);
    String cp = classPathOf(Envelopes.class, Fingerprint.class);
    assertEquals(0, compile(List.of("-d", out.toString(), "-cp", cp, src.toString()), new StringWriter()));
    assertEquals(List.of("p/Reaches.class -> io.crowdbackup.engine.store"),
        ExportedSurface.internalReferences(out, ExportedSurface.engineExports()));
  }

  @Test
  void aNamedModuleCannotImportAnInternalEnginePackage(@TempDir Path dir) throws Exception {
    String modulePath = classPathOf(Envelopes.class, Fingerprint.class, org.bouncycastle.crypto.Digest.class,
        net.jpountz.lz4.LZ4Factory.class);

    StringWriter refused = new StringWriter();
    int code = compileModule(dir.resolve("internal"), modulePath,
        "import io.crowdbackup.engine.store.FileCustodyStore; public class Probe { FileCustodyStore s; }", refused);
    assertNotEquals(0, code, "an internal package must not be reachable:\n" + refused);
    assertTrue(refused.toString().contains("is not visible") || refused.toString().contains("does not export"),
        refused.toString());

    StringWriter accepted = new StringWriter();
    code = compileModule(dir.resolve("exported"), modulePath,
        "import io.crowdbackup.engine.custody.Custodian; import io.crowdbackup.engine.custody.HolderConfig;"
            + " public class Probe { Custodian c; HolderConfig h; }", accepted);
    assertEquals(0, code, "the exported surface must be reachable:\n" + accepted);
  }

  private static int compileModule(Path dir, String modulePath, String body, StringWriter diagnostics)
      throws IOException {
    Path src = dir.resolve("src");
    Files.createDirectories(src.resolve("probe"));
    Files.writeString(src.resolve("module-info.java"), "module probe { requires io.crowdbackup.engine; }");
    Files.writeString(src.resolve("probe/Probe.java"), "package probe; " + body);
    Path out = Files.createDirectories(dir.resolve("out"));
    return compile(List.of("-d", out.toString(), "--module-path", modulePath,
        src.resolve("module-info.java").toString(), src.resolve("probe/Probe.java").toString()), diagnostics);
  }

  private static int compile(List<String> args, StringWriter diagnostics) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "tests need a JDK");
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    int code = javac.run(null, err, err, args.toArray(new String[0]));
    diagnostics.write(err.toString(java.nio.charset.StandardCharsets.UTF_8));
    return code;
  }

  private static String classPathOf(Class<?>... classes) {
    return Stream.of(classes).map(c -> ExportedSurface.location(c).toString()).distinct()
        .collect(Collectors.joining(java.io.File.pathSeparator));
  }

}
