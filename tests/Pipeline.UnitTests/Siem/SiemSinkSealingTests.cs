using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Consumers.Siem;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Detection;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Kafka.Consuming;
using Pipeline.Testing;

namespace Pipeline.UnitTests.Siem;

/// <summary>
/// A segment that becomes due with a batch's commit is sealed while the next batch is being read; the next write
/// waits for that seal (and fails as it failed), so every seal still falls wholly between two batches.
/// </summary>
public sealed class SiemSinkSealingTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<Pipeline.Core.Envelope.TelemetryEvent> _events = SiemTestData.AuthLog(SiemTestData.AuthLogSample);

    public void Dispose() => _dir.Dispose();

    private SiemSink Sink(ArchiveWriter archive)
    {
        var options = SiemTestData.ShippedOptions();
        return new SiemSink(archive, new EcsNormaliser(new Classifier(options.Classification)), new DetectionEngine(options.Detection), TimeProvider.System,
            new SiemMetrics(new InProcessMetrics()), NullLogger<SiemSink>.Instance);
    }

    private SinkBatch Batch(long from, int count)
    {
        var records = Enumerable.Range(0, count).Select(i => SiemTestData.Record(_events[(int)((from + i) % _events.Count)], from + i)).ToList();
        return new SinkBatch(records, new Dictionary<PartitionKey, long> { [new PartitionKey("syslog", 0)] = from + count });
    }

    [Fact]
    public async Task ASegmentDueAfterACommitIsSealedBeforeTheNextBatchIsArchived()
    {
        using var archive = TestArchive.Open(_dir.Path, segmentMaxBytes: 16 * 1024);
        using var sink = Sink(archive);

        await sink.WriteAsync(Batch(0, 20), default);
        await sink.WriteAsync(Batch(20, 5), default);
        sink.Dispose();

        var manifest = ArchiveJson.Read(Path.Combine(_dir.Path, ArchiveFormat.ManifestName(1)), ArchiveJson.Default.SegmentManifest)!;
        Assert.Equal((20L, 0L, 19L), (manifest.Events, manifest.Partitions.Single().FirstOffset, manifest.Partitions.Single().LastOffset));
        Assert.Equal(5, File.ReadAllLines(Path.Combine(_dir.Path, ArchiveFormat.SegmentName(2))).Count(l => l.Contains("\"type\":\"event\"", StringComparison.Ordinal)));
        Assert.True(ArchiveVerifier.Verify(_dir.Path).Ok);
    }

    [Fact]
    public async Task ASealThatFailsFailsTheNextWriteAndEveryWriteAfterUntilTheSegmentChainsAgain()
    {
        using var archive = TestArchive.Open(_dir.Path, segmentMaxBytes: 16 * 1024);
        using var sink = Sink(archive);
        await sink.WriteAsync(Batch(0, 5), default);
        // Altered under the sink after its commit (same length), then the next commit makes the segment due.
        var path = Path.Combine(_dir.Path, ArchiveFormat.SegmentName(1));
        var original = File.ReadAllBytes(path);
        var altered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(original).Replace("bastion01", "bastion02", StringComparison.Ordinal));
        File.WriteAllBytes(path, altered);
        await sink.WriteAsync(Batch(5, 20), default);

        var first = await Assert.ThrowsAsync<InvalidDataException>(() => sink.WriteAsync(Batch(25, 5), default));
        var again = await Assert.ThrowsAsync<InvalidDataException>(() => sink.WriteAsync(Batch(25, 5), default));

        Assert.Contains("cannot seal segment-000001.ndjson", first.Message, StringComparison.Ordinal);
        Assert.Contains("cannot seal segment-000001.ndjson", again.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.Path, ArchiveFormat.ManifestName(1))));
        File.WriteAllBytes(path, [.. original, .. File.ReadAllBytes(path)[original.Length..]]);
        await sink.WriteAsync(Batch(25, 5), default);
        sink.Dispose();
        Assert.True(File.Exists(Path.Combine(_dir.Path, ArchiveFormat.ManifestName(1))));
        Assert.True(ArchiveVerifier.Verify(_dir.Path).Ok);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), TestArchive.Offsets(_dir.Path).Select(o => o.Offset));
    }
}
