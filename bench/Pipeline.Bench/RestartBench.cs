using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Pipeline.Kafka.Embedded;

namespace Pipeline.Bench;

/// <summary>
/// <c>Pipeline.Bench restart</c>: what restarting a worker costs its group's freshness. A steady stream
/// (10,000 events/s, stamped with their receive time) goes through the embedded cluster into the NOC sink, run
/// as its own processes against the private PostgreSQL, in three scenarios: <b>steady</b> — nothing restarts,
/// the machine's baseline in the same run; <b>crash</b> — the group's only
/// worker is SIGKILLed and started again at once, three times 15 s apart — and <b>rolling</b> — a two-member
/// group whose members are stopped with SIGTERM and started again one after the other. Each runs once per
/// membership variant, side by side in the same run: the default (static membership, cooperative-sticky
/// rebalancing), KIP-848 (<c>group.protocol=consumer</c>), and the settings before static membership (dynamic,
/// eager, 15 s session). Freshness is the row's insert time (its transaction's start) minus its receive time.
/// </summary>
internal static class RestartBench
{
    private const string Project = "consumers/Pipeline.Consumers.Postgres";

    /// <summary>A membership setting: the workers' arguments, and for KIP-848 groups the broker's session (default 6 s).</summary>
    private sealed record Variant(string Name, string[] Args, TimeSpan? BrokerSession = null);

    private static readonly Variant[] Variants =
    [
        new("static + cooperative (default)", []),
        new("KIP-848 (group.protocol=consumer)", ["--Consumer:GroupProtocol=consumer"]),
        new("before: dynamic, eager, 15 s session", ["--Consumer:StaticMembership=false", "--Consumer:SessionTimeout=00:00:15",
            "--Consumer:DrainTimeout=00:00:10", "--Kafka:Properties:partition.assignment.strategy=range,roundrobin"]),
        // Below the 6 s Kafka brokers accept by default (group.min.session.timeout.ms); the embedded broker takes it.
        new("static + cooperative, 3 s session (embedded Kafka only)", ["--Consumer:SessionTimeout=00:00:03", "--Consumer:DrainTimeout=00:00:02"]),
        new("KIP-848, 3 s broker session (embedded Kafka only)", ["--Consumer:GroupProtocol=consumer", "--Consumer:DrainTimeout=00:00:02"],
            TimeSpan.FromSeconds(3)),
    ];

    private sealed record Result(string Scenario, string Variant, long Sent, long Rows, long Distinct, double P50, double P99, double Max,
        double LongestGroupGap, double LongestPartitionGap, IReadOnlyList<double> Recoveries, IReadOnlyList<double> Rejoins, double MemberStall, double StallEndedAt);

    public static int Run(string[] args)
    {
        var rate = BenchSupport.Arg(args, "--rate", 10_000);
        var seconds = BenchSupport.Arg(args, "--seconds", 55);
        var partitions = BenchSupport.Arg(args, "--partitions", 12);
        var scenarios = (BenchSupport.ArgText(args, "--scenarios") ?? "steady,crash,rolling").Split(',');
        var chosen = BenchSupport.ArgText(args, "--variants") is { } list ? list.Split(',').Select(v => Variants[int.Parse(v, CultureInfo.InvariantCulture)]).ToArray() : Variants;
        var output = BenchSupport.ArgText(args, "--out");
        var logs = BenchSupport.ArgText(args, "--logs");
        var repository = BenchSupport.Repository();
        var worker = Path.Combine(repository, Project, "bin", "Release", "net10.0", "linux-x64", "publish", "Pipeline.Consumers.Postgres.dll");
        var admin = BenchSupport.RunScript(Path.Combine(repository, "infra", "postgres", "cluster.sh"), "start", "--database", "postgres");

        using var kafka = EmbeddedKafkaCluster.Start(1);
        kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        var results = new List<Result>();
        foreach (var scenario in scenarios)
            // Without restarts membership does not matter: the steady run is the machine's baseline.
            foreach (var variant in scenario == "steady" ? chosen.Take(1) : chosen)
            {
                // KIP-848 groups take these from the broker: by default the same 6 s / 2 s the classic members ask for.
                var session = variant.BrokerSession ?? TimeSpan.FromSeconds(6);
                kafka.SetConsumerGroupTimeouts(session, session / 3);
                var result = RunOne(kafka, admin, worker, scenario, variant, rate, seconds, partitions, logs);
                Console.WriteLine($"{scenario} / {variant.Name}: freshness p99 {result.P99:F2} s, max {result.Max:F2} s; longest gap {result.LongestGroupGap:F2} s");
                results.Add(result);
            }
        var report = Report(results, rate, seconds, partitions, args);
        Console.WriteLine(report);
        if (output is not null) File.AppendAllText(output, "\n" + report);
        return 0;
    }

    private static Result RunOne(EmbeddedKafkaCluster kafka, string admin, string worker, string scenario, Variant variant, int rate, int seconds, int partitions,
        string? logs)
    {
        var started = 0;
        var topic = "restart-" + Guid.NewGuid().ToString("N")[..8];
        kafka.CreateTopic(topic, partitions);
        var group = "restart_bench_" + Guid.NewGuid().ToString("N")[..8];
        var database = "restart_bench_" + Guid.NewGuid().ToString("N")[..8];
        BenchSupport.Execute(admin, $"create database {database}");
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
        var ports = Enumerable.Range(0, scenario == "rolling" ? 2 : 1).Select(_ => BenchSupport.FreePort()).ToArray();
        var clock = new Stopwatch();
        var members = ports.Select(p => new MemberActivity(p, clock)).ToArray();
        var processes = new BenchProcess?[ports.Length];
        BenchProcess Start(int i)
        {
            members[i].Started(restarted: true);
            return processes[i] = BenchProcess.Start($"noc-{i}-{started++}", "dotnet",
                [worker, "--kafka", kafka.BootstrapServers, "--postgres", connectionString, "--group", group, "--topics", topic,
                 "--http", $"127.0.0.1:{ports[i]}", .. variant.Args],
                new Dictionary<string, string> { ["DOTNET_gcServer"] = "0", ["Logging__Console__FormatterName"] = "simple" });
        }
        try
        {
            for (var i = 0; i < ports.Length; i++) Start(i);
            WaitAssigned(ports, partitions, processes);
            clock.Start();
            for (var i = 0; i < ports.Length; i++) members[i].Started(restarted: false);
            using var producer = SteadyProducer.Start(kafka.BootstrapServers, topic, rate, TimeSpan.FromSeconds(seconds));
            var kills = new List<DateTimeOffset>();
            // crash: the only member killed at 10, 25 and 40 s; rolling: each member stopped and started again in turn.
            var plan = scenario switch { "crash" => new[] { (10, 0), (25, 0), (40, 0) }, "rolling" => [(15, 0), (35, 1)], _ => [] };
            foreach (var (at, member) in plan.Where(p => p.Item1 < seconds))
            {
                while (clock.Elapsed < TimeSpan.FromSeconds(at)) Thread.Sleep(20);
                members[member].Stopped();
                kills.Add(DateTimeOffset.UtcNow);
                if (scenario == "crash") processes[member]!.Crash();
                else if (!processes[member]!.Terminate(TimeSpan.FromSeconds(30))) throw new TimeoutException($"member {member} did not stop on SIGTERM");
                processes[member]!.Dispose();
                KeepLog(logs, scenario, variant, processes[member]!);
                Start(member);
            }
            producer.Wait();
            if (producer.Failed > 0) throw new InvalidOperationException($"{producer.Failed} events were not acknowledged");
            WaitRows(connectionString, producer.Sent, processes);
            foreach (var member in members) member.Stopped();
            return Measure(connectionString, scenario, variant.Name, producer.Sent, kills,
                members.SelectMany(m => m.Rejoins).Select(r => r.TotalSeconds).ToList(), members.MaxBy(m => m.LongestStall.Length)!.LongestStall);
        }
        finally
        {
            foreach (var member in members) member.Dispose();
            foreach (var process in processes)
            {
                process?.Dispose();
                if (process is not null) KeepLog(logs, scenario, variant, process);
            }
            NpgsqlConnection.ClearAllPools();
            BenchSupport.Execute(admin, $"drop database if exists {database} with (force)");
        }
    }

    private static Result Measure(string connectionString, string scenario, string variant, long sent, List<DateTimeOffset> kills, List<double> rejoins, (TimeSpan Length, TimeSpan EndedAt) stall)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var freshness = new NpgsqlCommand("""
            select count(*), count(distinct id),
                   percentile_cont(0.5) within group (order by f), percentile_cont(0.99) within group (order by f), max(f)
            from (select id, extract(epoch from inserted_at - received_at)::float8 f from events) x
            """, connection);
        using var reader = freshness.ExecuteReader();
        reader.Read();
        var (rows, distinct, p50, p99, max) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetDouble(4));
        reader.Close();
        var groupGap = Scalar(connection, "select coalesce(max(g), 0) from (select extract(epoch from t - lag(t) over (order by t))::float8 g from (select distinct inserted_at t from events) d) x");
        var partitionGap = Scalar(connection, """
            select coalesce(max(g), 0) from (select extract(epoch from inserted_at - lag(inserted_at) over (partition by kafka_partition order by inserted_at))::float8 g from events) x
            """);
        var recoveries = new List<double>();
        foreach (var kill in kills)
        {
            using var first = new NpgsqlCommand("select extract(epoch from min(inserted_at) - @kill)::float8 from events where inserted_at > @kill", connection);
            first.Parameters.AddWithValue("kill", kill);
            recoveries.Add(first.ExecuteScalar() is double seconds ? seconds : double.NaN);
        }
        return new Result(scenario, variant, sent, rows, distinct, p50, p99, max, groupGap, partitionGap, recoveries, rejoins, stall.Length.TotalSeconds, stall.EndedAt.TotalSeconds);
    }

    private static string Report(List<Result> results, int rate, int seconds, int partitions, string[] args)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Restart benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {LoadAverage()}: " +
            $"{rate:N0} events/s for {seconds} s into {partitions} partitions (one embedded broker), NOC sink processes, args: {string.Join(' ', args)}");
        text.AppendLine();
        text.AppendLine("| scenario | membership | events | rows (distinct) | freshness p50 s | p99 s | max s | longest write gap s | longest partition gap s | group writes again after each stop, s | restarted member's first write after its start, s | longest stall of a member already writing, s |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|");
        foreach (var r in results)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Scenario} | {r.Variant} | {r.Sent:N0} | {r.Rows:N0} ({r.Distinct:N0}) | {r.P50:F2} | {r.P99:F2} | {r.Max:F2} | {r.LongestGroupGap:F2} | {r.LongestPartitionGap:F2} | " +
                $"{List(r.Recoveries)} | {List(r.Rejoins)} | {r.MemberStall:F1} (ended {r.StallEndedAt:F0} s into the run) |");
        return text.ToString();
    }

    /// <summary>Waits until the members together hold every partition (each serves <c>consumer_partitions_assigned</c>).</summary>
    private static void WaitAssigned(int[] ports, int partitions, BenchProcess?[] processes)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            var held = 0.0;
            foreach (var port in ports)
            {
                try
                {
                    held += http.GetStringAsync($"http://127.0.0.1:{port}/metrics").GetAwaiter().GetResult().Split('\n')
                        .Where(l => l.StartsWith("consumer_partitions_assigned", StringComparison.Ordinal))
                        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }
            }
            if (held >= partitions) return;
            if (processes.FirstOrDefault(p => p is { HasExited: true }) is { } gone) throw new InvalidOperationException($"{gone.Name} exited:\n{string.Join('\n', gone.Output)}");
            Thread.Sleep(200);
        }
        throw new TimeoutException("the members were not given every partition within 2 minutes");
    }

    private static void WaitRows(string connectionString, long expected, BenchProcess?[] processes)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        while (Scalar(connection, "select count(*)::float8 from events") < expected)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"not every event was written within 3 minutes:\n{string.Join('\n', processes.SelectMany(p => p?.Output.TakeLast(20) ?? []))}");
            Thread.Sleep(500);
        }
    }

    private static double Scalar(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToDouble(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>With <c>--logs DIR</c>, each worker process's output goes to a file there (to see what a rebalance did).</summary>
    private static void KeepLog(string? directory, string scenario, Variant variant, BenchProcess process)
    {
        if (directory is null) return;
        Directory.CreateDirectory(directory);
        var name = $"{scenario}-{Array.IndexOf(Variants, variant)}-{process.Name}.log";
        lock (process.Output) File.WriteAllLines(Path.Combine(directory, name), process.Output);
    }

    private static string List(IReadOnlyList<double> values) =>
        values.Count == 0 ? "-" : string.Join(", ", values.Select(x => x.ToString("F1", CultureInfo.InvariantCulture)));

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
