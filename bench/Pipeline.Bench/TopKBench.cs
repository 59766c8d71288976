using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Pipeline.Consumers.TopK;
using Pipeline.Consumers.TopK.Extraction;
using Pipeline.Consumers.TopK.Windows;

namespace Pipeline.Bench;

/// <summary>
/// <c>Pipeline.Bench topk</c>: the top-k aggregator against an exact counter on the same generated stream in
/// the same run. Both decode the envelopes with the same scanner and derive the same keys (templates, source
/// addresses); the aggregator then updates one bounded Space-Saving sketch per window and dimension (and
/// encodes a checkpoint of what changed every 5,000 events, the most the sink does before writing one), the exact counter
/// one dictionary per window and dimension. Each contender runs alone with the stream regenerated from the
/// seed (generation time is excluded); reported: events/s, bytes allocated per event, managed heap retained
/// at the end and at its peak, working set, and how the aggregator's top-10s compare with the exact ones.
/// </summary>
internal static class TopKBench
{
    private const int Chunk = 50_000;
    private const int Batch = 5_000;
    private const int StageRounds = 3;

    public static int Run(string[] args)
    {
        var events = BenchSupport.Arg(args, "--events", 5_000_000);
        var capacity = BenchSupport.Arg(args, "--capacity", 1000);
        var seed = BenchSupport.Arg(args, "--seed", 42);
        var output = BenchSupport.ArgText(args, "--out") ?? Path.Combine(BenchSupport.Repository(), "bench", "TOPK-RESULTS.md");
        var options = new TopKOptions { Capacity = capacity };
        var settings = AggregatorSettings.From(options);
        var start = new DateTimeOffset(2025, 3, 14, 12, 0, 0, TimeSpan.Zero);
        var stream = new TopKBenchStream(events, seed, start, TimeSpan.FromHours(1));
        Console.WriteLine($"top-k bench: {events:N0} events over 1 hour, dimensions {options.Dimensions}, windows 1m + 1h, capacity {capacity}");

        // Warm both paths up (JIT, tiering) on a separate, smaller stream.
        var warm = new TopKBenchStream(200_000, seed + 1, start, TimeSpan.FromMinutes(5));
        Measure("warm-up", warm, new AggregatorContender(settings));
        Measure("warm-up", warm, new ExactContender(settings));

        var sketch = Measure("top-k aggregator", stream, new AggregatorContender(settings), out var aggregator);
        var exact = Measure("exact dictionaries", stream, new ExactContender(settings), out var counter);
        var accuracy = Compare((AggregatorContender)aggregator, (ExactContender)counter, settings, start);
        // The stage stream is the main stream's beginning: the same events at the same times.
        var stageEvents = Math.Min(events, BenchSupport.Arg(args, "--stage-events", 1_000_000));
        var stages = stageEvents > 0 ? Stages(settings, new TopKBenchStream(stageEvents, seed, start, TimeSpan.FromTicks(TimeSpan.FromHours(1).Ticks / events * stageEvents))) : [];

        var report = Report(events, capacity, seed, options.Dimensions, sketch, exact, accuracy, args) + StagesReport(stageEvents, stages);
        Console.WriteLine(report);
        File.WriteAllText(output, report);
        Console.WriteLine($"written to {output}");
        return 0;
    }

    /// <summary>
    /// Where the aggregator's time goes: the same stream through cumulative stages, each run alone — the envelope
    /// scan, then the keys (those read as they are, then each derived one), then the sketch updates, then the
    /// checkpoint encoding. A stage's cost is its time less the stage it builds on.
    /// </summary>
    private static List<(string Stage, string Adds, double Wall, double Cpu, double Baseline)> Stages(AggregatorSettings settings, TopKBenchStream stream)
    {
        var plain = settings.Dimensions.Where(d => d.Kind is not (DimensionKind.Template or DimensionKind.SourceIp)).Select(d => d.Name).ToArray();
        var derived = settings.Dimensions.Where(d => d.Kind is DimensionKind.Template or DimensionKind.SourceIp).Select(d => d.Name).ToArray();
        var runs = new List<(string Stage, string Adds, string? Over, Func<ITopKContender> Contender)>
        {
            ("scan", "envelope scan (fields copied out)", null, () => new ExtractionContender(settings)),
            ("scan + plain keys", $"keys read as they are ({string.Join(", ", plain)})", "scan", () => new ExtractionContender(settings, plain)),
        };
        foreach (var name in derived) runs.Add(($"scan + {name}", $"{name} key derived from the message", "scan", () => new ExtractionContender(settings, name)));
        runs.Add(("scan + every key", "(every key)", "scan", () => new ExtractionContender(settings, [.. settings.Dimensions.Select(d => d.Name)])));
        runs.Add(("apply", "window bookkeeping and sketch updates", "scan + every key", () => new AggregatorContender(settings, checkpoint: false)));
        runs.Add(("apply + checkpoint", "checkpoint taken (encoded) every 5,000 events", "apply", () => new AggregatorContender(settings)));
        var measured = new Dictionary<string, double>();
        var rows = new List<(string, string, double, double, double)>();
        foreach (var (stage, adds, over, contender) in runs)
        {
            // Best of three: on a shared machine the fastest round is the one least disturbed by others.
            var rounds = Enumerable.Range(0, StageRounds).Select(_ => Measure($"stage {stage}", stream, contender())).ToList();
            var cpu = rounds.Min(r => r.CpuNanosecondsPerEvent);
            measured[stage] = cpu;
            rows.Add((stage, adds, rounds.Min(r => r.NanosecondsPerEvent), cpu, over is null ? 0 : measured[over]));
        }
        return rows;
    }

    private static string StagesReport(int events, List<(string Stage, string Adds, double Wall, double Cpu, double Baseline)> stages)
    {
        if (stages.Count == 0) return "";
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine(c, $"Where the time goes (the first {events:N0} events of the same stream through cumulative stages, each run alone, best of {StageRounds} rounds; `--stage-events 0` leaves this out):");
        text.AppendLine();
        text.AppendLine("| stage | ns/event (wall clock) | CPU ns/event | adds | CPU ns/event added |");
        text.AppendLine("|---|---:|---:|---|---:|");
        foreach (var (stage, adds, wall, cpu, baseline) in stages)
            text.AppendLine(c, $"| {stage} | {wall:F0} | {cpu:F0} | {adds} | {cpu - baseline:F0} |");
        return text.ToString();
    }

    private static Result Measure(string name, TopKBenchStream stream, ITopKContender contender) => Measure(name, stream, contender, out _);

    private static Result Measure(string name, TopKBenchStream stream, ITopKContender contender, out ITopKContender kept)
    {
        var generator = stream.Open(Chunk);
        var spans = new List<(int Offset, int Length)>(Chunk);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var peakHeap = heapBefore;
        var elapsed = TimeSpan.Zero;
        var cpu = TimeSpan.Zero;
        var allocated = 0L;
        var count = 0L;
        while (generator.Next(spans, out var buffer))
        {
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var cpuBefore = ThreadCpu.Now();
            var clock = Stopwatch.StartNew();
            var data = buffer.Span;
            foreach (var (offset, length) in spans)
            {
                contender.Apply(count, data.Slice(offset, length));
                if (++count % Batch == 0) contender.EndOfBatch();
            }
            elapsed += clock.Elapsed;
            cpu += ThreadCpu.Now() - cpuBefore;
            allocated += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            // Live state only (a forced collection, outside the timed part): garbage not yet collected is not the contender's size.
            peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(forceFullCollection: true));
        }
        contender.EndOfBatch();
        var retained = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        using var self = Process.GetCurrentProcess();
        var result = new Result(name, count, elapsed, cpu, allocated, retained, peakHeap - heapBefore, self.WorkingSet64, contender.Describe());
        GC.KeepAlive(generator);
        if (name.StartsWith("stage ", StringComparison.Ordinal))
            Console.WriteLine($"{name}: {result.NanosecondsPerEvent:F0} ns/event, {result.CpuNanosecondsPerEvent:F0} CPU ns/event");
        else if (name != "warm-up")
            Console.WriteLine($"{name}: {result.EventsPerSecond:N0} events/s ({result.EventsPerCpuSecond:N0} per CPU second), {result.AllocatedPerEvent:F1} B/event allocated, live heap at end {Mib(retained)}, peak live heap {Mib(result.PeakHeap)}, working set {Mib(result.WorkingSet)}");
        kept = contender;
        return result;
    }

    private static List<(string Dimension, bool TopTenEqual, double MaxRelativeOverestimate, long MaxError, long ExactKeys)> Compare(
        AggregatorContender aggregator, ExactContender exact, AggregatorSettings settings, DateTimeOffset start)
    {
        var hour = settings.Granularities[1];
        var rows = new List<(string, bool, double, long, long)>();
        for (var d = 0; d < settings.Dimensions.Count; d++)
        {
            var name = settings.Dimensions[d].Name;
            var truth = exact.Hour(d, hour.StartTicks(start));
            var merged = aggregator.Aggregator.MergeInMemory(name, hour, start);
            var exactTop = truth.OrderByDescending(x => x.Value).ThenBy(x => x.Key, StringComparer.Ordinal).Take(10).Select(x => x.Key).ToList();
            var top = merged.Entries.Take(10).ToList();
            var equal = exactTop.SequenceEqual(top.Select(e => e.Key));
            var maxRelative = top.Count == 0 ? 0 : top.Max(e => (double)(e.Count - truth.GetValueOrDefault(e.Key)) / Math.Max(1, truth.GetValueOrDefault(e.Key)));
            var maxError = top.Count == 0 ? 0 : top.Max(e => e.Error);
            if (top.Any(e => truth.GetValueOrDefault(e.Key) < e.LowerBound || truth.GetValueOrDefault(e.Key) > e.Count))
                throw new InvalidOperationException($"{name}: a reported count is outside its error bound");
            rows.Add((name, equal, maxRelative, maxError, truth.Count));
        }
        return rows;
    }

    private static string Report(int events, int capacity, int seed, string dimensions, Result sketch, Result exact,
        List<(string Dimension, bool TopTenEqual, double MaxRelativeOverestimate, long MaxError, long ExactKeys)> accuracy, string[] args)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine("# Top-k aggregator benchmark");
        text.AppendLine();
        text.AppendLine(c, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; workstation GC, one thread; load average (1 min) {LoadAverage()} when the report was written.");
        text.AppendLine();
        text.AppendLine("Reproduce (from the repository root, after `infra/setup.sh`, which builds in Release):");
        text.AppendLine();
        text.AppendLine("```");
        text.AppendLine("dotnet run -c Release --project bench/Pipeline.Bench --no-build -- topk" + (args.Length > 0 ? " " + string.Join(' ', args) : ""));
        text.AppendLine("```");
        text.AppendLine();
        text.AppendLine(c, $"Stream: {events:N0} syslog envelopes as the edge writes them (~480 bytes each), spread over one hour; Zipf-distributed keys: 100,000 hosts, 1,000,000 source addresses, 5,000 user names (letters only, so they stay in the templates) inside 12 message formats, 40 apps, 20 tenants, 8 severities; one event in ten carries sample_rate 4. Seed {seed}.");
        text.AppendLine(c, $"Dimensions: {dimensions}. Windows: 1 minute (tumbling, 30 s lateness) and the 1 hour roll-up, both updated per event. Capacity {capacity} keys per sketch.");
        text.AppendLine();
        text.AppendLine("Both contenders decode envelopes with the same scanner and derive the same keys; they differ only in how they count:");
        text.AppendLine("the aggregator updates a Space-Saving sketch per window and dimension and encodes a checkpoint of the changed sketches every 5,000 events (what the sink does before each PostgreSQL write with `CheckpointInterval` 0, the most it can do; with the default the sink encodes about once a second; the write itself is not included here);");
        text.AppendLine("the exact baseline adds to a `Dictionary<string, long>` per window and dimension (span lookups, so a known key allocates nothing), dropping minute windows once closed, as the aggregator does.");
        text.AppendLine();
        text.AppendLine("| contender | events/s | ns/event | events per CPU second | CPU ns/event | allocated B/event | live heap at end | peak live heap | working set after | state |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in new[] { sketch, exact })
            text.AppendLine(c, $"| {r.Name} | {r.EventsPerSecond:N0} | {r.NanosecondsPerEvent:F0} | {r.EventsPerCpuSecond:N0} | {r.CpuNanosecondsPerEvent:F0} | {r.AllocatedPerEvent:F1} | {Mib(r.Retained)} | {Mib(r.PeakHeap)} | {Mib(r.WorkingSet)} | {r.State} |");
        text.AppendLine();
        text.AppendLine("Events per CPU second count the measuring thread's own CPU time (`getrusage(RUSAGE_THREAD)`), which time spent waiting for a core on a shared machine does not inflate; events/s count the wall clock.");
        text.AppendLine();
        text.AppendLine(c, $"Ratios (aggregator / exact): throughput {sketch.EventsPerSecond / exact.EventsPerSecond:F2}×, live heap at end {(double)sketch.Retained / Math.Max(1, exact.Retained):F3}×, peak live heap {(double)sketch.PeakHeap / Math.Max(1, exact.PeakHeap):F3}×.");
        text.AppendLine();
        text.AppendLine("Accuracy of the 1 hour window (every reported count was checked to lie within its stated error bound):");
        text.AppendLine();
        text.AppendLine("| dimension | distinct keys (exact) | top-10 identical to exact | largest overestimate in top-10 | largest stated error in top-10 |");
        text.AppendLine("|---|---:|---|---:|---:|");
        foreach (var a in accuracy)
            text.AppendLine(c, $"| {a.Dimension} | {a.ExactKeys:N0} | {(a.TopTenEqual ? "yes" : "no")} | {a.MaxRelativeOverestimate:P3} | {a.MaxError:N0} |");
        text.AppendLine();
        text.AppendLine("Notes: timings on this shared 2-core machine are noisy; compare the ratios, which come from the same run. The working set is the process's after each phase (the aggregator runs first, so the exact counter's figure includes what the runtime kept from it).");
        return text.ToString();
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";

    private static string Mib(long bytes) => (bytes / 1024.0 / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB";

    private sealed record Result(string Name, long Events, TimeSpan Elapsed, TimeSpan Cpu, long Allocated, long Retained, long PeakHeap, long WorkingSet, string State)
    {
        public double EventsPerSecond => Events / Elapsed.TotalSeconds;
        public double NanosecondsPerEvent => Elapsed.TotalMilliseconds * 1e6 / Events;
        public double EventsPerCpuSecond => Events / Cpu.TotalSeconds;
        public double CpuNanosecondsPerEvent => Cpu.TotalMilliseconds * 1e6 / Events;
        public double AllocatedPerEvent => (double)Allocated / Events;
    }
}
