using Pipeline.Core.Envelope;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Noc;

/// <summary>The generic Files sink a new team starts with, as its own process: at least once, to rotated files or stdout.</summary>
public sealed class FilesConsumerTests(ITestOutputHelper output)
{
    [KafkaFact]
    public async Task KilledWithSigkillMidStreamAndRestartedTheFilesConsumerStillHoldsEveryRecordInRotatedFiles()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 3, partitions: 6);
        var topic = "files-" + Guid.NewGuid().ToString("N")[..8];
        var partitions = pipeline.Kafka.CreateTopic(topic, 6);
        var stream = new NocStream(30_000);
        stream.Produce(pipeline.Kafka.BootstrapServers, topic);
        var directory = Directory.CreateTempSubdirectory("files-kill-").FullName;
        try
        {
            string[] args = ["--output", directory, "--group", "new_team", "--topics", topic, "--batch-size", "500", "--batch-wait", "00:00:01",
                "--max-file-bytes", "2097152", "--Consumer:SessionTimeout=00:00:06", "--Consumer:DrainTimeout=00:00:04"];
            var first = await pipeline.StartConsumerAsync(NocConsumers.FilesProject, args);
            await Eventually.Until(() => Task.FromResult(Lines(directory).Count), n => n >= 5_000, TimeSpan.FromMinutes(1), "lines before the kill", TimeSpan.FromMilliseconds(50));
            await first.KillAsync();
            var atKill = Lines(directory).Count;

            var second = await pipeline.StartConsumerAsync(NocConsumers.FilesProject, args);
            await Eventually.Until(() => Task.FromResult(Lines(directory).Select(IdOf).Distinct().Count()), n => n >= stream.Count, TimeSpan.FromMinutes(2),
                "every record in the files", TimeSpan.FromMilliseconds(500));
            await second.StopAsync();

            var lines = Lines(directory);
            var ids = lines.Select(IdOf).ToList();
            output.WriteLine($"{atKill:N0} lines at the kill; {lines.Count:N0} lines in {Directory.GetFiles(directory).Length} files at the end, {lines.Count - stream.Count:N0} written twice");
            // At least once: every record is there, each line whole; a batch written but not committed when the
            // process died may be there twice.
            Assert.Equal(Enumerable.Range(0, stream.Count), ids.Select(NocStream.IndexOf).Distinct().Order());
            Assert.True(lines.Count - stream.Count <= 500 * partitions, $"{lines.Count - stream.Count} duplicates, more than the uncommitted batches");
            Assert.True(Directory.GetFiles(directory, "new_team-*.jsonl").Length >= 2, "the files were rotated by size");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [KafkaFact]
    public async Task InStdoutModeEachEventIsOneLineOnStandardOutput()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 3, partitions: 6);
        var topic = "files-stdout-" + Guid.NewGuid().ToString("N")[..8];
        pipeline.Kafka.CreateTopic(topic, 6);
        var stream = new NocStream(300);
        stream.Produce(pipeline.Kafka.BootstrapServers, topic);
        var files = await pipeline.StartConsumerAsync(NocConsumers.FilesProject,
            ["--output", "stdout", "--group", "tail_team", "--topics", topic, "--batch-wait", "00:00:01"]);
        await Eventually.True(() => Json(files.Output).Count >= stream.Count, TimeSpan.FromSeconds(60), "lines on stdout");
        await files.StopAsync();
        Assert.Equal(Enumerable.Range(0, stream.Count), Json(files.Output).Select(e => NocStream.IndexOf(e.Id)).Order());
    }

    private static List<TelemetryEvent> Json(string output) =>
        output.Split('\n').Where(l => l.StartsWith('{')).Select(l => EnvelopeCodec.Decode(System.Text.Encoding.UTF8.GetBytes(l))).ToList();

    private static string IdOf(byte[] line) => EnvelopeCodec.Decode(line).Id;

    /// <summary>Every complete line of the directory's jsonl files (a line being written is counted once its newline is there).</summary>
    private static List<byte[]> Lines(string directory)
    {
        var lines = new List<byte[]>();
        foreach (var file in Directory.GetFiles(directory, "*.jsonl"))
        {
            byte[] bytes;
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }
            catch (FileNotFoundException)
            {
                continue; // rotated away between listing and opening; the next poll sees it under its new name
            }
            var rest = bytes.AsSpan(0, bytes.AsSpan().LastIndexOf((byte)'\n') + 1);
            while (rest.Length > 0)
            {
                var end = rest.IndexOf((byte)'\n');
                lines.Add(rest[..end].ToArray());
                rest = rest[(end + 1)..];
            }
        }
        return lines;
    }
}
