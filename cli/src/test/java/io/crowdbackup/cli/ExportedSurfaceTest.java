package io.crowdbackup.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.engine.Envelopes;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
  private static final Pattern ENGINE_TYPE = Pattern.compile("io/crowdbackup/engine/((?:[a-z0-9_]+/)*)[A-Za-z0-9_$]+");

  @Test
  void theCliRefersOnlyToExportedEnginePackages() throws Exception {
    Set<String> exported = engineExports();
    assertTrue(exported.contains("io.crowdbackup.engine.custody"), "exports " + exported);
    assertFalse(exported.contains("io.crowdbackup.engine.store"), "exports " + exported);
    Path classes = location(Main.class);
    List<String> violations = internalReferences(classes, exported);
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
    assertEquals(List.of("p/Reaches.class -> io.crowdbackup.engine.store"), internalReferences(out, engineExports()));
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

  /** The packages the engine's module descriptor exports to everyone. */
  static Set<String> engineExports() throws URISyntaxException {
    ModuleDescriptor d = ModuleFinder.of(location(Envelopes.class)).find("io.crowdbackup.engine")
        .orElseThrow(() -> new AssertionError("no module io.crowdbackup.engine at " + location(Envelopes.class)))
        .descriptor();
    return d.exports().stream().filter(e -> !e.isQualified()).map(ModuleDescriptor.Exports::source)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** "Class.class -> package" for each class under {@code classes} naming a type of an unexported engine package. */
  static List<String> internalReferences(Path classes, Set<String> exported) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(classes)) {
      for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class")).sorted()::iterator) {
        Set<String> reached = new TreeSet<>();
        for (String utf8 : constantPoolStrings(f)) {
          Matcher m = ENGINE_TYPE.matcher(utf8);
          while (m.find()) {
            String pkg = ("io/crowdbackup/engine/" + m.group(1)).replaceAll("/$", "").replace('/', '.');
            if (!exported.contains(pkg)) {
              reached.add(pkg);
            }
          }
        }
        for (String pkg : reached) {
          out.add(classes.relativize(f).toString().replace('\\', '/') + " -> " + pkg);
        }
      }
    }
    return out;
  }

  /** Every CONSTANT_Utf8 of a class file: class names, descriptors and signatures are all among them. */
  private static List<String> constantPoolStrings(Path classFile) throws IOException {
    List<String> out = new ArrayList<>();
    try (InputStream raw = Files.newInputStream(classFile); DataInputStream in = new DataInputStream(raw)) {
      if (in.readInt() != 0xCAFEBABE) {
        throw new IOException(classFile + ": not a class file");
      }
      in.readUnsignedShort();
      in.readUnsignedShort();
      int count = in.readUnsignedShort();
      for (int i = 1; i < count; i++) {
        int tag = in.readUnsignedByte();
        switch (tag) {
          case 1: // Utf8
            out.add(in.readUTF());
            break;
          case 7: case 8: case 16: case 19: case 20: // Class, String, MethodType, Module, Package
            in.readUnsignedShort();
            break;
          case 15: // MethodHandle
            in.readUnsignedByte();
            in.readUnsignedShort();
            break;
          case 3: case 4: case 9: case 10: case 11: case 12: case 17: case 18:
            in.readInt();
            break;
          case 5: case 6: // Long, Double take two slots
            in.readLong();
            i++;
            break;
          default:
            throw new IOException(classFile + ": unknown constant pool tag " + tag + " at " + i);
        }
      }
    }
    return out;
  }

  private static Path location(Class<?> c) {
    try {
      return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }

  private static String classPathOf(Class<?>... classes) {
    return Stream.of(classes).map(c -> location(c).toString()).distinct()
        .collect(Collectors.joining(java.io.File.pathSeparator));
  }

}
