using Pipeline.Core.Hosting;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Npgsql;
using Pipeline.Kafka.Embedded;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Status;
using Pipeline.Ops.Topics;
using Pipeline.Ops.Workers;

namespace Pipeline.Ops.Local;

/// <summary>Settings of <c>local</c>; each has a command-line option.</summary>
internal sealed record LocalSettings(string PostgresConnectionString, int Brokers, string Bind, int SyslogPort, int HttpPort, string StateDirectory, IReadOnlyList<string> Workers,
    string? StatusBind = null, int OtlpPort = 4318, int WorkerPortBase = 9101)
{
    /// <summary>The /metrics port of a worker: the base plus its place in the catalog, so each keeps its port whichever are started.</summary>
    public int PortOf(Worker worker) => WorkerPortBase + LocalPipeline.KnownWorkers.ToList().IndexOf(worker);
}

/// <summary>
/// <c>local</c>: the whole pipeline on one machine, in the foreground until Ctrl-C. An embedded Kafka
/// cluster (in this process's memory), the private PostgreSQL the caller started, the edge, and every
/// consumer worker, each as its own process. Connection details go to <c>.pipeline/local.env</c>.
/// </summary>
internal static class LocalPipeline
{
    /// <summary>
    /// Local topics have this many times the partitions topics.json gives them. An embedded partition keeps the
    /// newest <see cref="EmbeddedKafkaCluster.PartitionHistoryBytes"/> of batches, so a local run holds this many
    /// times the history it would with production's partition counts (README: how much a local run holds).
    /// </summary>
    public const int PartitionFactor = 4;

    /// <summary>Every worker <c>local</c> knows.</summary>
    public static IReadOnlyList<Worker> KnownWorkers => WorkerCatalog.All;

    public static async Task<int> RunAsync(LocalSettings settings, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });

        Directory.CreateDirectory(settings.StateDirectory);
        using var kafka = EmbeddedKafkaCluster.Start(settings.Brokers);
        // As docker compose runs Kafka: a new group is assigned at once (a tail, a reset start without a 3 s pause).
        kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        // The same topics-as-code step as `topics apply`, creating through the embedded cluster's own call, with
        // more partitions than production: each embedded partition keeps only its newest 5 MiB.
        var file = TopicsFile.Load(RepositoryLayout.TopicsFile);
        foreach (var topic in file.Topics) topic.Partitions *= PartitionFactor;
        var topics = TopicsApplier.Apply(file, new ApplySettings(MaxReplicationFactor: settings.Brokers),
            KafkaConnection.To(kafka.BootstrapServers), new EmbeddedTopicCreator(kafka));
        Console.WriteLine($"[local] topics: {topics.Lines[^1]}");
        Console.WriteLine($"[local] history: the embedded Kafka keeps the newest {EmbeddedKafkaCluster.PartitionHistoryBytes >> 20} MiB of compressed batches per partition " +
            $"({PartitionFactor}x topics.json's partitions here: {string.Join(", ", file.Topics.Take(3).Select(t => $"{t.Name} {t.Partitions}"))}); older events are let go");

        var forgotten = await LocalState.ForgetPositionsAsync(settings.PostgresConnectionString, ["noc_team", "topk"], stop.Token);
        if (forgotten > 0) Console.WriteLine($"[local] a new in-memory Kafka: forgot {forgotten} stored positions and open windows of the previous run");
        var run = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);

        var edgeHttp = $"{settings.Bind}:{settings.HttpPort}";
        var common = new Dictionary<string, string> { ["Kafka__BootstrapServers"] = kafka.BootstrapServers };
        // The workers (not the edge, which only produces) wait briefly on an empty fetch: see ConsumerFetchWait.
        var workerEnvironment = new Dictionary<string, string>(common) { [EmbeddedKafkaCluster.ConsumerFetchWaitSetting.Key] = EmbeddedKafkaCluster.ConsumerFetchWaitSetting.Value };
        // The NOC sink and the top-k aggregator both read Postgres:ConnectionString.
        var withPostgres = new Dictionary<string, string>(workerEnvironment)
        {
            ["Postgres__ConnectionString"] = settings.PostgresConnectionString,
        };
        // The edge on jemalloc where it is installed (JemallocPreload says why), as its container image runs it.
        var edgeEnvironment = new Dictionary<string, string>(common);
        JemallocPreload.AddTo(edgeEnvironment);
        var children = new List<ChildProcess>();
        StatusPage? statusPage = null;
        try
        {
            var edgeDll = RepositoryLayout.Executable("producer/Pipeline.Edge") ?? throw new InvalidOperationException("the edge is not built: run the README's start command");
            children.Add(ChildProcess.Start("edge", edgeDll,
                ["--syslog-udp", $"{settings.Bind}:{settings.SyslogPort}", "--syslog-tcp", $"{settings.Bind}:{settings.SyslogPort}", "--http", edgeHttp,
                 $"--Edge:Spool:Directory={Path.Combine(settings.StateDirectory, "spool")}",
                 // A local run takes HTTP events without a token; production configures Edge:Http:Tokens.
                 "--Edge:Http:AllowAnonymous=true", "--Edge:Http:AnonymousTenant=local",
                 // OTLP's own port, as an OpenTelemetry SDK expects by default (0 leaves it off).
                 .. settings.OtlpPort > 0 ? ["--otlp", $"{settings.Bind}:{settings.OtlpPort}"] : Array.Empty<string>()], edgeEnvironment));

            var started = new List<(string Name, int Port)>();
            string? siemArchive = null;
            foreach (var worker in KnownWorkers.Where(w => settings.Workers.Contains(w.Name)))
            {
                var (name, project, port) = (worker.Name, worker.Project, settings.PortOf(worker));
                var dll = RepositoryLayout.Executable(project);
                if (dll is null)
                {
                    Console.Error.WriteLine($"[local] {name}: {project} is not built; skipped");
                    continue;
                }
                IEnumerable<string> args = ["--http", $"127.0.0.1:{port}"];
                if (name == "files") args = args.Concat(["--output", Path.Combine(settings.StateDirectory, "files")]);
                // The archive's positions refer to this run's Kafka: one archive folder per run.
                if (name == "siem")
                {
                    siemArchive = Path.Combine(settings.StateDirectory, "siem-archive", run);
                    args = args.Concat([$"--Siem:Archive:Directory={siemArchive}"]);
                }
                children.Add(ChildProcess.Start(name, dll, args, name is "noc" or "topk" ? withPostgres : workerEnvironment));
                started.Add((name, port));
            }

            statusPage = await StartStatusPageAsync(settings, kafka.BootstrapServers, edgeHttp, started, siemArchive, stop.Token);
            var envFile = Path.Combine(settings.StateDirectory, "local.env");
            WriteEnvironmentFile(envFile, kafka.BootstrapServers, settings, started, statusPage?.Address, siemArchive);
            PrintBanner(kafka.BootstrapServers, settings, envFile, started, statusPage?.Address);

            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            Console.WriteLine("[local] stopping: the edge first (it flushes to Kafka), then the workers (they finish their batch and leave their groups)");
        }
        finally
        {
            if (statusPage is not null) await statusPage.DisposeAsync();
            // The edge drains into Kafka before the consumers stop, and Kafka outlives them all.
            foreach (var child in children) await child.StopAsync(TimeSpan.FromSeconds(30));
            foreach (var child in children) await child.DisposeAsync();
        }
        return 0;
    }

    /// <summary>
    /// The status page over this run (the same as <c>ops status</c> with the run's addresses). A port already in
    /// use costs the page, not the run.
    /// </summary>
    private static async Task<StatusPage?> StartStatusPageAsync(LocalSettings settings, string bootstrap, string edgeHttp, List<(string Name, int Port)> workers,
        string? archive, CancellationToken cancellationToken)
    {
        if (settings.StatusBind is null) return null;
        var targets = new List<ProcessTarget> { new("edge", ProcessTarget.EdgeRole, new Uri($"http://{edgeHttp}"), null) };
        targets.AddRange(workers.Select(w => new ProcessTarget(w.Name, ProcessTarget.WorkerRole, new Uri($"http://127.0.0.1:{w.Port}"), WorkerCatalog.Find(w.Name)?.Group)));
        var status = new StatusSettings(targets, KafkaConnection.To(bootstrap), ["syslog", "events", "metrics"], [], settings.PostgresConnectionString, archive,
            targets.FirstOrDefault(t => t.Name == "topk")?.Url, TimeSpan.FromSeconds(2));
        try
        {
            return await StatusPage.StartAsync(settings.StatusBind, status, cancellationToken, Environment.GetEnvironmentVariable(StatusServer.TokenVariable));
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"[local] no status page: {settings.StatusBind}: {ex.Message} (choose another with --status-http)");
            return null;
        }
    }

    private static void WriteEnvironmentFile(string path, string bootstrap, LocalSettings settings, List<(string Name, int Port)> workers, Uri? status, string? siemArchive)
    {
        var pg = new NpgsqlConnectionStringBuilder(settings.PostgresConnectionString);
        var text = new StringBuilder();
        text.AppendLine("# Written by the local pipeline while it runs. Load it with:  source .pipeline/local.env");
        text.AppendLine(CultureInfo.InvariantCulture, $"export KAFKA_BOOTSTRAP_SERVERS={Quote(bootstrap)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"export PIPELINE_POSTGRES={Quote(settings.PostgresConnectionString)}");
        text.AppendLine("# a worker started against the embedded Kafka reads this: its brokers hold an empty fetch for the whole wait");
        text.AppendLine(CultureInfo.InvariantCulture, $"export {EmbeddedKafkaCluster.ConsumerFetchWaitSetting.Key}={EmbeddedKafkaCluster.ConsumerFetchWaitSetting.Value}");
        text.AppendLine("# psql reads these, so a bare `psql` connects to the pipeline's database");
        text.AppendLine(CultureInfo.InvariantCulture, $"export PGHOST={Quote(pg.Host ?? "127.0.0.1")} PGPORT={pg.Port} PGUSER={Quote(pg.Username ?? "")} PGDATABASE={Quote(pg.Database ?? "")} PGPASSWORD={Quote(pg.Password ?? "")}");
        text.AppendLine(CultureInfo.InvariantCulture, $"export SYSLOG_HOST={settings.Bind} SYSLOG_PORT={settings.SyslogPort}");
        text.AppendLine(CultureInfo.InvariantCulture, $"export EDGE_URL=http://{settings.Bind}:{settings.HttpPort}");
        if (settings.OtlpPort > 0)
            text.AppendLine(CultureInfo.InvariantCulture, $"export OTEL_EXPORTER_OTLP_ENDPOINT=http://{settings.Bind}:{settings.OtlpPort} OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf");
        foreach (var (name, port) in workers)
            text.AppendLine(CultureInfo.InvariantCulture, $"export {name.ToUpperInvariant()}_URL=http://127.0.0.1:{port}");
        // Where this run's SIEM sink keeps its positions, so `lag`, `reset` and `status` find sec_team's own store.
        if (siemArchive is not null)
            text.AppendLine(CultureInfo.InvariantCulture, $"export {Cli.CommonOptions.SiemArchiveVariable}={Quote(siemArchive)}");
        if (status is not null) text.AppendLine(CultureInfo.InvariantCulture, $"export STATUS_URL={status}");
        File.WriteAllText(path, text.ToString());
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static void PrintBanner(string bootstrap, LocalSettings settings, string envFile, List<(string Name, int Port)> workers, Uri? status)
    {
        var s = settings;
        Console.WriteLine($"""

            ==> The pipeline is running (Ctrl-C stops it).
                Kafka (embedded, in memory)  {bootstrap}
                PostgreSQL (private)         {new NpgsqlConnectionStringBuilder(s.PostgresConnectionString) { Password = null }}
                Edge                         syslog udp+tcp {s.Bind}:{s.SyslogPort}   http http://{s.Bind}:{s.HttpPort}{(s.OtlpPort > 0 ? $"   otlp http://{s.Bind}:{s.OtlpPort}" : "")}
                Workers                      {string.Join("  ", workers.Select(w => $"{w.Name} http://127.0.0.1:{w.Port}/metrics"))}
                Connection details           {envFile}
                Status page                  {status?.ToString() ?? "off"}   (in a terminal: infra/ops.sh top)

              Send syslog:    logger -n {s.Bind} -P {s.SyslogPort} --udp "hello from $(hostname)"
                              logger -n {s.Bind} -P {s.SyslogPort} --tcp --octet-count "hello over tcp"
              Send JSON:      curl -s -XPOST http://{s.Bind}:{s.HttpPort}/v1/events -d '{"{"}"msg":"hi mom"{"}"}'
              Send OTLP:      any OpenTelemetry SDK with OTEL_EXPORTER_OTLP_ENDPOINT (in local.env); apps: docs/send.md
              Look at it:     source {envFile}
                              psql -c 'select received_at, host, app, severity, message from events order by received_at desc limit 10'
                              kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -t syslog -C -o -5 -e
                              curl -s http://{s.Bind}:{s.HttpPort}/metrics | grep edge_events

            """);
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
