using Pipeline.Consumers.Siem.Archive;

namespace Pipeline.UnitTests.Siem;

public sealed class ArchiveVerifierTests : IDisposable
{
    private readonly TempDir _dir = new();

    public ArchiveVerifierTests() => TestArchive.Build(_dir.Path, batches: 12, segmentMaxBytes: 4096);

    public void Dispose() => _dir.Dispose();

    private string Segment(long index) => Path.Combine(_dir.Path, ArchiveFormat.SegmentName(index));

    private ArchiveProblem Problem()
    {
        var result = ArchiveVerifier.Verify(_dir.Path);
        Assert.False(result.Ok, "verify passed an altered archive");
        return result.Problem!;
    }

    private void EditLines(long segment, Func<List<string>, List<string>> edit) =>
        File.WriteAllText(Segment(segment), string.Join("", edit(File.ReadAllLines(Segment(segment)).ToList()).Select(l => l + "\n")));

    [Fact]
    public void AnIntactArchivePasses()
    {
        var result = ArchiveVerifier.Verify(_dir.Path);

        Assert.True(result.Ok, result.Problem?.ToString());
        Assert.Equal(120, result.Records);
        Assert.True(result.Segments >= 3);
    }

    [Fact]
    public void EditingOneByteOfARecordFailsAtThatLineAsEdited()
    {
        var bytes = File.ReadAllBytes(Segment(1));
        var fifthLine = Enumerable.Range(0, bytes.Length).Where(i => bytes[i] == '\n').ElementAt(3) + 1;
        var at = Array.IndexOf(bytes, (byte)'n', fifthLine + 60);
        bytes[at] = (byte)'N';
        File.WriteAllBytes(Segment(1), bytes);

        var problem = Problem();

        Assert.Equal((ArchiveFormat.SegmentName(1), 5L, "edited"), (problem.Segment, problem.Line, problem.Kind));
    }

    [Fact]
    public void AnySingleByteChangedAnywhereIsReportedAtTheLineThatHoldsIt()
    {
        var random = new Random(20250312);
        var segments = ArchiveFormat.ListSegments(_dir.Path);
        var originals = segments.ToDictionary(s => s, s => File.ReadAllBytes(Segment(s)));
        for (var trial = 0; trial < 150; trial++)
        {
            var segment = segments[random.Next(segments.Count)];
            var bytes = (byte[])originals[segment].Clone();
            var at = random.Next(bytes.Length);
            if (bytes[at] == '\n') continue;
            byte replacement;
            do replacement = (byte)random.Next(32, 127); while (replacement == bytes[at]);
            bytes[at] = replacement;
            File.WriteAllBytes(Segment(segment), bytes);
            var line = bytes.AsSpan(0, at).Count((byte)'\n') + 1;

            var problem = Problem();

            Assert.True((ArchiveFormat.SegmentName(segment), (long)line) == (problem.Segment, problem.Line),
                $"byte {at} of {ArchiveFormat.SegmentName(segment)} (line {line}) changed to '{(char)replacement}', reported: {problem}");
            File.WriteAllBytes(Segment(segment), originals[segment]);
        }
    }

    [Fact]
    public void DeletingALineFailsAtThatLineAsDeleted()
    {
        EditLines(1, lines => { lines.RemoveAt(4); return lines; });

        var problem = Problem();

        Assert.Equal((ArchiveFormat.SegmentName(1), 5L, "deleted"), (problem.Segment, problem.Line, problem.Kind));
    }

    [Fact]
    public void DeletingTheLastLineOfASealedSegmentFailsAgainstItsManifest()
    {
        var count = File.ReadAllLines(Segment(1)).Length;
        EditLines(1, lines => lines.SkipLast(1).ToList());

        var problem = Problem();

        Assert.Equal((ArchiveFormat.SegmentName(1), (long)count, "deleted"), (problem.Segment, problem.Line, problem.Kind));
    }

    [Fact]
    public void DeletingTheLastCommittedLineOfTheOpenSegmentFailsAgainstTheCheckpoint()
    {
        var last = ArchiveFormat.ListSegments(_dir.Path)[^1];
        var count = File.ReadAllLines(Segment(last)).Length;
        EditLines(last, lines => lines.SkipLast(1).ToList());

        var problem = Problem();

        Assert.Equal((ArchiveFormat.SegmentName(last), (long)count, "deleted"), (problem.Segment, problem.Line, problem.Kind));
    }

    [Fact]
    public void SwappingTwoNeighbouringLinesFailsAtTheFirstAsReordered()
    {
        EditLines(2, lines => { (lines[3], lines[4]) = (lines[4], lines[3]); return lines; });

        var problem = Problem();

        Assert.Equal((ArchiveFormat.SegmentName(2), 4L, "reordered"), (problem.Segment, problem.Line, problem.Kind));
    }

    [Fact]
    public void SwappingTwoDistantLinesFailsAtTheFirstAsReordered()
    {
        EditLines(1, lines => { (lines[1], lines[6]) = (lines[6], lines[1]); return lines; });

        var problem = Problem();

        Assert.Equal((ArchiveFormat.SegmentName(1), 2L, "reordered"), (problem.Segment, problem.Line, problem.Kind));
    }

    [Fact]
    public void InsertingACopyOfARecordFailsAtTheCopyAsInserted()
    {
        EditLines(1, lines => { lines.Insert(3, lines[2]); return lines; });

        var problem = Problem();

        Assert.Equal((ArchiveFormat.SegmentName(1), 4L, "inserted"), (problem.Segment, problem.Line, problem.Kind));
    }

    [Fact]
    public void RemovingAWholeSealedSegmentIsReported()
    {
        File.Delete(Segment(2));
        File.Delete(Path.Combine(_dir.Path, ArchiveFormat.ManifestName(2)));

        var problem = Problem();

        Assert.Equal((ArchiveFormat.SegmentName(2), "deleted"), (problem.Segment, problem.Kind));
    }

    [Fact]
    public void TheVerifyCommandExitsZeroWhenIntactOneWhenAlteredAndNamesSegmentAndLine()
    {
        var output = new StringWriter();
        Assert.Equal(0, ArchiveVerifier.Run([_dir.Path], output, TextWriter.Null));
        Assert.StartsWith("OK 120 records", output.ToString(), StringComparison.Ordinal);

        EditLines(1, lines => { lines.RemoveAt(6); return lines; });
        output = new StringWriter();
        Assert.Equal(1, ArchiveVerifier.Run([_dir.Path], output, TextWriter.Null));
        Assert.Contains("FAILED segment-000001.ndjson line 7: deleted", output.ToString(), StringComparison.Ordinal);

        Assert.Equal(2, ArchiveVerifier.Run([], TextWriter.Null, TextWriter.Null));
    }
}
