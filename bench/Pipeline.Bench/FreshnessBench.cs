using System.Globalization;

namespace Pipeline.Bench;

/// <summary>
/// <c>e2e</c>: the whole pipeline from a cold start — an embedded Kafka cluster, the edge, and the NOC, SIEM and
/// top-k workers, each its own process as in production — fed a steady load over TCP at fixed rates. Reports, per
/// group, freshness (the edge's receipt to the end of the sink's write) from each worker's own
/// <c>consumer_freshness_seconds</c> histogram over the whole run and after its first seconds, the catch-up time once
/// sending stops, and the CPU each process spent per event. The NOC figures are checked exactly against its table
/// (<c>inserted_at − received_at</c>, to the transaction's start). This class reads the options and walks the
/// rates; one rate's run is <see cref="FreshnessRun"/>, the tables <see cref="FreshnessReport"/>.
/// </summary>
internal static class FreshnessBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rates = (BenchSupport.ArgText(args, "--rates") ?? "1000,10000,30000").Split(',').Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToArray();
        var settings = new FreshnessSettings(
            BenchSupport.Arg(args, "--seconds", 60),
            BenchSupport.Arg(args, "--steady-after", 30),
            BenchSupport.Arg(args, "--partitions", 12),
            BenchSupport.Arg(args, "--brokers", 3),
            (BenchSupport.ArgText(args, "--edge-args") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
            (BenchSupport.ArgText(args, "--worker-args") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
            // e.g. --env "DOTNET_TieredPGO=0" for every process started: for experiments on start-up.
            (BenchSupport.ArgText(args, "--env") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]),
            FreshnessSettings.ParseStart(BenchSupport.ArgText(args, "--start-when") ?? "edge"));
        var root = BenchSupport.Repository();
        var output = BenchSupport.ArgText(args, "--out") ?? Path.Combine(root, "bench", "results", $"e2e-{DateTime.UtcNow:yyyyMMdd-HHmmss}.md");
        var admin = BenchSupport.RunScript(Path.Combine(root, "infra", "postgres", "cluster.sh"), "start", "--database", "postgres");
        var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];

        // --ladder: rates in ascending order, stopping after the first one at which some group does not keep up.
        var ladder = args.Contains("--ladder");
        var results = new List<FreshnessRunResult>();
        foreach (var rate in ladder ? rates.Order() : rates.AsEnumerable())
        {
            results.Add(await FreshnessRun.RunAsync(root, admin, rate, settings));
            if (ladder && !results[^1].KeepsUp) break;
        }

        var report = FreshnessReport.Render(results, settings, load);
        Console.WriteLine(report);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await File.WriteAllTextAsync(output, report);
        Console.Error.WriteLine($"[bench] written to {output}");
        return 0;
    }
}

/// <summary>The e2e options that hold for every rate: how long to send, what counts as steady, the Kafka layout, and extras for the processes started.</summary>
internal sealed record FreshnessSettings(int Seconds, int SteadyAfter, int Partitions, int Brokers, string[] EdgeArgs, string[] WorkerArgs,
    IReadOnlyDictionary<string, string> Environment, FreshnessStart StartWhen)
{
    public static FreshnessStart ParseStart(string text) => text switch
    {
        "edge" => FreshnessStart.EdgeListening,
        "assigned" => FreshnessStart.WorkersAssigned,
        _ => throw new ArgumentException($"--start-when '{text}': edge or assigned"),
    };
}

/// <summary>When sending begins after the processes are started.</summary>
internal enum FreshnessStart
{
    /// <summary>As soon as the edge takes connections: the workers may still be starting, and their start-up counts.</summary>
    EdgeListening,

    /// <summary>Once every worker holds its partitions (<c>consumer_partitions_assigned</c>): a pipeline just started, all of it running.</summary>
    WorkersAssigned,
}
