package io.crowdbackup.server;

import static org.junit.jupiter.api.Assertions.*;

import io.crowdbackup.engine.ExportedSurface;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The server is a front-end: it binds the engine's exported protocol package to HTTP and may use nothing
 * the engine's {@code module-info} does not export. It is built on the class path, where exports are not
 * enforced, so this test enforces them.
 */
class ExportedSurfaceTest {
  @Test
  void theServerRefersOnlyToExportedEnginePackages() throws Exception {
    assertEquals(List.of(), ExportedSurface.internalReferences(ExportedSurface.location(ProtocolServer.class),
        ExportedSurface.engineExports()), "server classes that reach engine internals (use the exported surface)");
  }
}
