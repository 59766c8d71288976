using System.Text;
using System.Text.Json;
using Pipeline.Consumers.Files;
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
    public async Task OnlyTheNewestRotatedFilesAreKeptWhenALimitIsSet()
    {
        using var sink = new FilesSink(new FilesOptions { Output = _directory, MaxFileBytes = 1024, KeepFiles = 2 }, "new_team", TimeProvider.System);
        for (var batch = 0; batch < 12; batch++)
            await sink.WriteAsync(Batch(Enumerable.Range(0, 8).Select(i => Json(batch * 8 + i))), default);
        Assert.Equal(2, Directory.GetFiles(_directory, "new_team-*.jsonl").Length);
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

    private static byte[] Json(long n) => Encoding.UTF8.GetBytes($"{{\"n\":{n},\"message\":\"{new string('x', 200)}\"}}");

    private static SinkBatch Batch(IEnumerable<byte[]> values)
    {
        var records = values.Select((v, i) => new ConsumedRecord("events", 0, i, null, v, DateTimeOffset.UnixEpoch)).ToList();
        return new SinkBatch(records, new Dictionary<PartitionKey, long> { [new PartitionKey("events", 0)] = records.Count });
    }
}
