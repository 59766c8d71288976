using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Consumers.Siem;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Detection;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Core.Envelope;
using Pipeline.Kafka.Consuming;
using Pipeline.Testing;

namespace Pipeline.Bench;

/// <summary>
/// Where the SIEM sink's time goes: the sink's own loop (as <c>SiemSink.Write</c> runs it) on one thread, over the
/// records in batches, without Kafka, with a stopwatch around each stage. Classification is timed a second time on
/// its own (the normaliser calls it inside), and SHA-256 on the archived bytes after the pass. The archive it writes
/// is the one the physical-limit contender takes its document bytes from.
/// </summary>
internal static class SiemStageProfile
{
    public sealed record Stage(string Name, double NanosecondsPerEvent, string Notes = "");

    public sealed record Profile(IReadOnlyList<Stage> Stages, double WallNsPerEvent, double CpuNsPerEvent, long Alerts, long Bytes, long CheckpointBytes, long Records)
    {
        public double AllocatedPerEvent { get; init; }
        public TimeSpan GcPauses { get; init; }
        public int Gen0 { get; init; }
        public int Gen1 { get; init; }
        public int Gen2 { get; init; }
    }

    /// <summary>Profiles the sink over <paramref name="records"/>, after a warm-up pass over the first of them into a scratch archive.</summary>
    public static Profile Run(IReadOnlyList<ConsumedRecord> records, Func<string, SiemOptions> options, string directory, int batchSize)
    {
        var warmUp = directory + "-warm-up";
        Measure(records.Take(Math.Min(records.Count, 4 * batchSize)).ToList(), options(warmUp), batchSize);
        Directory.Delete(warmUp, recursive: true);
        return Measure(records, options(directory), batchSize);
    }

    private static Profile Measure(IReadOnlyList<ConsumedRecord> records, SiemOptions options, int batchSize)
    {
        var metrics = new SiemMetrics(new InProcessMetrics());
        var classifier = new Classifier(options.Classification);
        var normaliser = new EcsNormaliser(classifier);
        var detection = new DetectionEngine(options.Detection);
        var reused = new EcsDocument();
        using var archive = ArchiveWriter.Open(options.Archive, TimeProvider.System, metrics, NullLogger<ArchiveWriter>.Instance);
        long decode = 0, normalise = 0, classify = 0, stage = 0, detect = 0, snapshot = 0, commit = 0, roll = 0, alerts = 0;
        var checkpointBytes = 0L;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var paused = GC.GetTotalPauseDuration();
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        var cpu = ThreadCpu.Nanoseconds();
        var wall = Stopwatch.StartNew();
        for (var from = 0; from < records.Count; from += batchSize)
        {
            var batch = records.Skip(from).Take(batchSize).ToList();
            var t = Stopwatch.GetTimestamp();
            archive.RollIfDue();
            roll += Lap(ref t);
            var ingested = DateTimeOffset.UtcNow;
            foreach (var record in batch)
            {
                var envelope = EnvelopeReader.Read(record.Value);
                decode += Lap(ref t);
                var (doc, rule) = normaliser.Normalise(record, envelope, null, ingested, reused);
                normalise += Lap(ref t);
                _ = classifier.Classify(envelope.Syslog?.AppName, envelope.Message, envelope.Raw ?? envelope.Message);
                classify += Lap(ref t);
                archive.StageEvent(record, doc);
                stage += Lap(ref t);
                if (rule is not null)
                    foreach (var alert in detection.Observe(rule.Name, doc))
                    {
                        archive.StageAlert(DetectionEngine.Document(alert, ingested));
                        alerts++;
                    }
                detect += Lap(ref t);
            }
            detection.Prune();
            var state = detection.HasRules ? detection.Snapshot() : null;
            snapshot += Lap(ref t);
            archive.Commit(NextOffsets(batch), state);
            commit += Lap(ref t);
            checkpointBytes += new FileInfo(Path.Combine(archive.Directory, ArchiveFormat.CheckpointFile)).Length;
        }
        // The second classification is not the sink's work: taken out of the totals.
        var wallNs = wall.Elapsed.TotalNanoseconds - ToNs(classify);
        var cpuNs = ThreadCpu.Nanoseconds() - cpu - ToNs(classify);
        var bytes = ArchiveFormat.ListSegments(archive.Directory).Sum(i => new FileInfo(Path.Combine(archive.Directory, ArchiveFormat.SegmentName(i))).Length);
        var n = (double)records.Count;
        var batches = (records.Count + batchSize - 1) / batchSize;
        var c = CultureInfo.InvariantCulture;
        var stages = new List<Stage>
        {
            new("decode the envelope (`EnvelopeReader.Read` to `TelemetryEvent`)", ToNs(decode) / n),
            new("normalise to ECS, classification included (`EcsNormaliser`)", ToNs(normalise) / n),
            new("… of which classification (timed again on its own)", ToNs(classify) / n),
            new("stage: ECS document to JSON, SHA-256 chain, copy (`ArchiveWriter.StageEvent`)", ToNs(stage) / n),
            new("… of which SHA-256 (the archived bytes hashed again)", Sha256Ns(archive.Directory) / n),
            new("detection (`DetectionEngine.Observe`, alerts staged)", ToNs(detect) / n, string.Create(c, $"{alerts:N0} alerts")),
            new("detection state snapshot (per batch)", ToNs(snapshot) / n),
            new("commit: write, fsync, checkpoint JSON replaced with fsyncs (per batch)", ToNs(commit) / n,
                string.Create(c, $"{batches:N0} commits, {ToNs(commit) / batches / 1e6:N1} ms each, checkpoint {checkpointBytes / batches / 1024.0:N0} KiB")),
            new("segment roll check / seal (per batch)", ToNs(roll) / n),
        };
        return new Profile(stages, wallNs / n, cpuNs / n, alerts, bytes, checkpointBytes / Math.Max(1, batches), records.Count)
        {
            AllocatedPerEvent = (GC.GetAllocatedBytesForCurrentThread() - allocated) / n,
            GcPauses = GC.GetTotalPauseDuration() - paused,
            Gen0 = GC.CollectionCount(0) - gen0,
            Gen1 = GC.CollectionCount(1) - gen1,
            Gen2 = GC.CollectionCount(2) - gen2,
        };

        static long Lap(ref long t)
        {
            var now = Stopwatch.GetTimestamp();
            var lap = now - t;
            t = now;
            return lap;
        }
    }

    private static double ToNs(long ticks) => ticks * 1e9 / Stopwatch.Frequency;

    private static Dictionary<PartitionKey, long> NextOffsets(List<ConsumedRecord> batch)
    {
        var next = new Dictionary<PartitionKey, long>();
        foreach (var r in batch) next[r.PartitionKey] = Math.Max(next.GetValueOrDefault(r.PartitionKey), r.Offset + 1);
        return next;
    }

    /// <summary>SHA-256 over every archived byte, in record-sized pieces (as the chain hashes them), in nanoseconds.</summary>
    private static double Sha256Ns(string directory)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> hash = stackalloc byte[32];
        var clock = new Stopwatch();
        foreach (var index in ArchiveFormat.ListSegments(directory))
        {
            using var reader = new LineReader(Path.Combine(directory, ArchiveFormat.SegmentName(index)), 0, long.MaxValue);
            while (reader.ReadLine())
            {
                clock.Start();
                sha.AppendData(hash);
                sha.AppendData(reader.Line);
                sha.TryGetHashAndReset(hash, out _);
                clock.Stop();
            }
        }
        return clock.Elapsed.TotalNanoseconds;
    }

    public static string Table(Profile profile)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("| stage | ns/event | notes |");
        text.AppendLine("|---|---:|---|");
        foreach (var s in profile.Stages) text.AppendLine(c, $"| {s.Name} | {s.NanosecondsPerEvent:N0} | {s.Notes} |");
        text.AppendLine(c, $"| **whole loop, wall** (the second classification left out) | **{profile.WallNsPerEvent:N0}** | thread CPU {profile.CpuNsPerEvent:N0} ns/event (fsync waits are not CPU) |");
        text.AppendLine();
        text.AppendLine(c, $"Allocated {profile.AllocatedPerEvent:N0} bytes/event (the second classification included); GC: {profile.Gen0:N0} gen0, {profile.Gen1:N0} gen1, {profile.Gen2:N0} gen2 collections, {profile.GcPauses.TotalMilliseconds:N0} ms of pauses ({profile.GcPauses.TotalNanoseconds / (profile.WallNsPerEvent * profile.Records):P1} of the loop).");
        return text.ToString();
    }
}
