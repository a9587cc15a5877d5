package io.crowdbackup.server;

import io.crowdbackup.api.EnvelopeHeader;
import io.crowdbackup.api.Fingerprint;
import io.crowdbackup.api.policy.RefusalException;
import io.crowdbackup.engine.Envelopes;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.Offer;
import io.crowdbackup.engine.protocol.DeliverySink;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * A destination server in relay mode (docs/envelope-format.md §14, docs/protocol.md §3): its inbox runs in
 * {@code Inbox.Mode.RELAY}, so a delivered outer envelope is opened and its inner envelope, byte for byte,
 * lands in the outbox folder. The relay then takes each inner envelope into its own custody store (one
 * durable copy; the outbox file goes only after that) and forwards it with the {@link Forwarder}: only to
 * the inner header's locator, dropping the copy only on a receipt that verifies against the inner header's
 * key. Forwarding runs after every delivery and every {@code retryEvery}, on one thread.
 */
public final class Relay implements Closeable {
  /** The peer label inner envelopes are held under in the relay's custody store. */
  static final String PEER = "relay";

  private final Path outbox;
  private final Custodian custodian;
  private final Forwarder forwarder;
  private final BiConsumer<String, Throwable> onError;
  private final ScheduledExecutorService thread;

  /**
   * @param outbox the relay inbox's folder, where it publishes inner envelopes
   * @param custodian where inner envelopes are held until delivered (owned by the caller)
   * @param forwarder a forwarder over {@code custodian}
   */
  public Relay(Path outbox, Custodian custodian, Forwarder forwarder, Duration retryEvery,
      BiConsumer<String, Throwable> onError) {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.custodian = Objects.requireNonNull(custodian, "custodian");
    this.forwarder = Objects.requireNonNull(forwarder, "forwarder");
    this.onError = Objects.requireNonNull(onError, "onError");
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "crowdbackup-relay");
      t.setDaemon(true);
      return t;
    });
    // At start too: inner envelopes left in the outbox or in custody by a previous run go on.
    thread.scheduleWithFixedDelay(this::runOnce, 0, retryEvery.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** {@code inbox} (a relay-mode inbox's sink) that wakes the forwarding after each delivery. */
  public DeliverySink sink(DeliverySink inbox) {
    return new DeliverySink() {
      @Override
      public byte[] receipt(Fingerprint fingerprint) throws IOException {
        return inbox.receipt(fingerprint);
      }

      @Override
      public byte[] deliver(ReadableByteChannel envelope, Fingerprint expected) throws IOException {
        byte[] receipt = inbox.deliver(envelope, expected);
        wake();
        return receipt;
      }
    };
  }

  /** Asks for a forwarding run soon (no-op once closed). */
  public void wake() {
    try {
      thread.execute(this::runOnce);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // stopping: the next start picks the outbox up
    }
  }

  /** Takes the outbox into custody, then forwards what is held; failures are reported, the copies stay. */
  synchronized Forwarder.Report runOnce() {
    try {
      takeOutbox();
      return forwarder.forwardAll();
    } catch (IOException | RuntimeException e) {
      onError.accept("relay forwarding from " + outbox, e);
      return null;
    }
  }

  private void takeOutbox() throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(outbox)) {
      for (Path p : ds) {
        if (p.getFileName().toString().startsWith(".") || !Files.isRegularFile(p)) {
          continue; // the inbox's own temporary and ledger files
        }
        try {
          hold(p);
          Files.delete(p);
        } catch (RefusalException e) {
          if (e.reason() == io.crowdbackup.api.policy.Refusal.Reason.ALREADY_HELD) {
            Files.delete(p); // taken before a crash, the file not yet removed
          } else {
            onError.accept("relay: holding " + p.getFileName() + " (left in the outbox)", e);
          }
        }
      }
    }
  }

  private void hold(Path inner) throws IOException, RefusalException {
    EnvelopeHeader header;
    Fingerprint fp;
    long length;
    try (FileChannel ch = FileChannel.open(inner, StandardOpenOption.READ)) {
      length = ch.size();
      header = Envelopes.readHeader(ch);
      ch.position(0);
      fp = Envelopes.fingerprint(ch);
      ch.position(0);
      custodian.receive(Offer.newBuilder().fingerprint(fp).declaredLengthBytes(length)
          .envelopeExpiresAtEpochSecond(header.expiresAtEpochSecond()).sourcePeer(PEER).build(), ch);
    }
  }

  /** Stops the forwarding thread (a run in progress finishes its current request or is interrupted). */
  @Override
  public void close() {
    thread.shutdownNow();
    try {
      thread.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
