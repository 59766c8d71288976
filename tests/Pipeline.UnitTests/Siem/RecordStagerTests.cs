using System.Security.Cryptography;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Siem;

/// <summary>
/// The stager frames and chains records in one buffer (each link one SHA-256 over the previous hash and the record)
/// and counts what it staged; the verifier must read its lines exactly as the format says.
/// </summary>
public sealed class RecordStagerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ConsumedRecord Record(int partition, long offset) => new("syslog", partition, offset, null, [], SiemTestData.T0);

    /// <summary>Events of partitions 0..2 interleaved, an alert after every fifth, into a segment file; returns its path and length.</summary>
    private (string Path, long Length, RecordStager Stager) Staged(int events = 30)
    {
        var stager = new RecordStager();
        stager.Restart(0, ArchiveFormat.GenesisHex);
        for (var i = 0; i < events; i++)
        {
            stager.Stage(Record(i % 3, 100 + i / 3), TestArchive.Doc("syslog", i % 3, 100 + i / 3));
            if (i % 5 == 4) stager.Stage(null, new EcsDocument().Set("event.kind", "alert").Set("event.id", $"alert-{i}"));
        }
        var path = Path.Combine(_dir.Path, ArchiveFormat.SegmentName(1));
        File.WriteAllBytes(path, stager.Pending.ToArray());
        return (path, stager.Pending.Length, stager);
    }

    [Fact]
    public void StagedLinesChainAsTheVerifierReadsThemAndTheTallyCountsWhatTheVerifierCounts()
    {
        var (path, length, stager) = Staged();

        var (stats, problem) = ArchiveVerifier.CheckSegment(path, length, ArchiveFormat.GenesisHex, 1);

        Assert.Null(problem);
        Assert.Equal(36, stats.Records);
        Assert.Equal(stats.FinalHash, ArchiveFormat.ToHex(stager.Head));
        Assert.Equal(36, stager.Seq);
        var tally = stager.Staged;
        Assert.Equal((stats.Records, stats.Events, stats.Alerts, stats.FirstSeq, stats.LastSeq, stats.FirstPrev),
            (tally.Records, tally.Events, tally.Alerts, tally.FirstSeq, tally.LastSeq, tally.FirstPrev));
        Assert.Equal(stats.Partitions.Values.ToList(), tally.Partitions);
        Assert.Equal(stats.Partitions.Values.ToList(), SegmentTally.From(stats).Partitions);
        Assert.Equal(new PartitionRange("syslog", 1, 100, 109, 10), tally.Partitions[1]);
    }

    [Fact]
    public void TalliesOfSuccessiveBatchesAddUpToTheTallyOfTheWholeRun()
    {
        var (_, _, whole) = Staged();
        var sum = new SegmentTally();
        var stager = new RecordStager();
        stager.Restart(0, ArchiveFormat.GenesisHex);
        for (var i = 0; i < 30; i++)
        {
            stager.Stage(Record(i % 3, 100 + i / 3), TestArchive.Doc("syslog", i % 3, 100 + i / 3));
            if (i % 5 == 4) stager.Stage(null, new EcsDocument().Set("event.kind", "alert").Set("event.id", $"alert-{i}"));
            if (i % 7 != 6) continue;
            // A commit: the batch's tally joins the segment's, and staging goes on from the chain's head.
            sum.Add(stager.Staged);
            stager.Restart(stager.Seq, ArchiveFormat.ToHex(stager.Head));
        }
        sum.Add(stager.Staged);

        Assert.Equal((whole.Staged.Records, whole.Staged.Events, whole.Staged.Alerts, whole.Staged.FirstSeq, whole.Staged.LastSeq, whole.Staged.FirstPrev),
            (sum.Records, sum.Events, sum.Alerts, sum.FirstSeq, sum.LastSeq, sum.FirstPrev));
        Assert.Equal(whole.Staged.Partitions, sum.Partitions);
        Assert.Equal(whole.Head.ToArray(), stager.Head.ToArray());
    }

    [Fact]
    public void ADocumentThatCannotBeWrittenIsRefusedAndLeavesTheChainAndTheTallyAsTheyWere()
    {
        var stager = new RecordStager();
        stager.Restart(0, ArchiveFormat.GenesisHex);
        stager.Stage(Record(0, 1), TestArchive.Doc("syslog", 0, 1));
        var (head, pending, records) = (stager.Head.ToArray(), stager.Pending.ToArray(), stager.Staged.Records);

        Assert.Throws<InvalidOperationException>(() => stager.Stage(Record(0, 2), new EcsDocument().Set("message", "m").Set("x", new List<int> { 1 })));

        Assert.Equal(head, stager.Head.ToArray());
        Assert.Equal(pending, stager.Pending.ToArray());
        Assert.Equal((1L, records), (stager.Seq, stager.Staged.Records));
        stager.Stage(Record(0, 2), TestArchive.Doc("syslog", 0, 2));
        var path = Path.Combine(_dir.Path, ArchiveFormat.SegmentName(1));
        File.WriteAllBytes(path, stager.Pending.ToArray());
        Assert.Null(ArchiveVerifier.CheckSegment(path, stager.Pending.Length, ArchiveFormat.GenesisHex, 1).Problem);
    }

    [Fact]
    public void ALoneSurrogateIsArchivedAsTheReplacementCharacterAndTheLineChains()
    {
        var stager = new RecordStager();
        stager.Restart(0, ArchiveFormat.GenesisHex);
        stager.Stage(Record(0, 1), new EcsDocument().Set("message", "a lone \ud800 surrogate"));
        var path = Path.Combine(_dir.Path, ArchiveFormat.SegmentName(1));
        File.WriteAllBytes(path, stager.Pending.ToArray());

        Assert.Contains("a lone \\uFFFD surrogate", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.Null(ArchiveVerifier.CheckSegment(path, stager.Pending.Length, ArchiveFormat.GenesisHex, 1).Problem);
    }

    /// <summary>The line as a <see cref="System.Text.Json.Utf8JsonWriter"/> writes it, member by member (what the stager writes without one).</summary>
    private static byte[] WrittenMemberByMember(ConsumedRecord? source, EcsDocument doc, long seq, ReadOnlySpan<byte> prev)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Span<byte> hex = stackalloc byte[64];
            ArchiveFormat.ToHex(prev, hex);
            json.WriteStartObject();
            json.WriteNumber("seq"u8, seq);
            json.WriteString("prev"u8, hex);
            json.WriteString("type"u8, source is null ? "alert" : "event");
            if (source is not null)
            {
                json.WriteString("topic"u8, source.Topic);
                json.WriteNumber("partition"u8, source.Partition);
                json.WriteNumber("offset"u8, source.Offset);
            }
            json.WritePropertyName("doc"u8);
            doc.WriteTo(json);
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    [Theory]
    [InlineData("syslog", 0, 0L)]
    [InlineData("events.eu-1_b", 2147483647, 9223372036854775806L)]
    [InlineData("odd \"topic\" ü", 3, 42L)]
    [InlineData(null, 0, 0L)]
    public void EachLineIsTheRecordAsAJsonWriterWritesItFollowedByItsHash(string? topic, int partition, long offset)
    {
        var stager = new RecordStager();
        stager.Restart(41, Convert.ToHexStringLower(SHA256.HashData("x"u8)));
        var prev = stager.Head.ToArray();
        var source = topic is null ? null : new ConsumedRecord(topic, partition, offset, null, [], SiemTestData.T0);
        var doc = TestArchive.Doc("syslog", 0, 7).Set("labels", new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });

        stager.Stage(source, doc);

        var content = WrittenMemberByMember(source, doc, 42, prev);
        var expectedHash = SHA256.HashData([.. prev, .. content]);
        var expected = System.Text.Encoding.UTF8.GetString(content[..^1]) + ",\"hash\":\"" + Convert.ToHexStringLower(expectedHash) + "\"}\n";
        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(stager.Pending));
        Assert.Equal(expectedHash, stager.Head.ToArray());
    }
}
