using System.Text;
using System.Text.Json;
using Pipeline.Consumers.Files;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Noc;

public sealed class FilesSinkTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("files-sink-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task EachRecordBecomesOneLineAndTheFileIsRotatedOnceItReachesItsSize()
    {
        using var sink = new FilesSink(new FilesOptions { Output = _directory, MaxFileBytes = 4096 }, "new_team", TimeProvider.System);
        var offset = 0L;
        for (var batch = 0; batch < 10; batch++)
            await sink.WriteAsync(Batch(Enumerable.Range(0, 10).Select(_ => Json(offset++))), default);

        var rotated = Directory.GetFiles(_directory, "new_team-*.jsonl");
        Assert.NotEmpty(rotated);
        Assert.All(rotated, f => Assert.True(new FileInfo(f).Length >= 4096));
        var lines = Directory.GetFiles(_directory, "*.jsonl").SelectMany(File.ReadAllLines).ToList();
        Assert.Equal(100, lines.Count);
        Assert.Equal(Enumerable.Range(0, 100), lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("n").GetInt32()).Order());
    }

    [Fact]
    public async Task OnlyTheNewestRotatedFilesAreKeptEvenWhenSeveralAreRotatedWithinOneSecond()
    {
        // A fixed clock: every rotation falls in the same second, so names differ only by their -n suffix.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero));
        using var sink = new FilesSink(new FilesOptions { Output = _directory, MaxFileBytes = 1024, KeepFiles = 2 }, "new_team", clock);
        for (var batch = 0; batch < 12; batch++)
            await sink.WriteAsync(Batch(Enumerable.Range(0, 8).Select(i => Json(batch * 8 + i))), default);

        var kept = Directory.GetFiles(_directory, "new_team-*.jsonl");
        Assert.Equal(2, kept.Length);
        // The records kept are the newest ones: everything still on disk is a suffix of what was written.
        var onDisk = Directory.GetFiles(_directory, "*.jsonl").SelectMany(File.ReadAllLines)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("n").GetInt32()).Order().ToList();
        Assert.Equal(Enumerable.Range(96 - onDisk.Count, onDisk.Count), onDisk);
    }

    [Fact]
    public async Task RetentionNeverDeletesTheFilesOfAnotherGroupWhoseNameStartsTheSame()
    {
        var other = Path.Combine(_directory, "new_team-x-20260101T000000Z.jsonl");
        await File.WriteAllTextAsync(other, "{\"n\":-1}\n");
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero));
        using var sink = new FilesSink(new FilesOptions { Output = _directory, MaxFileBytes = 1024, KeepFiles = 1 }, "new_team", clock);
        for (var batch = 0; batch < 6; batch++)
        {
            await sink.WriteAsync(Batch(Enumerable.Range(0, 8).Select(i => Json(batch * 8 + i))), default);
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal("{\"n\":-1}\n", await File.ReadAllTextAsync(other));
        // The one rotated file kept is the newest: the last batch's.
        Assert.Equal(Enumerable.Range(40, 8), Numbers(Assert.Single(RotatedFiles.OldestFirst(_directory, "new_team"))));
    }

    [Fact]
    public async Task AClockThatStepsBackDoesNotMakeTheNewestRotatedFileLookTheOldest()
    {
        // The wall clock steps back 5 s between two rotations (NTP, a moved VM). Stamped by that clock, the second
        // file would sort before the first, and retention would delete it at once and keep the older one.
        var clock = new ManualTime(new DateTimeOffset(2026, 12, 4, 10, 0, 5, TimeSpan.Zero));
        using var sink = new FilesSink(new FilesOptions { Output = _directory, MaxFileBytes = 1024, KeepFiles = 1 }, "new_team", clock);
        await sink.WriteAsync(Batch(Enumerable.Range(0, 8).Select(i => Json(i))), default);
        clock.Advance(TimeSpan.FromSeconds(-5));
        await sink.WriteAsync(Batch(Enumerable.Range(8, 8).Select(i => Json(i))), default);
        Assert.Equal(Enumerable.Range(8, 8), Numbers(Assert.Single(RotatedFiles.OldestFirst(_directory, "new_team"))));

        // Still behind the first file's time, the next rotation follows the second.
        clock.Advance(TimeSpan.FromSeconds(1));
        await sink.WriteAsync(Batch(Enumerable.Range(16, 8).Select(i => Json(i))), default);
        Assert.Equal(Enumerable.Range(16, 8), Numbers(Assert.Single(RotatedFiles.OldestFirst(_directory, "new_team"))));
    }

    [Fact]
    public void RotatedFilesAreOrderedByTimeThenBySequenceNotByName()
    {
        foreach (var name in new[] { "g-20261204T100001Z.jsonl", "g-20261204T100000Z-1.jsonl", "g-20261204T100000Z.jsonl", "g-20261204T100000Z-10.jsonl", "g-20261204T100000Z-2.jsonl", "g-x-20261204T090000Z.jsonl" })
            File.WriteAllText(Path.Combine(_directory, name), "");
        Assert.Equal(
            ["g-20261204T100000Z.jsonl", "g-20261204T100000Z-1.jsonl", "g-20261204T100000Z-2.jsonl", "g-20261204T100000Z-10.jsonl", "g-20261204T100001Z.jsonl"],
            RotatedFiles.OldestFirst(_directory, "g").Select(Path.GetFileName));
    }

    [Fact]
    public async Task HalfALineLeftByAKilledProcessIsCutOffBeforeTheNextRecordIsAppended()
    {
        // What a SIGKILL in the middle of writing a batch leaves: whole lines, then part of one.
        var current = Path.Combine(_directory, "new_team.jsonl");
        var half = Json(1);
        await File.WriteAllBytesAsync(current, [.. Json(0), (byte)'\n', .. half.AsSpan(0, half.Length / 2)]);

        using (var sink = new FilesSink(new FilesOptions { Output = _directory }, "new_team", TimeProvider.System))
            await sink.WriteAsync(Batch([Json(1), Json(2)]), default);

        Assert.Equal([0, 1, 2], Numbers(current));
    }

    [Fact]
    public async Task ARecordThatIsNotJsonIsPoisonAndNothingOfItsBatchIsWritten()
    {
        using var sink = new FilesSink(new FilesOptions { Output = _directory }, "new_team", TimeProvider.System);
        var batch = Batch([Json(0), Encoding.UTF8.GetBytes("{\"n\":1} {\"n\":2}"), Json(3)]);
        var poison = await Assert.ThrowsAsync<PoisonRecordException>(() => sink.WriteAsync(batch, default));
        Assert.Equal(1, poison.Record.Offset);
        Assert.False(File.Exists(Path.Combine(_directory, "new_team.jsonl")) && new FileInfo(Path.Combine(_directory, "new_team.jsonl")).Length > 0);
    }

    private static IEnumerable<int> Numbers(string file) =>
        File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("n").GetInt32());

    private static byte[] Json(long n) => Encoding.UTF8.GetBytes($"{{\"n\":{n},\"message\":\"{new string('x', 200)}\"}}");

    private static SinkBatch Batch(IEnumerable<byte[]> values)
    {
        var records = values.Select((v, i) => new ConsumedRecord("events", 0, i, null, v, DateTimeOffset.UnixEpoch)).ToList();
        return new SinkBatch(records, new Dictionary<PartitionKey, long> { [new PartitionKey("events", 0)] = records.Count });
    }
}
