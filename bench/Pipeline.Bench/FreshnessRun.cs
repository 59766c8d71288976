using Pipeline.Core.Hosting;
using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Pipeline.Kafka.Embedded;

namespace Pipeline.Bench;

/// <summary>
/// One rate of the e2e bench: starts Kafka, the edge and the workers cold, sends over TCP for the set time, scrapes
/// each worker once the steady part begins and again once it has written everything, then stops them all and drops
/// the run's database. Everything it starts is gone when it returns, so each rate starts as cold as the first.
/// </summary>
internal static class FreshnessRun
{
    private static readonly Worker[] Workers =
    [
        new("noc", "consumers/Pipeline.Consumers.Postgres", "noc_team"),
        new("siem", "consumers/Pipeline.Consumers.Siem", "sec_team"),
        new("topk", "consumers/Pipeline.Consumers.TopK", "topk"),
    ];

    private sealed record Worker(string Name, string Project, string Group);

    public static async Task<FreshnessRunResult> RunAsync(string root, string admin, int rate, FreshnessSettings settings)
    {
        Console.Error.WriteLine($"[e2e] {rate:N0} events/s for {settings.Seconds} s: starting Kafka, the edge and {Workers.Length} workers cold");
        using var kafka = EmbeddedKafkaCluster.Start(settings.Brokers);
        // As `ops local` and docker-compose.yml run Kafka: a new group is assigned at once.
        kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        foreach (var topic in new[] { "syslog", "events", "metrics" }) kafka.CreateTopic(topic, settings.Partitions);
        kafka.CreateTopic("alerts", 3);
        kafka.CreateTopic("topk", 3);
        var database = $"e2e_{rate}_{Guid.NewGuid():N}"[..24];
        BenchSupport.Execute(admin, $"create database {database}");
        var postgres = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
        var work = Directory.CreateTempSubdirectory("e2e-").FullName;
        var processes = new List<(Worker? Worker, BenchProcess Process, int HttpPort)>();
        try
        {
            var syslogPort = BenchSupport.FreePort();
            var edgeHttp = BenchSupport.FreePort();
            // The edge on jemalloc, as `ops local` starts it (unless --env names an LD_PRELOAD).
            var edgeEnvironment = Environment(settings);
            JemallocPreload.AddTo(edgeEnvironment);
            var edge = BenchProcess.Start("edge", "dotnet", [Dll(root, "producer/Pipeline.Edge"), "--kafka", kafka.BootstrapServers,
                "--syslog-udp", $"127.0.0.1:{syslogPort}", "--syslog-tcp", $"127.0.0.1:{syslogPort}", "--http", $"127.0.0.1:{edgeHttp}",
                "--spool", Path.Combine(work, "spool"), "--Edge:Http:AllowAnonymous=true", .. settings.EdgeArgs], edgeEnvironment);
            processes.Add((null, edge, edgeHttp));
            foreach (var worker in Workers)
            {
                var port = BenchSupport.FreePort();
                var env = Environment(settings);
                env["Postgres__ConnectionString"] = postgres;
                // As `ops local` starts its workers against the embedded Kafka (unless --env says otherwise).
                env.TryAdd(EmbeddedKafkaCluster.ConsumerFetchWaitSetting.Key, EmbeddedKafkaCluster.ConsumerFetchWaitSetting.Value);
                processes.Add((worker, BenchProcess.Start(worker.Name, "dotnet", [Dll(root, worker.Project), "--kafka", kafka.BootstrapServers,
                    "--http", $"127.0.0.1:{port}", $"--Siem:Archive:Directory={Path.Combine(work, "archive")}", .. settings.WorkerArgs], env), port));
            }
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            // By default sending starts as soon as the edge takes connections: the workers may still be starting (their start-up
            // counts). --start-when assigned waits for each worker to hold its partitions: a pipeline just started, all running.
            await WaitHealthyAsync(http, edge, edgeHttp);
            if (settings.StartWhen == FreshnessStart.WorkersAssigned)
                foreach (var (worker, process, port) in processes.Where(p => p.Worker is not null))
                    await WaitAssignedAsync(http, process, port, worker!.Group);
            var cpuAtStart = processes.Select(p => p.Process.CpuSeconds()).ToArray();
            var hostCpuAtStart = HostCpu();
            var startedAt = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            var sending = LoadSenders.SendTcpPacedAsync(syslogPort, rate, TimeSpan.FromSeconds(settings.Seconds));

            await Task.Delay(TimeSpan.FromSeconds(Math.Min(settings.SteadyAfter, settings.Seconds)));
            var early = new Dictionary<string, (PromHistogram Freshness, PromHistogram Writes, PromHistogram Batches)>();
            foreach (var (worker, _, port) in processes.Where(p => p.Worker is not null))
                early[worker!.Group] = PromScrape.ConsumerHistograms(await PromScrape.ScrapeAsync(http, port), worker.Group);

            var sent = await sending;
            var sendSeconds = clock.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"[e2e] sent {sent:N0} in {sendSeconds:F1} s; waiting for every group to write them all");

            var caughtUp = new Dictionary<string, double>();
            var cpuAtEnd = new double[processes.Count];
            var deadline = clock.Elapsed + TimeSpan.FromMinutes(5);
            while (caughtUp.Count < Workers.Length && clock.Elapsed < deadline)
            {
                for (var i = 0; i < processes.Count; i++)
                {
                    if (processes[i].Worker is not { } worker || caughtUp.ContainsKey(worker.Group)) continue;
                    var written = PromScrape.Sum(await PromScrape.ScrapeAsync(http, processes[i].HttpPort), "consumer_records_total", ("group", worker.Group), ("outcome", "written"));
                    if (written < sent) continue;
                    caughtUp[worker.Group] = Math.Max(0, clock.Elapsed.TotalSeconds - sendSeconds);
                    cpuAtEnd[i] = processes[i].Process.CpuSeconds();
                }
                await Task.Delay(100);
            }
            cpuAtEnd[0] = processes[0].Process.CpuSeconds();
            var hostCpu = HostCpu() - hostCpuAtStart;

            var groups = new List<FreshnessGroupResult>();
            for (var i = 0; i < processes.Count; i++)
            {
                if (processes[i].Worker is not { } worker) continue;
                var text = await PromScrape.ScrapeAsync(http, processes[i].HttpPort);
                var (whole, writes, batches) = PromScrape.ConsumerHistograms(text, worker.Group);
                var done = caughtUp.TryGetValue(worker.Group, out var seconds);
                if (!done)
                {
                    cpuAtEnd[i] = processes[i].Process.CpuSeconds();
                    // What a worker that fell short said last is what the reader needs to know why.
                    Console.Error.WriteLine($"[e2e] {worker.Group} did not write everything; its last output:\n{string.Join('\n', processes[i].Process.Output.TakeLast(30))}");
                }
                var before = early[worker.Group];
                groups.Add(new FreshnessGroupResult(worker.Group, whole, whole.Since(before.Freshness), done ? seconds : double.NaN,
                    cpuAtEnd[i] - cpuAtStart[i], (long)PromScrape.Sum(text, "consumer_records_total", ("group", worker.Group), ("outcome", "written")),
                    writes.Since(before.Writes), batches.Since(before.Batches)));
            }
            var edgeAck = PromHistogram.Parse(await PromScrape.ScrapeAsync(http, edgeHttp), "edge_receive_to_ack_seconds");
            var result = new FreshnessRunResult(rate, sent, sendSeconds, groups, edgeAck, cpuAtEnd[0] - cpuAtStart[0], hostCpu,
                NocExact(postgres, null), NocExact(postgres, startedAt + TimeSpan.FromSeconds(settings.SteadyAfter)),
                NocStartup.Read(postgres, startedAt, FreshnessRunResult.StartUpSeconds));
            foreach (var g in groups)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[e2e] {rate,6}/s {g.Group,-9} p50 {g.Whole.Quantile(0.5):F3} p99 {g.Whole.Quantile(0.99):F3} max<= {g.Whole.MaxBound()} | after {settings.SteadyAfter}s p50 {g.Steady.Quantile(0.5):F3} p99 {g.Steady.Quantile(0.99):F3} | catch-up {g.CatchUpSeconds:F1}s written {g.Written:N0}"));
            return result;
        }
        finally
        {
            foreach (var (_, process, _) in processes) process.Dispose();
            Directory.Delete(work, recursive: true);
            BenchSupport.Execute(admin, $"drop database if exists {database} with (force)");
        }
    }

    /// <summary>The NOC's freshness exactly, from its table rather than a histogram's buckets: rows received since <paramref name="from"/> (all without it).</summary>
    private static (long Rows, double P50, double P99, double Max) NocExact(string postgres, DateTimeOffset? from)
    {
        using var connection = new NpgsqlConnection(postgres);
        connection.Open();
        using var command = new NpgsqlCommand("""
            select count(*), coalesce(percentile_cont(0.5) within group (order by f), 'NaN'), coalesce(percentile_cont(0.99) within group (order by f), 'NaN'), coalesce(max(f), 'NaN')
            from (select extract(epoch from inserted_at - received_at)::float8 as f from events where received_at >= $1) t
            """, connection);
        command.Parameters.AddWithValue((from ?? DateTimeOffset.UnixEpoch).UtcDateTime);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3));
    }

    private static Dictionary<string, string> Environment(FreshnessSettings settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_gcServer"] = "0",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in settings.Environment) environment[key] = value;
        return environment;
    }

    private static string Dll(string root, string project) =>
        // As deployed: the ReadyToRun publish every build makes (Directory.Build.targets), not the JIT-only build output.
        Path.Combine(root, project, "bin", "Release", "net10.0", "linux-x64", "publish", Path.GetFileName(project) + ".dll");

    /// <summary>Waits for <c>/healthz</c>; a process that exits meanwhile ends the run with its last output.</summary>
    private static Task WaitHealthyAsync(HttpClient http, BenchProcess process, int port) =>
        WaitForAsync(process, "not healthy", async () =>
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        });

    /// <summary>Waits until the worker's member holds partitions of its topics (its group joined, its start positions loaded).</summary>
    private static async Task WaitAssignedAsync(HttpClient http, BenchProcess process, int port, string group)
    {
        await WaitHealthyAsync(http, process, port);
        await WaitForAsync(process, "holds no partitions", async () =>
            PromScrape.Sum(await PromScrape.ScrapeAsync(http, port), "consumer_partitions_assigned", ("group", group)) > 0);
    }

    /// <summary>Polls <paramref name="ready"/> for up to two minutes; a process that exits meanwhile ends the run with its last output.</summary>
    private static async Task WaitForAsync(BenchProcess process, string failure, Func<Task<bool>> ready)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"{process.Name} exited:\n{string.Join('\n', process.Output.TakeLast(20))}");
            if (await ready()) return;
            await Task.Delay(20);
        }
        throw new TimeoutException($"{process.Name} {failure}");
    }

    /// <summary>CPU of this process (the embedded Kafka cluster and the sender).</summary>
    private static double HostCpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
}
