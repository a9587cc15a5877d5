package io.crowdbackup.cli;

import io.crowdbackup.api.DestinationKeyPair;
import io.crowdbackup.api.policy.RateLimit;
import io.crowdbackup.api.policy.TimeSource;
import io.crowdbackup.engine.custody.Custodian;
import io.crowdbackup.engine.custody.HolderConfig;
import io.crowdbackup.engine.inbox.Inbox;
import io.crowdbackup.engine.protocol.DeliverySink;
import io.crowdbackup.engine.protocol.DestinationProtocol;
import io.crowdbackup.engine.protocol.HolderProtocol;
import io.crowdbackup.engine.protocol.UploadIds;
import io.crowdbackup.s3.S3DeliverySink;
import io.crowdbackup.s3.S3Settings;
import io.crowdbackup.s3.S3SinkException;
import io.crowdbackup.server.Forwarder;
import io.crowdbackup.server.ProtocolServer;
import io.crowdbackup.server.Relay;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code crowdbackup serve holder|destination}: the servers of docs/protocol.md on a port until Ctrl-C,
 * which stops them cleanly (requests in flight finish, uploads stay resumable, the custody clock is
 * written). Nothing acknowledged depends on a clean stop: a kill loses only what was never answered.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Run a holder service or a destination server over HTTP.",
    subcommands = {ServeCommand.HolderServe.class, ServeCommand.DestinationServe.class})
final class ServeCommand implements Runnable {
  /** Servers running in this JVM, so that tests can stop what they started. */
  static final Set<Running> RUNNING = ConcurrentHashMap.newKeySet();
  static final String SECRET_FILE = "upload-id.secret";

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "serve what: holder or destination");
  }

  /** Options both servers take. */
  static final class Listen {
    @Option(names = "--port", defaultValue = "0", paramLabel = "PORT",
        description = "The port (default: any free one; the chosen one is printed).")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", paramLabel = "ADDRESS",
        description = "The address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 for a venue network).")
    String bind;

    @Option(names = "--idle-timeout", defaultValue = "30s", paramLabel = "DURATION",
        converter = Converters.DurationConverter.class,
        description = "Cut a connection that sends nothing this long (default ${DEFAULT-VALUE}).")
    Duration idleTimeout;

    @Option(names = "--port-file", paramLabel = "FILE",
        description = "Write the bound port to FILE once listening (for scripts).")
    Path portFile;
  }

  /** One running server and what it owns; {@link #stop()} closes everything once. */
  static final class Running {
    final ProtocolServer server;
    private final List<Closeable> owned;
    private boolean stopped;

    Running(ProtocolServer server, List<Closeable> owned) {
      this.server = server;
      this.owned = owned;
    }

    synchronized void stop() {
      if (stopped) {
        return;
      }
      stopped = true;
      RUNNING.remove(this);
      try {
        server.close();
      } catch (IOException e) {
        System.err.println("crowdbackup: stopping the server: " + e.getMessage());
      }
      for (Closeable c : owned) {
        try {
          c.close();
        } catch (IOException e) {
          System.err.println("crowdbackup: closing: " + e.getMessage());
        }
      }
    }
  }

  /** Starts, announces, waits for Ctrl-C (or {@link Running#stop()}), stops. */
  static int serve(CommandSpec spec, GlobalOptions globals, Listen listen, ProtocolServer.Builder builder,
      List<Closeable> owned, String what) throws Exception {
    ProtocolServer server = builder.host(listen.bind).port(listen.port).idleTimeout(listen.idleTimeout).build();
    Running running = new Running(server, owned);
    try {
      server.start();
    } catch (IOException e) {
      running.stop();
      throw new CliException(ExitCodes.IO, "LISTEN_FAILED", null, what + ": cannot listen on " + listen.bind + ":"
          + listen.port + ": " + e.getMessage(), e);
    }
    RUNNING.add(running);
    Thread hook = new Thread(running::stop, "crowdbackup-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    if (listen.portFile != null) {
      Files.write(listen.portFile, Integer.toString(server.port()).getBytes(StandardCharsets.US_ASCII));
    }
    PrintWriter out = spec.commandLine().getOut();
    if (globals.json) {
      out.println(Json.obj().put("serving", what).put("url", server.uri().toString()).put("port", server.port()));
    } else {
      out.println(what + " listening on " + server.uri() + "  (Ctrl-C stops)");
    }
    out.flush();
    try {
      server.join();
    } finally {
      running.stop();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it stops everything
      }
    }
    return ExitCodes.OK;
  }

  /**
   * The secret upload URLs are derived from, kept in {@code dir} so that URLs survive a restart; created
   * (owner-only) on first use.
   */
  static byte[] uploadIdSecret(Path dir) throws IOException {
    Path file = dir.resolve(SECRET_FILE);
    if (Files.exists(file)) {
      byte[] b = Files.readAllBytes(file);
      if (b.length != UploadIds.SECRET_BYTES) {
        throw new IOException(file + " is " + b.length + " bytes, expected " + UploadIds.SECRET_BYTES
            + " (damaged? delete it: unfinished uploads then start over)");
      }
      return b;
    }
    byte[] b = new byte[UploadIds.SECRET_BYTES];
    new SecureRandom().nextBytes(b);
    OutputFiles.writeNew(file, b, true);
    return b;
  }

  /** Failures of this device, which peers only see as a 503, go to stderr with their detail. */
  static java.util.function.BiConsumer<String, Throwable> errors(PrintWriter err) {
    return (what, e) -> {
      err.println("crowdbackup: " + what + ": " + e);
      err.flush();
    };
  }

  /**
   * Opens the holder folder {@code dir} with its settings file; uploads from peers are shaped by
   * {@code ingress} ([global, per peer]), reads for forwarding are not.
   */
  static Holder openHolder(Path dir, RateLimit[] ingress) throws CliException {
    HolderSettings settings = HolderSettings.load(dir.resolve(HolderSettings.FILE_NAME));
    try {
      return Holder.open(dir, settings, TimeSource.system(), ingress,
          new RateLimit[] {Holder.UNSHAPED, Holder.UNSHAPED});
    } catch (IOException e) {
      throw Failures.of(dir, e);
    }
  }

  /** Opens the holder folder {@code dir} unshaped. */
  static Holder openHolder(Path dir) throws CliException {
    return openHolder(dir, new RateLimit[] {Holder.UNSHAPED, Holder.UNSHAPED});
  }

  /** [global, per peer] from the options (null: unlimited); a peer never gets more than everyone together. */
  static RateLimit[] ingress(Long global, Long perPeer) {
    RateLimit g = global == null ? Holder.UNSHAPED : RateLimit.perSecond(global);
    long peer = perPeer == null ? g.bytesPerSecond() : Math.min(perPeer, g.bytesPerSecond());
    return new RateLimit[] {g, peer == Holder.UNSHAPED.bytesPerSecond() ? Holder.UNSHAPED : RateLimit.perSecond(peer)};
  }

  @Command(name = "holder", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Hold envelopes for peers at a venue: answer offers, take tus uploads into the store in",
          "DIR (the same folder 'crowdbackup store' uses, with its store.conf), take receipts and releases.",
          "Expired envelopes are evicted every minute."})
  static final class HolderServe extends HasGlobals implements java.util.concurrent.Callable<Integer> {
    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The holder folder.")
    Path dir;

    @Option(names = "--ingress", paramLabel = "RATE", converter = Converters.ByteCountConverter.class,
        description = "Upload bytes per second taken from all peers together, e.g. 4MiB (default: unlimited).")
    Long ingress;

    @Option(names = "--ingress-per-peer", paramLabel = "RATE", converter = Converters.ByteCountConverter.class,
        description = {"Upload bytes per second taken from any one peer, e.g. 1MiB (default: --ingress).",
            "A peer is its address (docs/protocol.md); the global rate bounds them all together."})
    Long ingressPerPeer;

    @picocli.CommandLine.ArgGroup(exclusive = false)
    Listen listen = new Listen();

    @Override
    public Integer call() throws Exception {
      if (ingress != null && ingress > RateLimit.MAX_BYTES_PER_SECOND
          || ingressPerPeer != null && ingressPerPeer > RateLimit.MAX_BYTES_PER_SECOND) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--ingress and --ingress-per-peer "
            + "may be at most " + RateLimit.MAX_BYTES_PER_SECOND + " bytes per second");
      }
      Holder holder = openHolder(dir, ingress(ingress, ingressPerPeer));
      List<Closeable> owned = new ArrayList<>();
      try {
        PrintWriter err = spec.commandLine().getErr();
        HolderProtocol protocol = HolderProtocol.newBuilder(holder.custodian).uploadIdSecret(uploadIdSecret(dir))
            .onError(errors(err)).build();
        ScheduledExecutorService evictor = Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "crowdbackup-evict");
          t.setDaemon(true);
          return t;
        });
        evictor.scheduleWithFixedDelay(() -> {
          try {
            holder.custodian.evictExpired();
          } catch (IOException | RuntimeException e) {
            err.println("crowdbackup: eviction: " + e.getMessage());
          }
        }, 1, 60, TimeUnit.SECONDS);
        owned.add(evictor::shutdownNow);
        owned.add(protocol);
        owned.add(holder);
        return serve(spec, globals, listen, ProtocolServer.newBuilder(protocol::handle).name("crowdbackup-holder"),
            owned, "holder " + dir);
      } catch (IOException | RuntimeException e) {
        holder.close();
        throw e;
      }
    }
  }

  @Command(name = "destination", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Receive envelopes over HTTP into an inbox folder (first copy wins) and answer with",
          "signed receipts; answer holders' 'already delivered?' questions. Uploads are staged in",
          "INBOX/.crowdbackup-uploads until complete. With --relay: peel one layer and forward the inner",
          "envelope to its own header's locator, held in INBOX/.crowdbackup-relay until its receipt verifies.",
          "With --s3 URL --staging DIR instead of --inbox: deliver into an S3-compatible bucket that any",
          "number of destination servers share (docs/s3.md)."})
  static final class DestinationServe extends HasGlobals implements java.util.concurrent.Callable<Integer> {
    static final String STAGING_DIR = ".crowdbackup-uploads";
    static final String RELAY_DIR = ".crowdbackup-relay";
    /** What a relay holds for forwarding at most, as the staging bound of unfinished uploads. */
    static final long RELAY_HOLD_BYTES = 64L << 30;

    @Option(names = "--key", required = true, paramLabel = "KEYFILE", description = "The destination key file.")
    Path key;

    @Option(names = "--inbox", paramLabel = "DIR",
        description = "The inbox folder (created if absent); the relay's outbox with --relay. Not with --s3.")
    Path inbox;

    @Option(names = "--relay", description = {"Relay mode: take only relayed envelopes, forward each inner envelope",
        "to the locator in its header (retried every minute) and keep it until that receipt verifies."})
    boolean relay;

    @Option(names = "--s3", paramLabel = "URL", description = {"Deliver into an S3-compatible bucket instead of an",
        "inbox: s3://BUCKET[/PREFIX][?endpoint=URL&region=R&path-style=true] (docs/s3.md). Credentials and",
        "region come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,",
        "~/.aws), never from the command line. Any number of servers may share one bucket."})
    String s3;

    @Option(names = "--staging", paramLabel = "DIR", description = {"With --s3: the local folder where unfinished",
        "uploads wait (created if absent). Scratch only: losing it makes holders start those uploads over."})
    Path staging;

    @Option(names = "--s3-part-size", paramLabel = "SIZE", converter = Converters.ByteCountConverter.class,
        description = {"With --s3: the multipart part size, 5MiB to 256MiB (default 8MiB). Heap per upload in",
            "flight; the largest file is 10,000 parts."})
    Long s3PartSize;

    @Option(names = "--s3-uploads", paramLabel = "N", description = {"With --s3: deliveries streaming into the",
        "bucket at once, each holding one part buffer (default 4; more wait)."})
    Integer s3Uploads;

    @picocli.CommandLine.ArgGroup(exclusive = false)
    Listen listen = new Listen();

    @Override
    public Integer call() throws Exception {
      if (s3 != null) {
        return callS3();
      }
      if (inbox == null) {
        throw usage("give --inbox DIR (a folder) or --s3 URL (a bucket) to deliver into");
      }
      if (staging != null || s3PartSize != null || s3Uploads != null) {
        throw usage("--staging, --s3-part-size and --s3-uploads go with --s3 only (an inbox destination stages"
            + " in INBOX/" + STAGING_DIR + ")");
      }
      DestinationKeyPair keys = KeyFiles.destination(key);
      Inbox box;
      try {
        box = Inbox.newBuilder().directory(inbox).keys(keys).mode(relay ? Inbox.Mode.RELAY : Inbox.Mode.DESTINATION)
            .open();
      } catch (IOException e) {
        keys.destroy();
        throw Failures.of(inbox, e);
      }
      Custodian custody = null;
      try {
        Path staging = inbox.resolve(STAGING_DIR);
        Files.createDirectories(staging);
        PrintWriter err = spec.commandLine().getErr();
        DeliverySink sink = DeliverySink.inbox(box);
        List<Closeable> owned = new ArrayList<>();
        if (relay) {
          Path held = inbox.resolve(RELAY_DIR);
          RateLimit unshaped = Holder.UNSHAPED;
          custody = Custodian.open(HolderConfig.newBuilder(held).limitBytes(RELAY_HOLD_BYTES).peerSharePercent(100)
              .ingress(unshaped, unshaped).egress(unshaped, unshaped).build());
          Relay r = new Relay(box.directory(), custody, Forwarder.newBuilder(custody).build(), Duration.ofMinutes(1),
              errors(err));
          sink = r.sink(sink);
          owned.add(r);
          owned.add(custody);
        }
        DestinationProtocol protocol = DestinationProtocol.newBuilder(sink, staging)
            .uploadIdSecret(uploadIdSecret(staging)).onError(errors(err)).build();
        owned.add(0, protocol);
        owned.add(box);
        owned.add(keys::destroy);
        return serve(spec, globals, listen, ProtocolServer.newBuilder(protocol::handle)
            .name("crowdbackup-destination"), owned, "destination " + keys.card().locator() + " into " + inbox);
      } catch (IOException | RuntimeException e) {
        if (custody != null) {
          custody.close();
        }
        box.close();
        keys.destroy();
        throw e;
      }
    }

    private picocli.CommandLine.ParameterException usage(String message) {
      return new picocli.CommandLine.ParameterException(spec.commandLine(), message);
    }

    /**
     * The S3 destination: the bucket holds every delivered file, receipt and first-copy record, so this
     * process keeps nothing but the key; the staging folder is scratch for unfinished uploads.
     */
    private int callS3() throws Exception {
      if (relay) {
        throw usage("--relay and --s3 do not go together: a relay keeps the inner envelopes it forwards in its"
            + " --inbox folder and delivers nothing itself; run the S3 destination at the last hop");
      }
      if (inbox != null) {
        throw usage("--inbox and --s3 do not go together: with --s3 the bucket is the inbox (unfinished uploads"
            + " go to --staging)");
      }
      if (staging == null) {
        throw usage("--s3 needs --staging DIR, the local folder where unfinished uploads wait");
      }
      S3Settings settings = s3Settings();
      DestinationKeyPair keys = KeyFiles.destination(key);
      S3DeliverySink sink;
      try {
        sink = S3DeliverySink.open(settings, keys);
      } catch (IOException e) {
        keys.destroy();
        throw s3Failure(e);
      }
      try {
        DestinationProtocol protocol = DestinationProtocol.newBuilder(sink, staging)
            .uploadIdSecret(uploadIdSecret(Files.createDirectories(staging)))
            .onError(errors(spec.commandLine().getErr())).build();
        List<Closeable> owned = new ArrayList<>();
        owned.add(protocol);
        owned.add(sink);
        owned.add(keys::destroy);
        return serve(spec, globals, listen, ProtocolServer.newBuilder(protocol::handle)
            .name("crowdbackup-destination"), owned, "destination " + keys.card().locator() + " into s3://"
            + settings.bucket() + "/" + settings.keyPrefix());
      } catch (IOException | RuntimeException e) {
        sink.close();
        keys.destroy();
        throw e;
      }
    }

    /** {@code --s3} with the part options; a bad URL or value is a usage error naming it. */
    private S3Settings s3Settings() {
      S3Settings parsed;
      try {
        parsed = S3Settings.parse(s3);
      } catch (IllegalArgumentException e) {
        throw usage("--s3: " + e.getMessage());
      }
      if (s3PartSize == null && s3Uploads == null) {
        return parsed;
      }
      // The URL carries where; the options how much memory: rebuilt so that each is checked by the builder.
      S3Settings.Builder b = S3Settings.newBuilder().bucket(parsed.bucket()).keyPrefix(parsed.keyPrefix())
          .pathStyle(parsed.pathStyle());
      if (parsed.endpoint() != null) {
        b.endpoint(parsed.endpoint());
      }
      if (parsed.region() != null) {
        b.region(parsed.region());
      }
      try {
        if (s3PartSize != null) {
          if (s3PartSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("partSizeBytes must be between " + S3Settings.MIN_PART_SIZE_BYTES
                + " and " + S3Settings.MAX_PART_SIZE_BYTES + " but was " + s3PartSize);
          }
          b.partSizeBytes((int) (long) s3PartSize);
        }
        if (s3Uploads != null) {
          b.maxConcurrentUploads(s3Uploads);
        }
      } catch (IllegalArgumentException e) {
        throw usage((s3PartSize != null && e.getMessage().startsWith("partSize") ? "--s3-part-size: "
            : "--s3-uploads: ") + e.getMessage());
      }
      return b.build();
    }

    /** The bucket cannot be used at start (unreachable, missing, access denied): exit 3, as a folder would be. */
    private static CliException s3Failure(IOException e) {
      if (!(e instanceof S3SinkException)) {
        return Failures.of(null, e);
      }
      S3SinkException f = (S3SinkException) e;
      return new CliException(ExitCodes.IO, f.reason().name(), f.object(), "s3: " + f.getMessage(), f);
    }
  }
}
