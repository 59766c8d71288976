using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pipeline.Consumers.Postgres;
using Pipeline.Consumers.Siem;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Detection;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Core.Hosting;
using Pipeline.Kafka;
using Pipeline.Kafka.Consuming;
using Pipeline.Kafka.Embedded;
using Pipeline.Testing;

namespace Pipeline.Bench;

/// <summary>
/// <c>Pipeline.Bench siem</c>: the SIEM sink on its own — the consumer runtime reading a pre-loaded topic of the
/// embedded cluster, the sink normalising, classifying, detecting and committing its hash-chained archive with
/// fsyncs, with the shipped rules — beside its physical limit (<see cref="ArchiveLimitSink"/>: the same archive
/// records, chained and committed alike, read from the same topic by the same runtime, no parsing) and beside the
/// NOC sink (PostgreSQL) on the same stream. Rounds rotate the order; ratios are taken within a round.
/// </summary>
internal static class SiemBench
{
    private const string Topic = "syslog";

    public static int Run(string[] args)
    {
        var events = BenchSupport.Arg(args, "--events", 400_000);
        // This stream's envelopes carry random hex, ports and pids: about 140 bytes each compressed, so 30,000 to a partition.
        var partitions = BenchSupport.ArgText(args, "--partitions") is { } asked ? int.Parse(asked, CultureInfo.InvariantCulture) : Math.Max(6, (events + 29_999) / 30_000);
        var brokers = BenchSupport.Arg(args, "--brokers", 1);
        var batch = BenchSupport.Arg(args, "--batch-size", 5000);
        var rounds = BenchSupport.Arg(args, "--rounds", 2);
        // "none": only the stage profile.
        var names = (BenchSupport.ArgText(args, "--contenders") ?? "siem,limit,noc").Split(',', StringSplitOptions.RemoveEmptyEntries).Where(n => n != "none").ToArray();
        var output = BenchSupport.ArgText(args, "--out");
        var repository = BenchSupport.Repository();
        var work = Path.Combine(Path.GetTempPath(), "siem-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var stream = new SiemBenchStream(events, 42, new DateTimeOffset(DateTime.UtcNow.Date.AddDays(-1).AddHours(10), TimeSpan.Zero), TimeSpan.FromHours(2));

        using var kafka = EmbeddedKafkaCluster.Start(brokers);
        kafka.CreateTopic(Topic, partitions);
        var clock = Stopwatch.StartNew();
        var records = Produce(kafka, stream, partitions);
        BenchKafka.AssertKeptWhole(kafka.BootstrapServers, Topic, partitions);
        var envelopeBytes = records.Average(r => r.Value.Length);
        Console.WriteLine($"produced {events:N0} envelopes (avg {envelopeBytes:N0} bytes) into {partitions} partitions in {clock.Elapsed.TotalSeconds:F1} s");
        try
        {
            var (profile, prepared) = SiemStageProfile.Run(records, directory => Options(repository, directory), Path.Combine(work, "profile"), batch);
            Console.WriteLine(SiemStageProfile.Table(profile));
            // The records are the cluster's now: the bench process holds no more of them than a sink would.
            records = null!;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            var admin = names.Contains("noc") ? BenchSupport.RunScript(Path.Combine(repository, "infra", "postgres", "cluster.sh"), "start", "--database", "postgres") : null;

            var contenders = new List<Func<int, Result>>();
            foreach (var name in names)
                contenders.Add(name switch
                {
                    "siem" => round => Siem(kafka, Options(repository, Path.Combine(work, $"siem-{round}")), batch, events),
                    "limit" => round => Limit(kafka, Path.Combine(work, $"limit-{round}"), prepared, batch, events),
                    "noc" => _ => NocBenchDatabase.WithDatabase(admin!, stream.Days(), db => Noc(kafka, db, batch, events)),
                    _ => throw new ArgumentException("unknown contender " + name + " (siem, limit, noc)"),
                });
            if (contenders.Count == 0) return 0;
            var results = new List<Result>();
            for (var round = 0; round < rounds; round++)
                for (var k = 0; k < contenders.Count; k++)
                {
                    var result = contenders[(k + round) % contenders.Count](round) with { Round = round };
                    Console.WriteLine($"round {round + 1}: {result.Name}: {result.EventsPerSecond:N0} events/s");
                    results.Add(result);
                    if (Directory.Exists(work)) foreach (var dir in Directory.GetDirectories(work)) Directory.Delete(dir, recursive: true);
                }
            var report = Report(events, partitions, brokers, batch, envelopeBytes, profile, results, args);
            Console.WriteLine(report);
            if (output is not null) File.AppendAllText(output, "\n" + report);
            return 0;
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The shipped appsettings.json's <c>Siem</c> section (rules included), archiving into <paramref name="directory"/>.</summary>
    private static SiemOptions Options(string repository, string directory)
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(repository, "consumers", "Pipeline.Consumers.Siem", "appsettings.json")).Build();
        var options = configuration.GetSection(SiemOptions.Section).Get<SiemOptions>()!;
        options.Archive.Directory = directory;
        options.Validate();
        return options;
    }

    private static Result Siem(EmbeddedKafkaCluster kafka, SiemOptions options, int batch, int events)
    {
        using var registry = new InProcessMetrics();
        var metrics = new SiemMetrics(registry);
        using var archive = ArchiveWriter.Open(options.Archive, TimeProvider.System, metrics, NullLogger<ArchiveWriter>.Instance);
        using var sink = new SiemSink(archive, new EcsNormaliser(new Classifier(options.Classification)), new DetectionEngine(options.Detection), TimeProvider.System,
            metrics, NullLogger<SiemSink>.Instance);
        var result = Consume("SIEM sink (normalise, classify, detect, chained archive, fsync'd commits)", kafka, sink, batch, events);
        var bytes = metrics.ArchiveBytes.Count;
        return result with
        {
            ArchiveBytes = bytes,
            Notes = string.Create(CultureInfo.InvariantCulture,
                $"{metrics.ArchivedAlerts.Count:N0} alerts, {metrics.ArchiveBatches.Count:N0} commits, {metrics.SegmentsSealed.Count:N0} segments sealed, {bytes / (double)events:N0} archive bytes/event"),
        };
    }

    private static Result Limit(EmbeddedKafkaCluster kafka, string directory, PreparedRecords prepared, int batch, int events)
    {
        using var sink = new ArchiveLimitSink(directory, prepared);
        var result = Consume("physical limit (same records, SHA-256 chain, same fsyncs, no parsing)", kafka, sink, batch, events);
        var (_, problem) = ArchiveVerifier.CheckSegment(sink.SegmentPath, sink.Bytes, ArchiveFormat.GenesisHex, 1);
        if (problem is not null) throw new InvalidOperationException("the limit's archive does not verify: " + problem);
        return result with
        {
            ArchiveBytes = sink.Bytes,
            Notes = string.Create(CultureInfo.InvariantCulture, $"{result.Batches:N0} commits, {sink.Bytes / (double)events:N0} archive bytes/event; its archive verifies"),
        };
    }

    private static Result Noc(EmbeddedKafkaCluster kafka, string connectionString, int batch, int events)
    {
        using var dataSource = NpgsqlDataSource.Create(connectionString);
        var sink = new PostgresSink(dataSource, new EventPartitions(dataSource), new MetricPartitions(dataSource), "noc_bench");
        var result = Consume("NOC sink (binary COPY + offsets, one transaction per batch)", kafka, sink, batch, events);
        NocBenchDatabase.CheckEventCount(connectionString, events);
        return result with { Notes = string.Create(CultureInfo.InvariantCulture, $"{result.Batches:N0} transactions; PostgreSQL's CPU is not in the process column") };
    }

    /// <summary>The sink behind the consumer runtime; the clock starts once the group has its partitions and stops when the last record is written.</summary>
    private static Result Consume(string name, EmbeddedKafkaCluster kafka, IBatchSink sink, int batch, int events)
    {
        var measured = new MeasuredSink(sink);
        var options = new ConsumerOptions { Group = "siem_bench_" + Guid.NewGuid().ToString("N")[..8], Topics = Topic, BatchSize = batch };
        // As the SIEM's and the aggregator's appsettings.json: librdkafka's 1 s default stalls reading at ~20k events/s.
        var kafkaOptions = new KafkaOptions { BootstrapServers = kafka.BootstrapServers, Properties = { ["fetch.queue.backoff.ms"] = "20" } };
        using var meters = new UnreadMeters();
        var runtime = new ConsumerRuntime(options, kafkaOptions, measured, meters, new HealthState(), TimeProvider.System, NullLogger<ConsumerRuntime>.Instance);
        runtime.StartAsync(default).GetAwaiter().GetResult();
        try
        {
            BenchSupport.WaitForAssignment(runtime);
            using var self = Process.GetCurrentProcess();
            var processCpu = self.TotalProcessorTime;
            var machine = MachineCpu.Now();
            var sinkCpu = measured.CpuNanoseconds;
            var allocated = GC.GetTotalAllocatedBytes();
            var paused = GC.GetTotalPauseDuration();
            var clock = Stopwatch.StartNew();
            while (measured.Records < events)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(15)) throw new TimeoutException($"{name}: {measured.Records:N0} of {events:N0} after 15 minutes");
                Thread.Sleep(5);
            }
            var elapsed = clock.Elapsed;
            self.Refresh();
            var used = self.TotalProcessorTime - processCpu;
            var busy = MachineCpu.Now() - machine;
            return new Result(name, events, elapsed, used.TotalMicroseconds / events, (measured.CpuNanoseconds - sinkCpu) / 1000.0 / events, busy.Busy, measured.Batches)
            {
                AllocatedPerEvent = (GC.GetTotalAllocatedBytes() - allocated) / (double)events,
                GcPauseShare = (GC.GetTotalPauseDuration() - paused) / elapsed,
            };
        }
        finally
        {
            runtime.StopAsync(default).GetAwaiter().GetResult();
            runtime.Dispose();
        }
    }

    /// <summary>Produces the stream keyed by host, spread evenly (<see cref="BenchKafka"/>); returns each record as it will be read.</summary>
    private static List<ConsumedRecord> Produce(EmbeddedKafkaCluster kafka, SiemBenchStream stream, int partitions) =>
        BenchKafka.ProduceAll(kafka.BootstrapServers, Topic, partitions, stream.Events, stream.Envelopes().Select(e => ((byte[]?)e.Key, e.Envelope)));

    private static string Report(int events, int partitions, int brokers, int batch, double envelopeBytes, SiemStageProfile.Profile profile,
        List<Result> results, string[] args)
    {
        var c = CultureInfo.InvariantCulture;
        var limitName = results.FirstOrDefault(r => r.Name.StartsWith("physical", StringComparison.Ordinal))?.Name;
        double? LimitIn(int round) => results.FirstOrDefault(r => r.Name == limitName && r.Round == round)?.EventsPerSecond;
        var text = new StringBuilder();
        text.AppendLine("### `bench siem`");
        text.AppendLine();
        text.Append(c, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end. ")
            .Append(c, $"{events:N0} syslog envelopes written by the edge's own parser and envelope writer (avg {envelopeBytes:N0} bytes), ")
            .AppendLine(c, $"pre-loaded (lz4, spread evenly) into {partitions} partitions of the embedded cluster ({brokers} broker); batches of up to {batch:N0}; the shipped rules.");
        text.AppendLine();
        text.AppendLine("```");
        text.AppendLine("dotnet bench/Pipeline.Bench/bin/Release/net10.0/linux-x64/Pipeline.Bench.dll siem" + (args.Length > 0 ? " " + string.Join(' ', args) : ""));
        text.AppendLine("```");
        text.AppendLine();
        var rounds = results.Max(r => r.Round) + 1;
        text.AppendLine(c, $"| contender | events/s (median of {rounds}) | each round | vs the limit, same round | process CPU µs/event | sink thread CPU µs/event | allocated B/event | GC pauses | CPU busy (both cores) | notes |");
        text.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var group in results.GroupBy(r => r.Name))
        {
            var runs = group.OrderBy(r => r.Round).ToList();
            var ratios = runs.Where(r => LimitIn(r.Round) is not null).Select(r => r.EventsPerSecond / LimitIn(r.Round)!.Value).ToList();
            text.AppendLine(c, $"| {group.Key} | {BenchSupport.Median(runs.Select(r => r.EventsPerSecond)):N0} | {string.Join(" / ", runs.Select(r => r.EventsPerSecond.ToString("N0", c)))} | " +
                $"{(ratios.Count > 0 ? BenchSupport.Median(ratios).ToString("P0", c) : "")} | {BenchSupport.Median(runs.Select(r => r.ProcessCpuUs)):N1} | {BenchSupport.Median(runs.Select(r => r.SinkCpuUs)):N1} | " +
                $"{BenchSupport.Median(runs.Select(r => r.AllocatedPerEvent)):N0} | {BenchSupport.Median(runs.Select(r => r.GcPauseShare)):P1} | {BenchSupport.Median(runs.Select(r => r.Busy)):P0} | {runs[^1].Notes} |");
        }
        text.AppendLine();
        text.AppendLine(c, $"Where the SIEM sink's time goes ({events:N0} events in batches of {batch:N0}, no Kafka; each stage timed by the thread's CPU clock in a pass of its own on one thread, so the stages need not add up to the whole; the sink's own pass with its worker threads, as it runs):");
        text.AppendLine();
        text.Append(SiemStageProfile.Table(profile));
        text.AppendLine();
        text.AppendLine("Clocks start once the group has its partitions and stop when the last record is written. Process CPU is the bench process (the runtime, the sink and the embedded Kafka cluster serving the reads), as are allocations and GC pauses (the share of the run's wall time); sink thread CPU is the writing thread's CPU inside the sink's write (for the NOC sink only its part before the first await). The limit's document bytes come from an archive the real sink wrote before the measurement (only `event.ingested` differs).");
        return text.ToString();
    }

    private sealed record Result(string Name, long Events, TimeSpan Elapsed, double ProcessCpuUs, double SinkCpuUs, double Busy, long Batches)
    {
        public int Round { get; init; }
        public long ArchiveBytes { get; init; }
        public double AllocatedPerEvent { get; init; }
        public double GcPauseShare { get; init; }
        public string Notes { get; init; } = "";
        public double EventsPerSecond => Events / Elapsed.TotalSeconds;
    }
}
