using Microsoft.Win32.SafeHandles;
using Pipeline.Consumers.Siem.Archive;

namespace Pipeline.UnitTests.Siem;

/// <summary>
/// The writer's check before sealing: keyed tags of what was committed match the file only while it holds exactly
/// those bytes — any byte changed, taken out or added, anywhere, and the check fails.
/// </summary>
public sealed class SegmentTagsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Three commits (the second longer than a run) written to a file and tagged as they were committed.</summary>
    private (string Path, SegmentTags Tags) Committed()
    {
        var random = new Random(3);
        var path = Path.Combine(_dir.Path, "segment");
        var tags = new SegmentTags();
        using var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite);
        foreach (var size in new[] { 1000, SegmentTags.RunBytes + 12345, 77 })
        {
            var bytes = new byte[size];
            random.NextBytes(bytes);
            RandomAccess.Write(file, bytes, tags.Length);
            tags.Add(bytes);
        }
        return (path, tags);
    }

    private static bool Match(string path, SegmentTags tags)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        return tags.Match(file, RandomAccess.GetLength(file));
    }

    [Fact]
    public void TheFileAsCommittedMatches()
    {
        var (path, tags) = Committed();

        Assert.True(Match(path, tags));
        Assert.Equal(new FileInfo(path).Length, tags.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(1000)]
    [InlineData(1000 + (1 << 20))]
    [InlineData(-1)]
    public void AnyByteChangedFailsTheMatch(long at)
    {
        var (path, tags) = Committed();
        var bytes = File.ReadAllBytes(path);
        var position = at >= 0 ? at : bytes.Length + at;
        bytes[position] ^= 0x20;
        File.WriteAllBytes(path, bytes);

        Assert.False(Match(path, tags));
    }

    [Fact]
    public void BytesTakenOutOrAddedFailTheMatch()
    {
        var (path, tags) = Committed();
        var bytes = File.ReadAllBytes(path);

        File.WriteAllBytes(path, bytes[..^1]);
        Assert.False(Match(path, tags));
        File.WriteAllBytes(path, [.. bytes, (byte)'\n']);
        Assert.False(Match(path, tags));
        File.WriteAllBytes(path, [.. bytes[..500], .. bytes[501..], bytes[500]]);
        Assert.False(Match(path, tags));
    }

    [Fact]
    public void AFileTaggedAsItStandsAfterARestartMatchesUntilItIsChanged()
    {
        var (path, _) = Committed();
        using var tags = new SegmentTags();
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read)) tags.AddFrom(file, RandomAccess.GetLength(file));

        Assert.True(Match(path, tags));
        var bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 1;
        File.WriteAllBytes(path, bytes);
        Assert.False(Match(path, tags));
    }

    [Fact]
    public void TagsMadeButNotAppendedCoverNothing()
    {
        var (path, tags) = Committed();
        var before = tags.Length;

        _ = tags.Make(new byte[10]);

        Assert.Equal(before, tags.Length);
        Assert.True(Match(path, tags));
        tags.Clear();
        Assert.Equal(0, tags.Length);
    }
}
