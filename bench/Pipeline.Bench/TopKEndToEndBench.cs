using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pipeline.Consumers.TopK;
using Pipeline.Consumers.TopK.Extraction;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Core.Hosting;
using Pipeline.Testing;
using Pipeline.Kafka;
using Pipeline.Kafka.Consuming;
using Pipeline.Kafka.Embedded;
using Pipeline.Postgres;

namespace Pipeline.Bench;

/// <summary>
/// <c>Pipeline.Bench topk-e2e</c>: the aggregator as it runs in production — the shared consumer runtime
/// reading an embedded Kafka cluster, the top-k sink checkpointing into a real PostgreSQL (at the default interval of 1 s, at 5 s and after every batch)
/// (infra/postgres/cluster.sh) — against the same runtime on the same topic feeding exact in-memory
/// dictionaries that store nothing (the ceiling of the read path). The difference is what durable,
/// exactly-once checkpoints cost.
/// </summary>
internal static class TopKEndToEndBench
{
    public static int Run(string[] args)
    {
        var events = BenchSupport.Arg(args, "--events", 1_000_000);
        var partitions = BenchKafka.PartitionsFor(events, BenchSupport.ArgText(args, "--partitions") is { } asked ? int.Parse(asked, CultureInfo.InvariantCulture) : null);
        var batch = BenchSupport.Arg(args, "--batch-size", 5000);
        var output = BenchSupport.ArgText(args, "--out");
        var repository = BenchSupport.Repository();
        var start = new DateTimeOffset(2025, 3, 14, 12, 0, 0, TimeSpan.Zero);

        using var kafka = EmbeddedKafkaCluster.Start(1);
        const string Topic = "syslog";
        kafka.CreateTopic(Topic, partitions);
        var clock = Stopwatch.StartNew();
        Produce(kafka, Topic, partitions, new TopKBenchStream(events, 42, start, TimeSpan.FromHours(1)));
        BenchKafka.AssertKeptWhole(kafka.BootstrapServers, Topic, partitions);
        Console.WriteLine($"produced {events:N0} envelopes into {partitions} partitions in {clock.Elapsed.TotalSeconds:F1} s");

        var admin = BenchSupport.RunScript(Path.Combine(repository, "infra", "postgres", "cluster.sh"), "start", "--database", "postgres");
        var database = "topk_bench_" + Guid.NewGuid().ToString("N")[..8];
        using (var connection = new NpgsqlConnection(admin))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"create database {database}", connection);
            create.ExecuteNonQuery();
        }
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
            // Each interval in its own consumer group (and so its own rows): every run reads the whole topic.
            var intervals = (BenchSupport.ArgText(args, "--checkpoint-intervals") ?? "1,5,0").Split(',')
                .Select(i => TimeSpan.FromSeconds(double.Parse(i, CultureInfo.InvariantCulture))).ToList();
            var topk = intervals.Select((interval, i) => RunTopK(kafka, Topic, connectionString, batch, events, interval, "topk" + i)).ToList();
            var exact = RunExact(kafka, Topic, batch, events);
            var report = Report(events, partitions, batch, topk, exact, args);
            Console.WriteLine(report);
            if (output is not null) File.AppendAllText(output, "\n" + report);
            return 0;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            using var connection = new NpgsqlConnection(admin);
            connection.Open();
            using var drop = new NpgsqlCommand($"drop database if exists {database} with (force)", connection);
            drop.ExecuteNonQuery();
        }
    }

    private static Result RunTopK(EmbeddedKafkaCluster kafka, string topic, string connectionString, int batch, int events, TimeSpan interval, string group)
    {
        using var dataSource = NpgsqlDataSource.Create(connectionString);
        Migrator.ApplyCoreAsync(dataSource, default).GetAwaiter().GetResult();
        Migrator.ApplyAsync(dataSource, typeof(TopKSink).Assembly, ["topk"], default).GetAwaiter().GetResult();
        var options = new TopKOptions { ConnectionString = connectionString, CheckpointInterval = interval };
        using var registry = new InProcessMetrics();
        var metrics = new TopKMetrics(registry, group, options.Granularities);
        var store = new TopKStore(dataSource, group);
        using var sink = new TopKSink(new TopKAggregator(AggregatorSettings.From(options)), store, metrics, options, TimeProvider.System, NullLogger<TopKSink>.Instance);
        // The process's close tick, as TopKCloser runs it: it also stores what batches left pending.
        using var stop = new CancellationTokenSource();
        var ticks = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(options.CloseInterval);
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false)) await sink.CloseDueAsync(stop.Token).ConfigureAwait(false);
        });
        // Counted: in memory, as the exact run counts. Stored: offsets in PostgreSQL, checked after (exactly-once is
        // only done once the last checkpoint is in).
        var (elapsed, steady, storedAfter) = Consume(kafka, topic, group, batch, sink, registry, () => metrics.Applied.Count, () =>
        {
            using var connection = dataSource.OpenConnection();
            using var command = new NpgsqlCommand("select coalesce(sum(next_offset), 0)::bigint from consumer_offsets where group_id = $1", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = group });
            return (long)command.ExecuteScalar()!;
        }, events);
        stop.Cancel();
        try
        {
            ticks.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }
        using var size = dataSource.OpenConnection();
        using var bytes = new NpgsqlCommand("select coalesce(sum(octet_length(sketch)), 0)::bigint from topk_windows where group_id = $1", size);
        bytes.Parameters.Add(new NpgsqlParameter { Value = group });
        var stored = (long)bytes.ExecuteScalar()!;
        return new Result($"top-k sink, PostgreSQL checkpoints (interval {options.CheckpointInterval.TotalSeconds:0.###} s)", events, elapsed, steady, storedAfter, PeakWorkingSet(),
            $"{metrics.Checkpoints.Count:N0} checkpoints, {metrics.CheckpointBytes.Count / 1024.0 / 1024.0:N0} MiB of sketches written; {stored / 1024.0 / 1024.0:N1} MiB of sketches stored at the end");
    }

    private static Result RunExact(EmbeddedKafkaCluster kafka, string topic, int batch, int events)
    {
        var sink = new ExactCountingSink(AggregatorSettings.From(new TopKOptions()));
        var (elapsed, steady, _) = Consume(kafka, topic, "exact", batch, sink, new InProcessMetrics(), () => Interlocked.Read(ref sink.Records), null, events);
        return new Result("exact dictionaries in memory, nothing stored", events, elapsed, steady, null, PeakWorkingSet(), $"{sink.Keys:N0} exact keys held");
    }

    private static (TimeSpan Elapsed, double Steady, TimeSpan? Stored) Consume(EmbeddedKafkaCluster kafka, string topic, string group, int batch, IBatchSink sink,
        InProcessMetrics registry, Func<long> counted, Func<long>? stored, int events)
    {
        var options = new ConsumerOptions { Group = group, Topics = topic, BatchSize = batch, BatchMaxWait = TimeSpan.FromMilliseconds(500) };
        // As the aggregator's appsettings.json does: without it librdkafka pauses 1 s whenever the 8 MiB prefetch queue is full.
        var kafkaOptions = new KafkaOptions { BootstrapServers = kafka.BootstrapServers, Properties = { ["fetch.queue.backoff.ms"] = "20" } };
        var runtime = new ConsumerRuntime(options, kafkaOptions, sink, registry, new HealthState(), TimeProvider.System, NullLogger<ConsumerRuntime>.Instance);
        var clock = Stopwatch.StartNew();
        runtime.StartAsync(default).GetAwaiter().GetResult();
        try
        {
            var first = TimeSpan.Zero;
            var firstCount = 0L;
            long count;
            while ((count = counted()) < events)
            {
                if (count > 0 && first == TimeSpan.Zero)
                {
                    first = clock.Elapsed;
                    firstCount = count;
                }
                if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException($"{group}: not done after 10 minutes");
                Thread.Sleep(20);
            }
            var elapsed = clock.Elapsed;
            var steady = (events - firstCount) / (elapsed - first).TotalSeconds;
            if (stored is null) return (elapsed, steady, null);
            while (stored() < events)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException($"{group}: not stored after 10 minutes");
                Thread.Sleep(20);
            }
            return (elapsed, steady, clock.Elapsed);
        }
        finally
        {
            runtime.StopAsync(default).GetAwaiter().GetResult();
            runtime.Dispose();
        }
    }

    /// <summary>Produces the stream keyed by host, spread evenly over the partitions (<see cref="BenchKafka"/>).</summary>
    private static void Produce(EmbeddedKafkaCluster kafka, string topic, int partitions, TopKBenchStream stream)
    {
        using var producer = BenchKafka.Producer(kafka.BootstrapServers);
        var generator = stream.Open(50_000);
        var spans = new List<(int Offset, int Length)>();
        var scanner = new EnvelopeScanner([]);
        var scanned = new ScannedEvent(0);
        long n = 0;
        while (generator.Next(spans, out var buffer))
        {
            foreach (var (offset, length) in spans)
            {
                var value = buffer.Slice(offset, length).ToArray();
                scanner.Scan(value, scanned);
                var key = scanned.Text(scanned.Host).ToArray();
                BenchKafka.Send(producer, topic, partitions, n++, new Message<byte[]?, byte[]> { Key = key, Value = value });
            }
        }
        if (producer.Flush(TimeSpan.FromMinutes(2)) > 0) throw new InvalidOperationException("not every envelope was acknowledged");
    }

    private static string Report(int events, int partitions, int batch, IReadOnlyList<Result> topk, Result exact, string[] args)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("## End to end: embedded Kafka → consumer runtime → sink");
        text.AppendLine();
        text.AppendLine(c, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. {events:N0} envelopes of the same generated stream, pre-loaded (lz4, spread evenly) into {partitions} partitions of the embedded (librdkafka mock) cluster; batch size {batch}; PostgreSQL 15 from infra/postgres/cluster.sh on the same 2 cores.");
        text.AppendLine();
        text.AppendLine("```");
        text.AppendLine("dotnet run -c Release --project bench/Pipeline.Bench --no-build -- topk-e2e" + (args.Length > 0 ? " " + string.Join(' ', args) : ""));
        text.AppendLine("```");
        text.AppendLine();
        text.AppendLine("| run | events/s counted, after the first batch | seconds from start until all counted (group join included) | ... until all stored | peak working set of the bench process | notes |");
        text.AppendLine("|---|---:|---:|---:|---:|---|");
        foreach (var r in topk.Append(exact))
            text.AppendLine(c, $"| {r.Name} | {r.Steady:N0} | {r.Elapsed.TotalSeconds:F1} | {(r.Stored is { } at ? at.TotalSeconds.ToString("F1", c) : "-")} | {r.PeakWorkingSet / 1024.0 / 1024.0:N0} MiB | {r.Notes} |");
        text.AppendLine();
        text.AppendLine(c, $"Ratios to the in-memory ceiling of the same read path: {string.Join("; ", topk.Select(r => $"{r.Name}: {r.Steady / exact.Steady:P0}"))}. Every run set `fetch.queue.backoff.ms=20` as the aggregator's appsettings.json does (librdkafka's default of 1 s stalls the runtime's 8 MiB prefetch queue: about 20k events/s here whatever the sink). The working set includes the embedded Kafka cluster holding the stream.");
        return text.ToString();
    }

    private static long PeakWorkingSet()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    private sealed record Result(string Name, long Events, TimeSpan Elapsed, double Steady, TimeSpan? Stored, long PeakWorkingSet, string Notes);

    /// <summary>Exact counts per (window, dimension) in memory, committed to Kafka by the runtime: nothing durable, the read path's ceiling.</summary>
    private sealed class ExactCountingSink(AggregatorSettings settings) : IBatchSink
    {
        private readonly KeyExtractor _keys = new(settings.Dimensions, settings.MaxKeyLength);
        private readonly Dictionary<(int, long, int), Dictionary<string, long>> _counts = [];
        private (EnvelopeScanner Scanner, ScannedEvent Event)? _scan;
        public long Records;

        public long Keys => _counts.Values.Sum(d => (long)d.Count);

        public OffsetStorage OffsetStorage => OffsetStorage.Kafka;

        public Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<PartitionKey, long>>(new Dictionary<PartitionKey, long>());

        public Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
        {
            var (scanner, e) = _scan ??= _keys.NewScanner();
            var chars = new char[4096];
            foreach (var record in batch.Records)
            {
                if (!scanner.Scan(record.Value, e) || e.ReceivedAt is not { } at) continue;
                var weight = (long)Math.Max(1, e.SampleRate);
                for (var d = 0; d < settings.Dimensions.Count; d++)
                {
                    var utf8 = _keys.KeyOf(d, e);
                    if (utf8.IsEmpty) continue;
                    var key = chars.AsSpan(0, Encoding.UTF8.GetChars(utf8, chars));
                    for (var g = 0; g < settings.Granularities.Count; g++)
                    {
                        var slotKey = (g, settings.Granularities[g].StartTicks(at), d);
                        if (!_counts.TryGetValue(slotKey, out var counts)) _counts[slotKey] = counts = new Dictionary<string, long>(StringComparer.Ordinal);
                        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(counts.GetAlternateLookup<ReadOnlySpan<char>>(), key, out _);
                        slot += weight;
                    }
                }
            }
            Interlocked.Add(ref Records, batch.Records.Count);
            return Task.CompletedTask;
        }
    }
}
