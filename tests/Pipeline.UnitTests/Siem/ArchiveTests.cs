using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Consumers.Siem;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Testing;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Siem;

/// <summary>Builds archives for the tests.</summary>
internal static class TestArchive
{
    public static ArchiveWriter Open(string dir, long segmentMaxBytes = 1 << 20, TimeProvider? time = null, SiemMetrics? metrics = null) =>
        ArchiveWriter.Open(new ArchiveOptions { Directory = dir, SegmentMaxBytes = segmentMaxBytes, SegmentMaxAge = TimeSpan.FromHours(1) },
            time ?? TimeProvider.System, metrics ?? new SiemMetrics(new InProcessMetrics()), NullLogger.Instance);

    /// <summary>Stages and commits events with offsets [from, from + count) of one partition.</summary>
    public static void WriteBatch(ArchiveWriter writer, long from, int count, string topic = "syslog", int partition = 0)
    {
        writer.RollIfDue();
        for (var offset = from; offset < from + count; offset++) writer.StageEvent(new ConsumedRecord(topic, partition, offset, null, [], SiemTestData.T0), Doc(topic, partition, offset));
        writer.Commit(new Dictionary<PartitionKey, long> { [new PartitionKey(topic, partition)] = from + count }, null);
    }

    public static EcsDocument Doc(string topic, int partition, long offset) => new EcsDocument()
        .Set("@timestamp", SiemTestData.T0.AddSeconds(offset))
        .Set("event.id", $"{topic}-{partition}-{offset}")
        .Set("message", $"message number {offset} with = and | and \\ and ünïcödé")
        .Set("pipeline.offset", offset);

    /// <summary>An archive of <paramref name="batches"/> batches of ten over several segments, closed.</summary>
    public static void Build(string dir, int batches = 12, long segmentMaxBytes = 4096)
    {
        using var writer = Open(dir, segmentMaxBytes);
        for (var b = 0; b < batches; b++) WriteBatch(writer, b * 10, 10);
    }

    /// <summary>Every archived event as (topic, partition, offset).</summary>
    public static List<(string Topic, int Partition, long Offset)> Offsets(string dir)
    {
        var result = new List<(string, int, long)>();
        foreach (var index in ArchiveFormat.ListSegments(dir))
            foreach (var line in File.ReadLines(Path.Combine(dir, ArchiveFormat.SegmentName(index))))
            {
                using var json = JsonDocument.Parse(line);
                if (json.RootElement.GetProperty("type").GetString() == "event")
                    result.Add((json.RootElement.GetProperty("topic").GetString()!, json.RootElement.GetProperty("partition").GetInt32(), json.RootElement.GetProperty("offset").GetInt64()));
            }
        return result;
    }
}

public sealed class ArchiveTests
{
    [Fact]
    public void CommittedBatchesFormOneChainThatVerifies()
    {
        using var dir = new TempDir();
        TestArchive.Build(dir.Path, batches: 3, segmentMaxBytes: 1 << 20);

        var result = ArchiveVerifier.Verify(dir.Path);

        Assert.True(result.Ok, result.Problem?.ToString());
        Assert.Equal(30, result.Records);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), TestArchive.Offsets(dir.Path).Select(o => o.Offset));
    }

    [Fact]
    public void EachRecordsHashIsSha256OfThePreviousHashAndTheRecordWithoutItsHash()
    {
        using var dir = new TempDir();
        TestArchive.Build(dir.Path, batches: 1);
        var lines = File.ReadAllLines(Path.Combine(dir.Path, ArchiveFormat.SegmentName(1)));

        var previous = new byte[32];
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var hash = json.RootElement.GetProperty("hash").GetString()!;
            var cut = line.LastIndexOf(",\"hash\":", StringComparison.Ordinal);
            var content = Encoding.UTF8.GetBytes(line[..cut] + "}");
            var expected = SHA256.HashData([.. previous, .. content]);
            Assert.Equal(Convert.ToHexStringLower(expected), hash);
            Assert.Equal(Convert.ToHexStringLower(previous), json.RootElement.GetProperty("prev").GetString());
            previous = expected;
        }
    }

    [Fact]
    public void ACrashAfterTheDataFsyncButBeforeTheCheckpointArchivesNothingTwice()
    {
        using var dir = new TempDir();
        var checkpointPath = Path.Combine(dir.Path, ArchiveFormat.CheckpointFile);
        byte[] beforeSecondBatch;
        using (var writer = TestArchive.Open(dir.Path))
        {
            TestArchive.WriteBatch(writer, 0, 10);
            beforeSecondBatch = File.ReadAllBytes(checkpointPath);
            TestArchive.WriteBatch(writer, 10, 10);
        }
        // As if the process died after the segment's fsync and before the checkpoint: data on disk, offsets not recorded,
        // and a half-written line of a third batch after it.
        File.WriteAllBytes(checkpointPath, beforeSecondBatch);
        File.AppendAllText(Path.Combine(dir.Path, ArchiveFormat.SegmentName(1)), "{\"seq\":21,\"prev\":\"ab");
        var metrics = new SiemMetrics(new InProcessMetrics());

        using (var reopened = TestArchive.Open(dir.Path, metrics: metrics))
        {
            Assert.Equal(10, reopened.Offsets[new PartitionKey("syslog", 0)]);
            Assert.Equal(10, metrics.RecoveredLines.Count);
            Assert.Equal(1, metrics.TornLines.Count);
            // Kafka delivers 10..19 again from the recorded offset.
            TestArchive.WriteBatch(reopened, 10, 10);
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), TestArchive.Offsets(dir.Path).Select(o => o.Offset));
        Assert.True(ArchiveVerifier.Verify(dir.Path).Ok);
    }

    [Fact]
    public void SegmentsRollBySizeAndEachSealedOneHasAManifestOfItsOffsetsAndFinalHash()
    {
        using var dir = new TempDir();
        TestArchive.Build(dir.Path, batches: 12, segmentMaxBytes: 4096);

        var segments = ArchiveFormat.ListSegments(dir.Path);
        Assert.True(segments.Count >= 3, $"{segments.Count} segments");
        var next = 0L;
        foreach (var index in segments.SkipLast(1))
        {
            var manifest = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(dir.Path, ArchiveFormat.ManifestName(index))), ArchiveJson.Default.SegmentManifest)!;
            var range = Assert.Single(manifest.Partitions);
            Assert.Equal(("syslog", 0, next), (range.Topic, range.Partition, range.FirstOffset));
            Assert.Equal(manifest.Records, range.LastOffset - range.FirstOffset + 1);
            var lastLine = File.ReadLines(Path.Combine(dir.Path, ArchiveFormat.SegmentName(index))).Last();
            Assert.Contains($"\"hash\":\"{manifest.FinalHash}\"", lastLine, StringComparison.Ordinal);
            next = range.LastOffset + 1;
        }
        Assert.False(File.Exists(Path.Combine(dir.Path, ArchiveFormat.ManifestName(segments[^1]))));
        Assert.True(ArchiveVerifier.Verify(dir.Path).Ok);
    }

    [Fact]
    public void AnOldSegmentRollsByAgeEvenWithoutNewEvents()
    {
        using var dir = new TempDir();
        var time = new ManualTime(SiemTestData.T0);
        using var writer = TestArchive.Open(dir.Path, time: time);
        TestArchive.WriteBatch(writer, 0, 3);

        Assert.False(writer.RollIfDue());
        time.Advance(TimeSpan.FromHours(1));
        Assert.True(writer.RollIfDue());
        Assert.Equal(2, writer.Committed.Segment);
        Assert.False(writer.RollIfDue());
    }

    [Fact]
    public void ASealCutShortBeforeItsCheckpointIsCompletedAtTheNextStart()
    {
        using var dir = new TempDir();
        var checkpointPath = Path.Combine(dir.Path, ArchiveFormat.CheckpointFile);
        var time = new ManualTime(SiemTestData.T0);
        byte[] beforeSeal;
        using (var writer = TestArchive.Open(dir.Path, time: time))
        {
            TestArchive.WriteBatch(writer, 0, 5);
            beforeSeal = File.ReadAllBytes(checkpointPath);
            time.Advance(TimeSpan.FromHours(2));
            writer.RollIfDue();
        }
        File.WriteAllBytes(checkpointPath, beforeSeal);

        using (var reopened = TestArchive.Open(dir.Path, time: time))
        {
            Assert.Equal(2, reopened.Committed.Segment);
            TestArchive.WriteBatch(reopened, 5, 5);
        }
        Assert.True(ArchiveVerifier.Verify(dir.Path).Ok);
        Assert.Equal(10, TestArchive.Offsets(dir.Path).Count);
    }

    [Fact]
    public void AnArchiveWhoseCheckpointIsGoneIsRebuiltFromTheOffsetsItsRecordsCarry()
    {
        using var dir = new TempDir();
        TestArchive.Build(dir.Path, batches: 5, segmentMaxBytes: 4096);
        File.Delete(Path.Combine(dir.Path, ArchiveFormat.CheckpointFile));

        using (var reopened = TestArchive.Open(dir.Path))
        {
            Assert.Equal(50, reopened.Offsets[new PartitionKey("syslog", 0)]);
            Assert.Equal(50, reopened.Committed.Seq);
            TestArchive.WriteBatch(reopened, 50, 10);
        }
        Assert.True(ArchiveVerifier.Verify(dir.Path).Ok);
    }

    [Fact]
    public void ASecondWriterOnTheSameFolderIsRefused()
    {
        using var dir = new TempDir();
        using var first = TestArchive.Open(dir.Path);

        var error = Assert.Throws<IOException>(() => TestArchive.Open(dir.Path));
        Assert.Contains("in use", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AbortedStagingLeavesTheChainWhereTheLastCommitLeftIt()
    {
        using var dir = new TempDir();
        using (var writer = TestArchive.Open(dir.Path))
        {
            TestArchive.WriteBatch(writer, 0, 5);
            writer.StageEvent(new ConsumedRecord("syslog", 0, 5, null, [], SiemTestData.T0), TestArchive.Doc("syslog", 0, 5));
            writer.Abort();
            TestArchive.WriteBatch(writer, 5, 5);
        }
        Assert.True(ArchiveVerifier.Verify(dir.Path).Ok);
        Assert.Equal(10, TestArchive.Offsets(dir.Path).Count);
    }
}

public sealed class ArchiveSealingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void SealingRefusesAnOpenSegmentAlteredUnderTheWriterAndSaysWhere()
    {
        using var writer = TestArchive.Open(_dir.Path, segmentMaxBytes: 4096);
        TestArchive.WriteBatch(writer, 0, 5);
        var path = Path.Combine(_dir.Path, ArchiveFormat.SegmentName(1));
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text.Replace("message number 2 ", "message number 9 ", StringComparison.Ordinal));
        TestArchive.WriteBatch(writer, 5, 10);

        var ex = Assert.Throws<InvalidDataException>(() => writer.RollIfDue());

        Assert.Contains("cannot seal segment-000001.ndjson", ex.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.Path, ArchiveFormat.ManifestName(1))));
    }

    [Fact]
    public void SealingRefusesAnOpenSegmentRewrittenWithAChainOfItsOwn()
    {
        using var writer = TestArchive.Open(_dir.Path, segmentMaxBytes: 4096);
        TestArchive.WriteBatch(writer, 0, 15);
        var path = Path.Combine(_dir.Path, ArchiveFormat.SegmentName(1));
        // A forger edits a record and chains every line again from the genesis: the segment verifies on its own.
        var previous = new byte[32];
        var lines = File.ReadAllLines(path).Select(line =>
        {
            line = line.Replace("message number 3 ", "message number 8 ", StringComparison.Ordinal);
            var prevAt = line.IndexOf("\"prev\":\"", StringComparison.Ordinal) + 8;
            line = line[..prevAt] + Convert.ToHexStringLower(previous) + line[(prevAt + 64)..];
            var content = line[..^ArchiveFormat.HashSuffixLength] + "}";
            previous = SHA256.HashData([.. previous, .. Encoding.UTF8.GetBytes(content)]);
            return line[..^66] + Convert.ToHexStringLower(previous) + "\"}";
        }).ToList();
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
        Assert.Null(ArchiveVerifier.CheckSegment(path, new FileInfo(path).Length, ArchiveFormat.GenesisHex, 1).Problem);

        var ex = Assert.Throws<InvalidDataException>(() => writer.RollIfDue());

        Assert.Contains("not to the head this writer committed", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.Path, ArchiveFormat.ManifestName(1))));
    }

    [Fact]
    public void ASegmentOpenAcrossARestartIsSealedWithAManifestOfAllItHolds()
    {
        using (var first = TestArchive.Open(_dir.Path, segmentMaxBytes: 8192))
        {
            TestArchive.WriteBatch(first, 0, 4, partition: 0);
            TestArchive.WriteBatch(first, 0, 3, partition: 1);
        }
        using (var second = TestArchive.Open(_dir.Path, segmentMaxBytes: 8192))
        {
            TestArchive.WriteBatch(second, 4, 20, partition: 0);
            Assert.True(second.RollIfDue());
        }

        var manifest = ArchiveJson.Read(Path.Combine(_dir.Path, ArchiveFormat.ManifestName(1)), ArchiveJson.Default.SegmentManifest)!;
        Assert.Equal((27L, 27L, 1L, 27L), (manifest.Records, manifest.Events, manifest.FirstSeq, manifest.LastSeq));
        Assert.Equal([new PartitionRange("syslog", 0, 0, 23, 24), new PartitionRange("syslog", 1, 0, 2, 3)], manifest.Partitions);
        Assert.True(ArchiveVerifier.Verify(_dir.Path).Ok);
    }
}
