package io.crowdbackup.engine.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/**
 * How the store opens files: {@link #DEFAULT} in production; tests substitute one whose channels fail
 * writes, fsyncs or flip bits, to prove every fault ends in a typed error or a quarantine.
 */
public interface FileOpener {
  FileOpener DEFAULT = FileChannel::open;

  FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException;
}
