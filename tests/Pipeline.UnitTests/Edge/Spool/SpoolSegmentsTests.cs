using Pipeline.Edge.Publishing.Spool;

namespace Pipeline.UnitTests.Edge.Spool;

public sealed class SpoolSegmentsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("segments-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void ASegmentGoesOnlyOnceSealedWhollyAcknowledgedAndIfTheReaderIsInItWhollyRead()
    {
        var files = new SpoolFiles(_directory);
        var segments = new SpoolSegments(files);
        var segment = new SpoolSegment(7) { Count = 2, Length = 100, Written = 100 };
        File.WriteAllText(files.SegmentPath(7), "x");
        File.WriteAllText(files.AckedPath(7), "1");
        segments.Map[7] = segment;
        segments.AddBytes(100);
        segments.ReadSegment = 7;

        segment.Ack(1);
        segments.TryDelete(segment);
        Assert.True(segments.Map.ContainsKey(7));
        Assert.Equal(0, segment.AckedPrefix);

        segment.Ack(0);
        Assert.Equal(2, segment.AckedPrefix);
        segments.TryDelete(segment);
        Assert.True(segments.Map.ContainsKey(7)); // not sealed yet

        segment.Sealed = true;
        segments.TryDelete(segment);
        Assert.True(segments.Map.ContainsKey(7)); // the reader has not finished it

        segment.FullyRead = true;
        segments.TryDelete(segment);
        Assert.False(segments.Map.ContainsKey(7));
        Assert.Equal(0, segments.Bytes);
        Assert.False(File.Exists(files.SegmentPath(7)));
        Assert.False(File.Exists(files.AckedPath(7)));
    }

    [Fact]
    public void ACheckpointedPrefixIsReadBackAndAMissingOrGarbledOneIsZero()
    {
        var files = new SpoolFiles(_directory);
        File.WriteAllText(files.AckedPath(1), "42");
        File.WriteAllText(files.AckedPath(2), "-3");
        Assert.Equal(42, files.ReadAckedPrefix(1));
        Assert.Equal(0, files.ReadAckedPrefix(2));
        Assert.Equal(0, files.ReadAckedPrefix(3));
        Assert.Equal("0000000000000001.spool", Path.GetFileName(files.SegmentPath(1)));
    }
}
