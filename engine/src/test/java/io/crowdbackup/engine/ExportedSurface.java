package io.crowdbackup.engine;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
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

/**
 * For the front-ends' builds (cli, server): which engine packages a compiled front-end refers to that the
 * engine's {@code module-info} does not export. Front-ends built on the class path, where the JVM does not
 * enforce exports, run this over their classes in a test, so the build fails when one reaches an internal.
 */
public final class ExportedSurface {
  private static final Pattern ENGINE_TYPE = Pattern.compile("io/crowdbackup/engine/((?:[a-z0-9_]+/)*)[A-Za-z0-9_$]+");

  private ExportedSurface() {}

  /** The packages the engine's module descriptor exports to everyone. */
  public static Set<String> engineExports() {
    ModuleDescriptor d = ModuleFinder.of(location(Envelopes.class)).find("io.crowdbackup.engine")
        .orElseThrow(() -> new AssertionError("no module io.crowdbackup.engine at " + location(Envelopes.class)))
        .descriptor();
    return d.exports().stream().filter(e -> !e.isQualified()).map(ModuleDescriptor.Exports::source)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** "Class.class -> package" for each class under {@code classes} naming a type of an unexported engine package. */
  public static List<String> internalReferences(Path classes, Set<String> exported) throws IOException {
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

  public static Path location(Class<?> c) {
    try {
      return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }

}
