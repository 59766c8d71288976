using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Consumers.Siem;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Detection;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Kafka.Consuming;
using Pipeline.Testing;

namespace Pipeline.Bench;

/// <summary>
/// Where the SIEM sink's time goes, on one thread, without Kafka. The machine is shared, so a stage is never timed
/// by a clock on the wall around it (a thread that is descheduled would charge its wait to whatever it was doing):
/// instead each pass runs the sink's steps up to one more stage over every record and is timed by the thread's own
/// CPU clock, and a stage costs the difference between two passes. The last pass is the sink itself
/// (<see cref="SiemSink"/>, batch by batch, as the runtime calls it); its archive is the one the physical-limit
/// contender takes its document bytes from.
/// </summary>
internal static class SiemStageProfile
{
    public sealed record Stage(string Name, double NanosecondsPerEvent, string Notes = "")
    {
        /// <summary>Bytes allocated per event by the stage (NaN where not measured).</summary>
        public double AllocatedPerEvent { get; init; } = double.NaN;
    }

    /// <summary>CPU nanoseconds and bytes allocated per event of one pass.</summary>
    private readonly record struct Cost(double Ns, double Bytes)
    {
        public static Cost operator -(Cost a, Cost b) => new(a.Ns - b.Ns, a.Bytes - b.Bytes);
    }

    public sealed record Profile(IReadOnlyList<Stage> Stages, double WallNsPerEvent, double CpuNsPerEvent, long Records)
    {
        public double AllocatedPerEvent { get; init; }
        public TimeSpan GcPauses { get; init; }
        public int Gen0 { get; init; }
        public int Gen1 { get; init; }
        public int Gen2 { get; init; }
        public double LimitCpuNsPerEvent { get; init; }
        public double SinkThreadCpuNsPerEvent { get; init; }
        public double LimitWallNsPerEvent { get; init; }
    }

    /// <summary>
    /// Profiles the sink over <paramref name="records"/>, after a warm-up pass over the first of them into a scratch archive; then runs the
    /// physical limit over the same batches with the documents the sink archived (returned, for the contenders).
    /// </summary>
    public static (Profile Profile, PreparedRecords Prepared) Run(IReadOnlyList<ConsumedRecord> records, Func<string, SiemOptions> options, string directory, int batchSize)
    {
        var warmUp = directory + "-warm-up";
        var first = records.Take(Math.Min(records.Count, 4 * batchSize)).ToList();
        Steps(first, options(warmUp));
        Sink(first, options(warmUp), batchSize);
        Directory.Delete(warmUp, recursive: true);
        var profile = Measure(records, options(directory), batchSize);
        var prepared = ArchiveLimitSink.ReadArchive(directory);
        Directory.Delete(directory, recursive: true);
        var (cpu, wall) = Limit(records, prepared, directory + "-limit", batchSize);
        Directory.Delete(directory + "-limit", recursive: true);
        return (profile with { LimitCpuNsPerEvent = cpu, LimitWallNsPerEvent = wall }, prepared);
    }

    /// <summary>The physical limit's sink over the same batches: (CPU ns/event, wall ns/event).</summary>
    private static (double Cpu, double Wall) Limit(IReadOnlyList<ConsumedRecord> records, PreparedRecords prepared, string directory, int batchSize)
    {
        using var sink = new ArchiveLimitSink(directory, prepared);
        var batches = Batches(records, batchSize);
        var cpu = ThreadCpu.Nanoseconds();
        var wall = Stopwatch.StartNew();
        foreach (var batch in batches) sink.WriteAsync(batch, default).GetAwaiter().GetResult();
        return ((ThreadCpu.Nanoseconds() - cpu) / (double)records.Count, wall.Elapsed.TotalNanoseconds / records.Count);
    }

    private static List<SinkBatch> Batches(IReadOnlyList<ConsumedRecord> records, int batchSize)
    {
        var batches = new List<SinkBatch>();
        for (var from = 0; from < records.Count; from += batchSize)
        {
            var batch = records.Skip(from).Take(batchSize).ToList();
            var next = new Dictionary<PartitionKey, long>();
            foreach (var r in batch) next[r.PartitionKey] = Math.Max(next.GetValueOrDefault(r.PartitionKey), r.Offset + 1);
            batches.Add(new SinkBatch(batch, next));
        }
        return batches;
    }

    /// <summary>The sink's steps up to each stage, each pass timed on its own (CPU nanoseconds per event).</summary>
    private static (Cost Decode, Cost Classify, Cost Normalise, Cost Detect, Cost Json, Cost Stage) Steps(IReadOnlyList<ConsumedRecord> records, SiemOptions options)
    {
        var classifier = new Classifier(options.Classification);
        var normaliser = new EcsNormaliser(classifier);
        var detection = new DetectionEngine(options.Detection);
        var doc = new EcsDocument();
        var ingested = DateTimeOffset.UtcNow;
        using var stager = new RecordStager();
        stager.Restart(0, ArchiveFormat.GenesisHex);
        var decode = Pass(records, r => EnvelopeReader.Read(r.Value));
        var classify = Pass(records, r =>
        {
            var e = EnvelopeReader.Read(r.Value);
            classifier.Classify(e.Syslog?.AppName, e.Message, e.Raw ?? e.Message);
        });
        var normalise = Pass(records, r => normaliser.Normalise(r, EnvelopeReader.Read(r.Value), null, ingested, doc));
        var detect = Pass(records, r =>
        {
            var (d, rule) = normaliser.Normalise(r, EnvelopeReader.Read(r.Value), null, ingested, doc);
            if (rule is not null) detection.Observe(rule.Name, d);
        });
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64 * 1024);
        using var writer = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var json = Pass(records, r =>
        {
            var d = normaliser.Normalise(r, EnvelopeReader.Read(r.Value), null, ingested, doc).Document;
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            d.WriteTo(writer);
            writer.Flush();
        });
        var n = 0;
        var stage = Pass(records, r =>
        {
            stager.Stage(r, normaliser.Normalise(r, EnvelopeReader.Read(r.Value), null, ingested, doc).Document);
            // As many records between restarts as a batch holds, so the buffer stays the size the sink's does.
            if (++n % 5000 == 0) stager.Restart(0, ArchiveFormat.GenesisHex);
        });
        return (decode, classify, normalise, detect, json, stage);
    }

    private static Cost Pass(IReadOnlyList<ConsumedRecord> records, Action<ConsumedRecord> step)
    {
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var cpu = ThreadCpu.Nanoseconds();
        foreach (var record in records) step(record);
        return new((ThreadCpu.Nanoseconds() - cpu) / (double)records.Count, (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)records.Count);
    }

    /// <summary>The sink itself, batch by batch, as the runtime calls it: (process CPU ns/event, its own thread's CPU ns/event, wall ns/event, alerts, commits, seals).</summary>
    private static (double Cpu, double ThreadCpu, double Wall, long Alerts, long Commits, long Sealed) Sink(IReadOnlyList<ConsumedRecord> records, SiemOptions options, int batchSize)
    {
        var metrics = new SiemMetrics(new InProcessMetrics());
        using var archive = ArchiveWriter.Open(options.Archive, TimeProvider.System, metrics, NullLogger<ArchiveWriter>.Instance);
        using var sink = new SiemSink(archive, new EcsNormaliser(new Classifier(options.Classification)), new DetectionEngine(options.Detection), TimeProvider.System,
            metrics, NullLogger<SiemSink>.Instance);
        var batches = Batches(records, batchSize);
        using var self = Process.GetCurrentProcess();
        var process = self.TotalProcessorTime;
        var cpu = ThreadCpu.Nanoseconds();
        var wall = Stopwatch.StartNew();
        foreach (var batch in batches) sink.WriteAsync(batch, default).GetAwaiter().GetResult();
        var thread = ThreadCpu.Nanoseconds() - cpu;
        self.Refresh();
        return ((self.TotalProcessorTime - process).TotalNanoseconds / records.Count, thread / (double)records.Count, wall.Elapsed.TotalNanoseconds / records.Count,
            metrics.ArchivedAlerts.Count, metrics.ArchiveBatches.Count, metrics.SegmentsSealed.Count);
    }

    /// <summary>
    /// The archive's side of the sink's loop, batch by batch, with the thread's CPU clock and the wall clock read around
    /// the detection snapshot, the commit and the roll check (a few calls a batch, so their cost does not show).
    /// </summary>
    private static (double SnapshotCpu, double SerialiseCpu, double CommitCpu, double CommitWall, double RollCpu, double RollWall, long CheckpointBytes) Archive(
        IReadOnlyList<ConsumedRecord> records, SiemOptions options, int batchSize)
    {
        var metrics = new SiemMetrics(new InProcessMetrics());
        var directory = options.Archive.Directory + "-archive-pass";
        using var archive = ArchiveWriter.Open(new ArchiveOptions { Directory = directory, SegmentMaxBytes = options.Archive.SegmentMaxBytes, SegmentMaxAge = options.Archive.SegmentMaxAge },
            TimeProvider.System, metrics, NullLogger<ArchiveWriter>.Instance);
        var normaliser = new EcsNormaliser(new Classifier(options.Classification));
        var detection = new DetectionEngine(options.Detection);
        var doc = new EcsDocument();
        long snapshotCpu = 0, serialiseCpu = 0, commitCpu = 0, commitWall = 0, rollCpu = 0, rollWall = 0, checkpointBytes = 0;
        foreach (var batch in Batches(records, batchSize))
        {
            var (cpu, wall) = (ThreadCpu.Nanoseconds(), Stopwatch.GetTimestamp());
            archive.RollIfDue();
            rollCpu += ThreadCpu.Nanoseconds() - cpu;
            rollWall += Stopwatch.GetTimestamp() - wall;
            var ingested = DateTimeOffset.UtcNow;
            foreach (var record in batch.Records)
            {
                var (d, rule) = normaliser.Normalise(record, EnvelopeReader.Read(record.Value), null, ingested, doc);
                archive.StageEvent(record, d);
                if (rule is null) continue;
                foreach (var alert in detection.Observe(rule.Name, d)) archive.StageAlert(AlertDocument.Of(alert, ingested));
            }
            cpu = ThreadCpu.Nanoseconds();
            detection.Prune();
            var state = detection.Snapshot();
            snapshotCpu += ThreadCpu.Nanoseconds() - cpu;
            // What the commit spends on the checkpoint's JSON alone (the same serialisation, done once more here).
            cpu = ThreadCpu.Nanoseconds();
            _ = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Checkpoint { Detection = state, Offsets = [.. batch.NextOffsets.Select(o => new PartitionOffset(o.Key.Topic, o.Key.Partition, o.Value))] },
                CompactArchiveJson.Default.Checkpoint);
            serialiseCpu += ThreadCpu.Nanoseconds() - cpu;
            (cpu, wall) = (ThreadCpu.Nanoseconds(), Stopwatch.GetTimestamp());
            archive.Commit(batch.NextOffsets, state);
            commitCpu += ThreadCpu.Nanoseconds() - cpu;
            commitWall += Stopwatch.GetTimestamp() - wall;
            checkpointBytes += new FileInfo(Path.Combine(directory, ArchiveFormat.CheckpointFile)).Length;
        }
        archive.Dispose();
        Directory.Delete(directory, recursive: true);
        double n = records.Count;
        return (snapshotCpu / n, serialiseCpu / n, commitCpu / n, ToNs(commitWall) / n, rollCpu / n, ToNs(rollWall) / n, checkpointBytes / ((records.Count + batchSize - 1) / batchSize));
    }

    private static double ToNs(long ticks) => ticks * 1e9 / Stopwatch.Frequency;

    private static Stage Of(string name, Cost cost, string notes = "") => new(name, cost.Ns, notes) { AllocatedPerEvent = cost.Bytes };

    private static Profile Measure(IReadOnlyList<ConsumedRecord> records, SiemOptions options, int batchSize)
    {
        var steps = Steps(records, options);
        var archive = Archive(records, options, batchSize);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var paused = GC.GetTotalPauseDuration();
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        var sink = Sink(records, options, batchSize);
        var c = CultureInfo.InvariantCulture;
        var stages = new List<Stage>
        {
            Of("decode the envelope (to `TelemetryEvent`)", steps.Decode),
            Of("classification (the rules' patterns)", steps.Classify - steps.Decode),
            Of("ECS document (normalising, classification included)", steps.Normalise - steps.Decode),
            Of("detection (`DetectionEngine.Observe`)", steps.Detect - steps.Normalise, string.Create(c, $"{sink.Alerts:N0} alerts in the sink's pass")),
            Of("staging: ECS JSON, SHA-256 chain, copy into the batch's buffer", steps.Stage - steps.Normalise),
            Of("… of which the ECS document as JSON", steps.Json - steps.Normalise),
            new("… of which SHA-256 (the archived lines hashed again on their own)", Sha256Ns(options.Archive.Directory)),
            new("detection state: prune and snapshot (per batch)", archive.SnapshotCpu),
            new("commit: write, fsync, checkpoint with the detection state replaced with fsyncs (per batch)", archive.CommitCpu,
                string.Create(c, $"{sink.Commits:N0} commits; wall {archive.CommitWall:N0} ns/event; checkpoint {archive.CheckpointBytes / 1024.0:N0} KiB")),
            new("… of which the checkpoint's JSON", archive.SerialiseCpu),
            new("roll check and sealing (re-reading the segment) (per batch)", archive.RollCpu,
                string.Create(c, $"{sink.Sealed:N0} segments sealed; wall {archive.RollWall:N0} ns/event")),
        };
        return new Profile(stages, sink.Wall, sink.Cpu, records.Count)
        {
            SinkThreadCpuNsPerEvent = sink.ThreadCpu,
            AllocatedPerEvent = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)records.Count,
            GcPauses = GC.GetTotalPauseDuration() - paused,
            Gen0 = GC.CollectionCount(0) - gen0,
            Gen1 = GC.CollectionCount(1) - gen1,
            Gen2 = GC.CollectionCount(2) - gen2,
        };
    }

    /// <summary>SHA-256 over every archived line after the previous hash, as the chain hashes them, in CPU nanoseconds per line.</summary>
    private static double Sha256Ns(string directory)
    {
        var buffer = new byte[1 << 20];
        long lines = 0, cpu = 0;
        foreach (var index in ArchiveFormat.ListSegments(directory))
        {
            using var reader = new LineReader(Path.Combine(directory, ArchiveFormat.SegmentName(index)), 0, long.MaxValue);
            while (reader.ReadLine())
            {
                reader.Line.CopyTo(buffer.AsSpan(32));
                var start = ThreadCpu.Nanoseconds();
                for (var i = 0; i < 16; i++) SHA256.HashData(buffer.AsSpan(0, 32 + reader.Line.Length), buffer.AsSpan(0, 32));
                cpu += ThreadCpu.Nanoseconds() - start;
                lines += 16;
            }
        }
        return cpu / (double)Math.Max(1, lines);
    }

    public static string Table(Profile profile)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("| stage | CPU ns/event | allocated B/event | notes |");
        text.AppendLine("|---|---:|---:|---|");
        foreach (var s in profile.Stages)
            text.AppendLine(c, $"| {s.Name} | {s.NanosecondsPerEvent:N0} | {(double.IsNaN(s.AllocatedPerEvent) ? "" : s.AllocatedPerEvent.ToString("N0", c))} | {s.Notes} |");
        text.AppendLine(c, $"| **the sink's write, whole** (every thread) | **{profile.CpuNsPerEvent:N0}** | {profile.AllocatedPerEvent:N0} | on the calling thread {profile.SinkThreadCpuNsPerEvent:N0}; wall {profile.WallNsPerEvent:N0} ns/event |");
        text.AppendLine(c, $"| the physical limit's write over the same batches | {profile.LimitCpuNsPerEvent:N0} | | wall {profile.LimitWallNsPerEvent:N0} ns/event |");
        text.AppendLine();
        text.AppendLine(c, $"In the sink's pass: GC: {profile.Gen0:N0} gen0, {profile.Gen1:N0} gen1, {profile.Gen2:N0} gen2 collections, {profile.GcPauses.TotalMilliseconds:N0} ms of pauses ({profile.GcPauses.TotalNanoseconds / (profile.WallNsPerEvent * profile.Records):P1} of its wall time).");
        return text.ToString();
    }
}
