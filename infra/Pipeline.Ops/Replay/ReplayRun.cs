using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Positions;
using Pipeline.Ops.Reset;
using Pipeline.Ops.Workers;

namespace Pipeline.Ops.Replay;

/// <summary>One replay, as <see cref="ReplayCommand"/> parsed it. <c>StoreLocation</c> is the database, archive folder or output folder.</summary>
internal sealed record ReplayRequest(Worker Worker, string LiveGroup, string BackfillGroup, PositionSpec From, PositionSpec To, IReadOnlyList<string> Topics,
    double? Rate, string StoreLocation, TimeSpan ProgressInterval, bool Verbose);

/// <summary>Resolves the range, sets the backfill group's start, runs the worker to the end offsets and reports progress.</summary>
internal sealed class ReplayRun(KafkaConnection kafka, OpsSeams seams, CommandIO io)
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    public async Task<int> RunAsync(ReplayRequest request, CancellationToken cancellationToken)
    {
        using var cluster = new ClusterView(kafka);
        var partitions = cluster.Partitions(request.Topics);
        var marks = cluster.Watermarks(partitions);
        var notes = new List<string>();
        var resolver = new TargetResolver(marks, () => seams.TimeIndex?.Invoke(kafka) ?? new KafkaTimeIndex(kafka));
        var starts = resolver.Resolve(request.From, partitions, notes);
        var ends = resolver.Resolve(request.To, partitions, notes);
        var ranges = partitions.Where(p => ends[p] > starts[p]).ToDictionary(p => p, p => (Start: starts[p], End: ends[p]));

        // Positions live where the worker reads them: its database for noc and topk; Kafka's committed offsets
        // for files, and for siem, whose new archive has no checkpoint yet.
        var store = request.Worker.Store == StoreKind.Postgres ? StoreKind.Postgres : StoreKind.Kafka;
        IPositionStore positions = store == StoreKind.Postgres ? new PostgresPositions(request.StoreLocation) : new KafkaPositions(cluster);
        var progress = new ReplayProgress(ranges);

        io.Out.WriteLine($"replay into {request.Worker.Name} as group {request.BackfillGroup} (the live group {request.LiveGroup} keeps running): " +
            $"{request.From} to {request.To}, {progress.Total:N0} events in {ranges.Count} partition(s)" +
            (resolver.TimeMethod is { } method ? $"; offsets found by {method}" : "") + (request.Rate is { } rate ? $"; at most {rate:N0} events/s" : ""));
        foreach (var note in notes) io.Out.WriteLine($"note: {note}");
        foreach (var (tp, (start, end)) in ranges) io.Out.WriteLine($"  {tp.Topic}[{tp.Partition.Value}] {start}..{end}");
        if (ranges.Count == 0)
        {
            io.Out.WriteLine("nothing to replay: the range is empty");
            return ExitCodes.Ok;
        }

        RefuseReusedGroup(request, positions, cluster, partitions);
        if (request.Worker.Name == "siem" && File.Exists(Path.Combine(request.StoreLocation, ArchivePositions.CheckpointFile)))
            throw new RefusedException($"{request.StoreLocation} already holds an archive: replay into a new folder (the archive is append-only and hash-chained, so a range cannot go in twice)");

        new GroupReset(kafka, cluster, seams, io).Write(store, request.BackfillGroup, ranges.Keys.ToList(),
            ranges.ToDictionary(r => r.Key, r => r.Value.Start), new Dictionary<TopicPartition, long>(),
            store == StoreKind.Postgres ? request.StoreLocation : null, null);

        var dll = seams.WorkerExecutable?.Invoke(request.Worker.Project) ?? RepositoryLayout.Executable(request.Worker.Project)
            ?? throw new UsageException($"{request.Worker.Project} is not built: run infra/setup.sh");
        using var worker = WorkerProcess.Start(dll, WorkerArguments(request, ranges), new Dictionary<string, string>
        {
            // The replay prints its own progress; the worker's routine lines only with --verbose.
            ["Logging__LogLevel__Default"] = request.Verbose ? "Information" : "Warning",
            ["Logging__LogLevel__Pipeline"] = request.Verbose ? "Information" : "Warning",
        }, request.Verbose ? io.Error : null);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        var clock = Stopwatch.StartNew();
        var exited = worker.WaitForExitAsync(CancellationToken.None);
        while (!exited.IsCompleted && !stop.IsCancellationRequested)
        {
            await Task.WhenAny(exited, Task.Delay(request.ProgressInterval, stop.Token).ContinueWith(static _ => { }, TaskScheduler.Default));
            if (exited.IsCompleted || stop.IsCancellationRequested) break;
            Observe(progress, positions, request.BackfillGroup, ranges);
            io.Out.WriteLine($"replay {request.BackfillGroup}: {progress.Line()}");
        }
        if (!exited.IsCompleted)
        {
            io.Error.WriteLine("replay: stopping the worker (it finishes its batch and records its position)");
            await worker.StopAsync(StopGrace);
        }
        Observe(progress, positions, request.BackfillGroup, ranges);
        var seconds = clock.Elapsed.TotalSeconds;
        if (progress.Complete && worker.ExitCode == 0)
        {
            io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"done: replayed {progress.Total:N0} events into {request.Worker.Name} as group {request.BackfillGroup} in {seconds:0.0} s ({progress.Total / Math.Max(seconds, 0.001):N0} events/s)"));
            return ExitCodes.Ok;
        }
        io.Error.WriteLine($"replay stopped at {progress.Line()}; worker exit code {(worker.HasExited ? worker.ExitCode : -1)}");
        foreach (var line in worker.Output.TakeLast(40)) io.Error.WriteLine("[worker] " + line);
        io.Error.WriteLine($"to finish the range, run the worker again as group {request.BackfillGroup} with --stop-at (it resumes from its stored position), or replay again");
        return ExitCodes.Attention;
    }

    private List<string> WorkerArguments(ReplayRequest request, Dictionary<TopicPartition, (long Start, long End)> ranges)
    {
        var args = new List<string>
        {
            "--kafka", kafka.BootstrapServers, "--group", request.BackfillGroup, "--topics", string.Join(",", request.Topics),
            "--stop-at", string.Join(",", ranges.Select(r => $"{r.Key.Topic}:{r.Key.Partition.Value}={r.Value.End}")),
            "--http", "127.0.0.1:0",
        };
        if (request.Rate is { } rate) args.AddRange(["--max-rate", rate.ToString(CultureInfo.InvariantCulture)]);
        if (request.Worker.StoreSwitch is { } storeSwitch) args.AddRange([storeSwitch, request.StoreLocation]);
        return args;
    }

    /// <summary>A backfill group is new: one that already has positions would resume somewhere else than the range's start.</summary>
    private static void RefuseReusedGroup(ReplayRequest request, IPositionStore positions, ClusterView cluster, IReadOnlyList<TopicPartition> partitions)
    {
        if (positions.Read(request.BackfillGroup, partitions).Count > 0 || cluster.Committed(request.BackfillGroup, partitions).Count > 0)
            throw new RefusedException($"group {request.BackfillGroup} already has positions: name a new --backfill-group");
    }

    private static void Observe(ReplayProgress progress, IPositionStore positions, string group, Dictionary<TopicPartition, (long Start, long End)> ranges)
    {
        try
        {
            progress.Observe(DateTimeOffset.UtcNow, positions.Read(group, ranges.Keys.ToList()));
        }
        catch (UsageException)
        {
            // A missed sample only delays the progress line.
        }
    }
}
