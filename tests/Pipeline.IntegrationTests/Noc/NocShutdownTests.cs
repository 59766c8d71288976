using System.Diagnostics;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Noc;

/// <summary>SIGTERM and rebalancing with a batch in hand: nothing is lost, nothing is written twice, the group is left.</summary>
public sealed class NocShutdownTests(ITestOutputHelper output)
{
    private const int Partitions = 6;

    [KafkaFact]
    public async Task SigtermWritesTheBatchInHandRecordsItsOffsetsAndLeavesTheGroupSoItsPartitionsMoveWithoutWaitingForItsSession()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 3, partitions: Partitions);
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var topic = "noc-sigterm-" + Guid.NewGuid().ToString("N")[..8];
        var partitions = pipeline.Kafka.CreateTopic(topic, Partitions);
        var group = "noc-" + Guid.NewGuid().ToString("N")[..8];
        // Batches that never fill nor age during the test: whatever is written is written by SIGTERM or a
        // revoke. Configured from the environment, as a container would be.
        var environment = new Dictionary<string, string>
        {
            ["Postgres__ConnectionString"] = db.ConnectionString,
            ["Consumer__Group"] = group,
            ["Consumer__Topics"] = topic,
            ["Consumer__BatchSize"] = "1000000",
            ["Consumer__BatchMaxWait"] = "00:10:00",
            ["Consumer__BatchLinger"] = "00:10:00",
            ["Consumer__SessionTimeout"] = "00:00:10",
            ["Consumer__DrainTimeout"] = "00:00:08",
        };
        var first = await NocConsumers.StartNocFromEnvironmentAsync(pipeline, environment);
        var second = await NocConsumers.StartNocFromEnvironmentAsync(pipeline, environment);
        PipelineProcess[] members = [first, second];
        await Eventually.Until(() => Gauges(members, group, "consumer_partitions_assigned"), a => a.All(n => n > 0) && a.Sum() == partitions,
            TimeSpan.FromSeconds(60), "both members hold partitions");

        var stream = new NocStream(6000);
        stream.Produce(pipeline.Kafka.BootstrapServers, topic);
        var inHand = await Eventually.Until(() => Gauges(members, group, "consumer_batch_records"), h => h.Sum() == stream.Count,
            TimeSpan.FromSeconds(30), "every record in a member's hand");
        Assert.Equal(0, await NocConsumers.RowsAsync(db, topic));

        // SIGTERM finishes the batch in hand and leaves: bounded by the drain timeout (8 s), so well within this deadline.
        var clock = Stopwatch.StartNew();
        await first.StopAsync(timeout: TimeSpan.FromSeconds(30));
        var stopped = clock.Elapsed;
        Assert.Equal(0, first.ExitCode);
        // It finished its batch and recorded the offsets with it before leaving.
        Assert.Equal((long)inHand[0], await NocConsumers.RowsAsync(db, topic));
        Assert.Contains("left the group", first.Output, StringComparison.Ordinal);

        // Having left (a static member too: it unsubscribes before it closes), its partitions move without waiting
        // for its session (10 s) to expire. The rebalance is incremental: the other member keeps its own partitions
        // and the batch it holds for them, and goes on reading. (The embedded coordinator still
        // waits session - 1 s for members to rejoin after a leave, where a real broker goes on as soon as
        // all have: a member that vanished without leaving would need 10 s + 9 s here.) So the deadline, counted from the
        // exit, is what a leave needs with room to spare, and less than what an expired session would.
        await Eventually.Until(() => Gauges([second], group, "consumer_partitions_assigned"), a => a[0] == partitions, TimeSpan.FromSeconds(15),
            "one member holds every partition before the leaver's session could have expired");
        var takenOver = clock.Elapsed - stopped;
        output.WriteLine($"in hand {inHand[0]:N0} + {inHand[1]:N0}; SIGTERM to exit {stopped.TotalSeconds:F1} s; all partitions with the other member {takenOver.TotalSeconds:F1} s later");
        var metrics = await MetricsText.ScrapeAsync(second);
        Assert.Equal(0, metrics.Sum("consumer_records_abandoned_total", ("group", group)));
        Assert.Equal(inHand[1], metrics.Sum("consumer_batch_records", ("group", group)));
        Assert.Equal((long)inHand[0], await NocConsumers.RowsAsync(db, topic));

        // Its own SIGTERM writes the batch it kept through the rebalance.
        await second.StopAsync();
        Assert.Equal(0, second.ExitCode);
        Assert.Equal((long)stream.Count, await NocConsumers.RowsAsync(db, topic));
        await NocTable.AssertExactlyOneRowPerRecordAsync(db, pipeline.Kafka.BootstrapServers, topic, partitions);
    }

    private static async Task<double[]> Gauges(IEnumerable<PipelineProcess> members, string group, string name) =>
        (await Task.WhenAll(members.Select(MetricsText.ScrapeAsync))).Select(m => m.Sum(name, ("group", group))).ToArray();
}
