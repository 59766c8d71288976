using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Pipeline.Kafka.Embedded;

namespace Pipeline.Bench;

/// <summary>
/// <c>e2e</c>: the whole pipeline from a cold start — an embedded Kafka cluster, the edge, and the NOC, SIEM and
/// top-k workers, each its own process as in production — fed a steady load over TCP at fixed rates. Reports, per
/// group, freshness (the edge's receipt to the end of the sink's write) from each worker's own
/// <c>consumer_freshness_seconds</c> histogram over the whole run and after its first seconds, the catch-up time once
/// sending stops, and the CPU each process spent per event. The NOC figures are checked exactly against its table
/// (<c>inserted_at − received_at</c>, to the transaction's start).
/// </summary>
internal static class FreshnessBench
{
    private static readonly Worker[] Workers =
    [
        new("noc", "consumers/Pipeline.Consumers.Postgres", "noc_team"),
        new("siem", "consumers/Pipeline.Consumers.Siem", "sec_team"),
        new("topk", "consumers/Pipeline.Consumers.TopK", "topk"),
    ];

    private sealed record Worker(string Name, string Project, string Group);

    private sealed record Settings(int Seconds, int SteadyAfter, int Partitions, int Brokers, string[] EdgeArgs, string[] WorkerArgs,
        IReadOnlyDictionary<string, string> Environment);

    private sealed record GroupResult(string Group, PromHistogram Whole, PromHistogram Steady, double CatchUpSeconds, double CpuSeconds, long Written,
        PromHistogram SteadyWrites, PromHistogram SteadyBatches);

    private sealed record RunResult(int Rate, long Sent, double SendSeconds, List<GroupResult> Groups, PromHistogram EdgeAck, double EdgeCpu, double HostCpu,
        (long Rows, double P50, double P99, double Max) NocWhole, (long Rows, double P50, double P99, double Max) NocSteady, NocStartup.Timeline NocStart);

    public static async Task<int> RunAsync(string[] args)
    {
        var rates = (BenchSupport.ArgText(args, "--rates") ?? "1000,10000,30000").Split(',').Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToArray();
        var settings = new Settings(
            BenchSupport.Arg(args, "--seconds", 60),
            BenchSupport.Arg(args, "--steady-after", 30),
            BenchSupport.Arg(args, "--partitions", 12),
            BenchSupport.Arg(args, "--brokers", 3),
            (BenchSupport.ArgText(args, "--edge-args") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
            (BenchSupport.ArgText(args, "--worker-args") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
            // e.g. --env "DOTNET_TieredPGO=0" for every process started: for experiments on start-up.
            (BenchSupport.ArgText(args, "--env") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]));
        var root = BenchSupport.Repository();
        var output = BenchSupport.ArgText(args, "--out") ?? Path.Combine(root, "bench", "results", $"e2e-{DateTime.UtcNow:yyyyMMdd-HHmmss}.md");
        var admin = BenchSupport.RunScript(Path.Combine(root, "infra", "postgres", "cluster.sh"), "start", "--database", "postgres");
        var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];

        // --ladder: rates in ascending order, stopping after the first one at which some group does not keep up.
        var ladder = args.Contains("--ladder");
        var results = new List<RunResult>();
        foreach (var rate in ladder ? rates.Order() : rates.AsEnumerable())
        {
            results.Add(await RunOnceAsync(root, admin, rate, settings));
            if (ladder && !KeepsUp(results[^1])) break;
        }

        var report = Report(results, settings, load);
        Console.WriteLine(report);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await File.WriteAllTextAsync(output, report);
        Console.Error.WriteLine($"[bench] written to {output}");
        return 0;
    }

    private static async Task<RunResult> RunOnceAsync(string root, string admin, int rate, Settings settings)
    {
        Console.Error.WriteLine($"[e2e] {rate:N0} events/s for {settings.Seconds} s: starting Kafka, the edge and {Workers.Length} workers cold");
        using var kafka = EmbeddedKafkaCluster.Start(settings.Brokers);
        // As `ops local` and docker-compose.yml run Kafka: a new group is assigned at once.
        kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        foreach (var topic in new[] { "syslog", "events", "metrics" }) kafka.CreateTopic(topic, settings.Partitions);
        kafka.CreateTopic("alerts", 3);
        kafka.CreateTopic("topk", 3);
        var database = $"e2e_{rate}_{Guid.NewGuid():N}"[..24];
        Execute(admin, $"create database {database}");
        var postgres = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
        var work = Directory.CreateTempSubdirectory("e2e-").FullName;
        var processes = new List<(Worker? Worker, BenchProcess Process, int HttpPort)>();
        try
        {
            var syslogPort = FreePort();
            var edgeHttp = FreePort();
            var edge = BenchProcess.Start("edge", "dotnet", [Dll(root, "producer/Pipeline.Edge"), "--kafka", kafka.BootstrapServers,
                "--syslog-udp", $"127.0.0.1:{syslogPort}", "--syslog-tcp", $"127.0.0.1:{syslogPort}", "--http", $"127.0.0.1:{edgeHttp}",
                "--spool", Path.Combine(work, "spool"), "--Edge:Http:AllowAnonymous=true", .. settings.EdgeArgs], Environment(settings));
            processes.Add((null, edge, edgeHttp));
            foreach (var worker in Workers)
            {
                var port = FreePort();
                var env = Environment(settings);
                env["Postgres__ConnectionString"] = postgres;
                // As `ops local` starts its workers against the embedded Kafka (unless --env says otherwise).
                env.TryAdd(EmbeddedKafkaCluster.ConsumerFetchWaitSetting.Key, EmbeddedKafkaCluster.ConsumerFetchWaitSetting.Value);
                processes.Add((worker, BenchProcess.Start(worker.Name, "dotnet", [Dll(root, worker.Project), "--kafka", kafka.BootstrapServers,
                    "--http", $"127.0.0.1:{port}", $"--Siem:Archive:Directory={Path.Combine(work, "archive")}", .. settings.WorkerArgs], env), port));
            }
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            // Sending starts as soon as the edge takes connections: the workers may still be starting (a cold start).
            await WaitHealthyAsync(http, edge, edgeHttp);
            var cpuAtStart = processes.Select(p => p.Process.CpuSeconds()).ToArray();
            var hostCpuAtStart = HostCpu();
            var startedAt = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            var sending = LoadSenders.SendTcpPacedAsync(syslogPort, rate, TimeSpan.FromSeconds(settings.Seconds));

            await Task.Delay(TimeSpan.FromSeconds(Math.Min(settings.SteadyAfter, settings.Seconds)));
            var early = new Dictionary<string, (PromHistogram Freshness, PromHistogram Writes, PromHistogram Batches)>();
            foreach (var (worker, _, port) in processes.Where(p => p.Worker is not null))
                early[worker!.Group] = Histograms(await ScrapeAsync(http, port), worker.Group);

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
                    var written = Sum(await ScrapeAsync(http, processes[i].HttpPort), "consumer_records_total", ("group", worker.Group), ("outcome", "written"));
                    if (written < sent) continue;
                    caughtUp[worker.Group] = Math.Max(0, clock.Elapsed.TotalSeconds - sendSeconds);
                    cpuAtEnd[i] = processes[i].Process.CpuSeconds();
                }
                await Task.Delay(100);
            }
            cpuAtEnd[0] = processes[0].Process.CpuSeconds();
            var hostCpu = HostCpu() - hostCpuAtStart;

            var groups = new List<GroupResult>();
            for (var i = 0; i < processes.Count; i++)
            {
                if (processes[i].Worker is not { } worker) continue;
                var text = await ScrapeAsync(http, processes[i].HttpPort);
                var (whole, writes, batches) = Histograms(text, worker.Group);
                var done = caughtUp.TryGetValue(worker.Group, out var seconds);
                if (!done)
                {
                    cpuAtEnd[i] = processes[i].Process.CpuSeconds();
                    // What a worker that fell short said last is what the reader needs to know why.
                    Console.Error.WriteLine($"[e2e] {worker.Group} did not write everything; its last output:\n{string.Join('\n', processes[i].Process.Output.TakeLast(30))}");
                }
                var before = early[worker.Group];
                groups.Add(new GroupResult(worker.Group, whole, whole.Since(before.Freshness), done ? seconds : double.NaN,
                    cpuAtEnd[i] - cpuAtStart[i], (long)Sum(text, "consumer_records_total", ("group", worker.Group), ("outcome", "written")),
                    writes.Since(before.Writes), batches.Since(before.Batches)));
            }
            var edgeAck = PromHistogram.Parse(await ScrapeAsync(http, edgeHttp), "edge_receive_to_ack_seconds");
            var result = new RunResult(rate, sent, sendSeconds, groups, edgeAck, cpuAtEnd[0] - cpuAtStart[0], hostCpu,
                NocExact(postgres, null), NocExact(postgres, startedAt + TimeSpan.FromSeconds(settings.SteadyAfter)), NocStartup.Read(postgres, startedAt, StartUpSeconds));
            foreach (var g in groups)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[e2e] {rate,6}/s {g.Group,-9} p50 {g.Whole.Quantile(0.5):F3} p99 {g.Whole.Quantile(0.99):F3} max<= {g.Whole.MaxBound()} | after {settings.SteadyAfter}s p50 {g.Steady.Quantile(0.5):F3} p99 {g.Steady.Quantile(0.99):F3} | catch-up {g.CatchUpSeconds:F1}s written {g.Written:N0}"));
            return result;
        }
        finally
        {
            foreach (var (_, process, _) in processes) process.Dispose();
            Directory.Delete(work, recursive: true);
            Execute(admin, $"drop database if exists {database} with (force)");
        }
    }

    /// <summary>A worker's freshness, sink write duration and batch size histograms from one scrape.</summary>
    private static (PromHistogram Freshness, PromHistogram Writes, PromHistogram Batches) Histograms(string scrape, string group) =>
        (PromHistogram.Parse(scrape, "consumer_freshness_seconds", ("group", group)),
         PromHistogram.Parse(scrape, "consumer_write_duration_seconds", ("group", group)),
         PromHistogram.Parse(scrape, "consumer_write_batch_records", ("group", group)));

    /// <summary>The objective a group keeps up by: freshness p99 over the whole run (start included) at most this.</summary>
    private const double KeepUpP99Seconds = 5;

    /// <summary>Seconds of the start shown one by one from the NOC table.</summary>
    private const int StartUpSeconds = 12;

    /// <summary>Every group kept up: each wrote every event (nothing lost, exactly once in the NOC table) with p99 freshness ≤ 5 s.</summary>
    private static bool KeepsUp(RunResult r) =>
        r.Groups.All(g => g.Written >= r.Sent && g.Whole.Quantile(0.99) <= KeepUpP99Seconds) && r.NocWhole.Rows == r.Sent;

    private static string Report(List<RunResult> results, Settings settings, string load)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Freshness, whole pipeline from a cold start, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {System.Environment.ProcessorCount} cores, load average {load} when it began.");
        text.AppendLine(c, $"Embedded Kafka ({settings.Brokers} brokers, {settings.Partitions} partitions per topic, in the benchmark process), edge, NOC, SIEM and top-k as processes; TCP for {settings.Seconds} s at each rate.");
        text.AppendLine(c, $"Freshness = end of the sink's write − the edge's receipt, from each worker's consumer_freshness_seconds (quantiles interpolated in buckets; ≤ 1 s is exact). \"steady\": records written after the first {settings.SteadyAfter} s.");
        text.AppendLine();
        text.AppendLine("| rate/s | group | p50 s | p99 s | ≤ 1 s | max ≤ s | steady p50 s | steady p99 s | steady max ≤ s | catch-up s | CPU µs/event |");
        text.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            foreach (var g in r.Groups)
            {
                text.AppendLine(c, $"| {r.Rate:N0} | {g.Group} | {g.Whole.Quantile(0.5):F3} | {g.Whole.Quantile(0.99):F3} | {100 * g.Whole.ShareAtOrBelow(1):F2} % | {g.Whole.MaxBound():0.###} | {g.Steady.Quantile(0.5):F3} | {g.Steady.Quantile(0.99):F3} | {g.Steady.MaxBound():0.###} | {g.CatchUpSeconds:F1} | {1e6 * g.CpuSeconds / Math.Max(1, r.Sent):F1} |");
            }
            text.AppendLine(c, $"| {r.Rate:N0} | edge (receipt → Kafka ack) | {r.EdgeAck.Quantile(0.5):F3} | {r.EdgeAck.Quantile(0.99):F3} | {100 * r.EdgeAck.ShareAtOrBelow(1):F2} % | {r.EdgeAck.MaxBound():0.###} | | | | | {1e6 * r.EdgeCpu / Math.Max(1, r.Sent):F1} |");
        }
        text.AppendLine();
        text.AppendLine(c, $"Where a group's steady time goes (after the first {settings.SteadyAfter} s): the sink's writes (consumer_write_duration_seconds) and their size (consumer_write_batch_records); freshness beyond the write is Kafka, fetching and the batch waiting for the write before it.");
        text.AppendLine();
        text.AppendLine("| rate/s | group | writes/s | write p50 s | write p99 s | records per write p50 | freshness p50 − write p50 s |");
        text.AppendLine("|---:|---|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            foreach (var g in r.Groups)
                text.AppendLine(c, $"| {r.Rate:N0} | {g.Group} | {g.SteadyWrites.Count / Math.Max(1, r.SendSeconds - settings.SteadyAfter):F1} | {g.SteadyWrites.Quantile(0.5):F3} | {g.SteadyWrites.Quantile(0.99):F3} | {g.SteadyBatches.Quantile(0.5):F0} | {g.Steady.Quantile(0.5) - g.SteadyWrites.Quantile(0.5):F3} |");
        text.AppendLine();
        text.AppendLine("NOC, exact from its table (inserted_at is the transaction's start, a little before its commit):");
        text.AppendLine();
        text.AppendLine("| rate/s | sent | rows | p50 s | p99 s | max s | steady p50 s | steady p99 s | steady max s | Kafka + sender CPU µs/event |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            text.AppendLine(c, $"| {r.Rate:N0} | {r.Sent:N0} | {r.NocWhole.Rows:N0} | {r.NocWhole.P50:F3} | {r.NocWhole.P99:F3} | {r.NocWhole.Max:F3} | {r.NocSteady.P50:F3} | {r.NocSteady.P99:F3} | {r.NocSteady.Max:F3} | {1e6 * r.HostCpu / Math.Max(1, r.Sent):F1} |");
        text.AppendLine();
        NocStartup.Append(text, [.. results.Select(r => (r.Rate, r.NocStart))]);
        text.AppendLine(c, $"Keeping up: every group wrote every event (the NOC table holds each once) with freshness p99 ≤ {KeepUpP99Seconds} s over the whole run, start included.");
        text.AppendLine();
        text.AppendLine("| rate/s | slowest group | its p99 s | every event in every group | keeps up |");
        text.AppendLine("|---:|---|---:|---|---|");
        foreach (var r in results)
        {
            var slowest = r.Groups.MaxBy(g => g.Whole.Quantile(0.99))!;
            var complete = r.Groups.All(g => g.Written >= r.Sent) && r.NocWhole.Rows == r.Sent;
            text.AppendLine(c, $"| {r.Rate:N0} | {slowest.Group} | {slowest.Whole.Quantile(0.99):F3} | {(complete ? "yes" : "no")} | {(KeepsUp(r) ? "yes" : "no")} |");
        }
        var best = results.Where(KeepsUp).Select(r => r.Rate).DefaultIfEmpty().Max();
        text.AppendLine();
        text.AppendLine(c, $"Highest rate tried at which every group kept up: {(best > 0 ? best.ToString("N0", c) + " events/s" : "none")}.");
        return text.ToString();
    }

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

    private static Dictionary<string, string> Environment(Settings settings)
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

    private static async Task WaitHealthyAsync(HttpClient http, BenchProcess process, int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"{process.Name} exited:\n{string.Join('\n', process.Output.TakeLast(20))}");
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"{process.Name} not healthy");
    }

    private static async Task<string> ScrapeAsync(HttpClient http, int port)
    {
        try
        {
            return await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        }
        catch (HttpRequestException)
        {
            // Still starting: nothing written yet.
            return "";
        }
    }

    private static double Sum(string text, string name, params (string Label, string Value)[] match) =>
        text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && match.All(m => l.Contains($"{m.Label}=\"{m.Value}\"", StringComparison.Ordinal)))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>CPU of this process (the embedded Kafka cluster and the sender).</summary>
    private static double HostCpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
