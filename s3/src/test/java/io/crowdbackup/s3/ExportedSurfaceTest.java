package io.crowdbackup.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crowdbackup.engine.ExportedSurface;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The S3 sink is a front-end of the engine like the server: it may use only the packages the engine's
 * {@code module-info} exports. It is built on the class path, where exports are not enforced, so this
 * test enforces them.
 */
class ExportedSurfaceTest {
  @Test
  void theSinkRefersOnlyToExportedEnginePackages() throws Exception {
    assertEquals(List.of(), ExportedSurface.internalReferences(ExportedSurface.location(S3DeliverySink.class),
        ExportedSurface.engineExports()), "s3 classes that reach engine internals (use the exported surface)");
  }
}
