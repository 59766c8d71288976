using System.Diagnostics;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Noc;

/// <summary>
/// Workers with stable identities in their group (static membership): killed and started again at once, a
/// worker takes back its own partitions and the group still writes every record exactly once; two workers
/// cannot share an identity on one host.
/// </summary>
public sealed class NocRestartTests(ITestOutputHelper output)
{
    private const int Partitions = 6;

    [Fact]
    public async Task AWorkerKilledAndStartedAgainAtOnceTakesBackItsOwnPartitionsAndEveryRecordIsWrittenExactlyOnce()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 3, partitions: Partitions);
        pipeline.Kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var topic = "noc-restart-" + Guid.NewGuid().ToString("N")[..8];
        pipeline.Kafka.CreateTopic(topic, Partitions);
        var group = "noc-" + Guid.NewGuid().ToString("N")[..8];
        // A session long enough for the killed worker to be back within it, however slowly this machine starts it.
        string[] Member(string id) => ["--instance-id", id, "--Consumer:SessionTimeout=00:00:10", "--batch-size", "500"];
        var a = await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, group, topic, Member("noc-a"));
        var b = await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, group, topic, Member("noc-b"));
        Assert.Contains("member noc-a (classic protocol, session 10 s, heartbeat 3.333 s)", a.Output, StringComparison.Ordinal);

        var stream = new NocStream(40_000);
        var producing = Task.Run(() =>
        {
            for (var from = 0; from < stream.Count; from += 2_000) stream.Produce(pipeline.Kafka.BootstrapServers, topic, from, from + 2_000);
        });
        var (heldByA, heldByB) = await Eventually.Until(async () => (await HeldAsync(a, group), await HeldAsync(b, group)),
            h => h.Item1.Count > 0 && h.Item2.Count > 0 && h.Item1.Count + h.Item2.Count == Partitions, TimeSpan.FromSeconds(60), "both workers hold partitions");
        await NocConsumers.WaitForRowsAsync(db, topic, 5_000, TimeSpan.FromSeconds(60), a);

        var clock = Stopwatch.StartNew();
        await a.KillAsync();
        var again = await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, group, topic, Member("noc-a"));
        // Its partitions may come back one assignment round after another: wait until it holds as many as before.
        var back = await Eventually.Until(() => HeldAsync(again, group), h => h.Count >= heldByA.Count, TimeSpan.FromSeconds(60), "the restarted worker holds partitions");
        output.WriteLine($"noc-a held {string.Join(",", heldByA.Order())}, holds {string.Join(",", back.Order())} again {clock.Elapsed.TotalSeconds:F1} s after the kill");
        Assert.Equal(heldByA.Order(), back.Order());
        Assert.Equal(heldByB.Order(), (await HeldAsync(b, group)).Order());

        await producing;
        await NocConsumers.WaitForRowsAsync(db, topic, stream.Count, TimeSpan.FromMinutes(2), again);
        await NocTable.AssertExactlyOneRowPerRecordAsync(db, pipeline.Kafka.BootstrapServers, topic, Partitions);
        await again.StopAsync();
        await b.StopAsync();
    }

    [Fact]
    public async Task ASecondWorkerClaimingAnIdentityHeldInItsGroupOnThisHostIsRefusedAtStartUp()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 1);
        var directory = Directory.CreateTempSubdirectory("files-identity-").FullName;
        try
        {
            var group = "files-" + Guid.NewGuid().ToString("N")[..8];
            string[] Args(string id) => ["--output", Path.Combine(directory, id), "--group", group, "--topics", "syslog", "--instance-id", "files-1"];
            var first = await pipeline.StartConsumerAsync(NocConsumers.FilesProject, Args("first"));
            var second = await pipeline.StartConsumerAsync(NocConsumers.FilesProject, Args("second"), waitHealthy: false);
            await Eventually.True(() => second.HasExited, TimeSpan.FromSeconds(60), "the second worker exits");
            Assert.Equal(2, second.ExitCode);
            // Its output is read from the process a moment after it exits.
            var refusal = "group.instance.id 'files-1' is already used in group '" + group + "' by another worker on this host";
            await Eventually.True(() => second.Output.Contains(refusal, StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the refusal in the second worker's output");
            Assert.Contains(refusal, second.Output, StringComparison.Ordinal);
            Assert.False(first.HasExited);
            // Another identity in the same group is a second member, as it should be.
            var third = await pipeline.StartConsumerAsync(NocConsumers.FilesProject, [.. Args("third")[..^1], "files-2"]);
            Assert.False(third.HasExited);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The partitions a worker holds: one <c>consumer_lag_messages</c> series each.</summary>
    private static async Task<List<string>> HeldAsync(PipelineProcess worker, string group) =>
        (await MetricsText.ScrapeAsync(worker)).LabelSets("consumer_lag_messages").Where(l => l.GetValueOrDefault("group") == group)
            .Select(l => l["partition"]).Distinct().ToList();
}
