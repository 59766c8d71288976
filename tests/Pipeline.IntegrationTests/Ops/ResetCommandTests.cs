using System.Globalization;
using Confluent.Kafka;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pipeline.Consumers.Siem;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Core.Metrics;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.Kafka.Consuming;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;
using Pipeline.Postgres;

namespace Pipeline.IntegrationTests.Ops;

public sealed class ResetCommandTests
{
    [EmbeddedKafkaFact("runs the operator commands against an embedded cluster of its own, with the pipeline's own topic and group names")]
    public async Task ResetRefusesWhileTheGroupHasALiveMemberAndMovesItOnceItIsGone()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 3);
        pipeline.Kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        var bootstrap = pipeline.Kafka.BootstrapServers;
        TestEvents.Produce(bootstrap, "syslog", TestEvents.Many(300, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1)));
        var group = "team-" + Guid.NewGuid().ToString("N")[..8];
        var output = Directory.CreateTempSubdirectory("files-").FullName;
        try
        {
            var worker = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Files", ["--group", group, "--topics", "syslog", "--output", output, "--batch-wait", "00:00:00.2",
                // A short session: on the embedded cluster a rebalance waits for it.
                "--Consumer:SessionTimeout=00:00:06", "--Consumer:DrainTimeout=00:00:03"]);
            var ends = TestEvents.Ends(bootstrap, "syslog", 3);
            await Eventually.Until(() => Task.FromResult(TestEvents.Committed(bootstrap, group, "syslog", 3)), c => ends.All(e => c.GetValueOrDefault(e.Key) == e.Value),
                TimeSpan.FromSeconds(60), "the files worker committed everything");

            var refused = await OpsTool.RunAsync("reset", "--group", group, "--topics", "syslog", "--to", "earliest", "--kafka", bootstrap);
            Assert.True(refused.ExitCode == ExitCodes.Refused, refused.ToString());
            Assert.Contains("live members", refused.Error, StringComparison.Ordinal);
            Assert.Equal(ends, TestEvents.Committed(bootstrap, group, "syslog", 3));

            await worker.StopAsync();
            var reset = await OpsTool.RunAsync("reset", "--group", group, "--topics", "syslog", "--to", "earliest", "--kafka", bootstrap);
            Assert.True(reset.ExitCode == 0, reset.ToString());
            Assert.All(TestEvents.Committed(bootstrap, group, "syslog", 3).Values, offset => Assert.Equal(0, offset));

            var offset = await OpsTool.RunAsync("reset", "--group", group, "--partitions", "syslog:1", "--to", "5", "--kafka", bootstrap);
            Assert.True(offset.ExitCode == 0, offset.ToString());
            Assert.Equal(Math.Min(5, ends[1]), TestEvents.Committed(bootstrap, group, "syslog", 3)[1]);
            Assert.Equal(0, TestEvents.Committed(bootstrap, group, "syslog", 3)[0]);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [EmbeddedKafkaFact("runs the operator commands against an embedded cluster of its own, with the pipeline's own topic and group names")]
    public async Task PointInTimeResetMovesTheGroupToTheOffsetsTheTimeIndexGives()
    {
        // The embedded broker cannot look offsets up by time, so the command's logic runs against a seam here;
        // on real Kafka the same seam is OffsetsForTimes.
        using var kafka = TestKafka.Start();
        kafka.CreateTopic("syslog", 2, 1);
        TestEvents.Produce(kafka.BootstrapServers, "syslog", TestEvents.Many(40, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1)), e => int.Parse(e.Message![6..], CultureInfo.InvariantCulture) % 2);
        var index = new FakeTimeIndex(new Dictionary<int, long> { [0] = 7, [1] = 3 });
        var group = "pit-" + Guid.NewGuid().ToString("N")[..8];

        var reset = await OpsTool.RunAsync(new OpsSeams { TimeIndex = _ => index },
            "reset", "--group", group, "--topics", "syslog", "--to", "2026-11-21T10:00:00Z", "--kafka", kafka.BootstrapServers);

        Assert.True(reset.ExitCode == 0, reset.ToString());
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero), Assert.Single(index.Asked));
        Assert.Equal(new Dictionary<int, long> { [0] = 7, [1] = 3 }, TestEvents.Committed(kafka.BootstrapServers, group, "syslog", 2));
        Assert.Contains("offsets found by a test's time index", reset.Out, StringComparison.Ordinal);

        var relative = await OpsTool.RunAsync(new OpsSeams { TimeIndex = _ => index }, "reset", "--group", group, "--topics", "syslog", "--to", "-1h", "--dry-run", "--kafka", kafka.BootstrapServers);
        Assert.True(relative.ExitCode == 0, relative.ToString());
        Assert.InRange(index.Asked[1], DateTimeOffset.UtcNow.AddHours(-1).AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(-1));

        var bad = await OpsTool.RunAsync("reset", "--group", group, "--to", "2026-11-21T10:00:00", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
        Assert.Contains("RFC 3339", bad.Error, StringComparison.Ordinal);
    }

    [EmbeddedKafkaFact("runs the operator commands against an embedded cluster of its own, with the pipeline's own topic and group names")]
    public async Task WithoutTheSeamTheEmbeddedBrokersMissingTimeLookupIsNoticedAndRecordTimestampsAreSearched()
    {
        using var kafka = TestKafka.Start();
        kafka.CreateTopic("syslog", 2, 1);
        var t0 = new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);
        // Event i at t0 + i seconds; even ones in partition 0, odd ones in partition 1.
        TestEvents.Produce(kafka.BootstrapServers, "syslog", TestEvents.Many(100, t0, TimeSpan.FromSeconds(1)), e => int.Parse(e.Message![6..], CultureInfo.InvariantCulture) % 2);
        var group = "pit-" + Guid.NewGuid().ToString("N")[..8];

        var reset = await OpsTool.RunAsync("reset", "--group", group, "--topics", "syslog", "--to", "2026-11-21T09:00:51Z", "--kafka", kafka.BootstrapServers);

        Assert.True(reset.ExitCode == 0, reset.ToString());
        Assert.Contains("record timestamps", reset.Out, StringComparison.Ordinal);
        // The first event at or after 09:00:51: event 52 (the 27th of partition 0), event 51 (the 26th of partition 1).
        Assert.Equal(new Dictionary<int, long> { [0] = 26, [1] = 25 }, TestEvents.Committed(kafka.BootstrapServers, group, "syslog", 2));
    }

    [EmbeddedKafkaFact("runs the operator commands against an embedded cluster of its own, with the pipeline's own topic and group names")]
    public async Task TheSiemArchiveMovesOnlyForwardAndNotWhileTheSinkHoldsIt()
    {
        using var kafka = TestKafka.Start();
        kafka.CreateTopic("syslog", 2, 1);
        TestEvents.Produce(kafka.BootstrapServers, "syslog", TestEvents.Many(70, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1)), e => int.Parse(e.Message![6..], CultureInfo.InvariantCulture) < 30 ? 0 : 1);
        var directory = Path.Combine(Path.GetTempPath(), "siem-reset-" + Guid.NewGuid().ToString("N")[..8]);
        var options = new ArchiveOptions { Directory = directory, SegmentMaxBytes = 1 << 20, SegmentMaxAge = TimeSpan.FromHours(1) };
        try
        {
            var writer = ArchiveWriter.Open(options, TimeProvider.System, new SiemMetrics(new Pipeline.Testing.InProcessMetrics()), NullLogger.Instance);
            writer.Commit(new Dictionary<PartitionKey, long> { [new("syslog", 0)] = 10, [new("syslog", 1)] = 20 }, null);
            string[] args = ["reset", "--group", "sec_team", "--topics", "syslog", "--store", "archive", "--archive", directory, "--kafka", kafka.BootstrapServers];

            var inUse = await OpsTool.RunAsync([.. args, "--to", "latest"]);
            Assert.True(inUse.ExitCode == ExitCodes.Refused, inUse.ToString());
            Assert.Contains("in use", inUse.Error, StringComparison.Ordinal);
            writer.Dispose();

            var back = await OpsTool.RunAsync([.. args, "--to", "earliest"]);
            Assert.True(back.ExitCode == ExitCodes.Refused, back.ToString());
            Assert.Contains("append-only and hash-chained", back.Error, StringComparison.Ordinal);

            var forward = await OpsTool.RunAsync([.. args, "--to", "latest"]);
            Assert.True(forward.ExitCode == 0, forward.ToString());
            using (var reopened = ArchiveWriter.Open(options, TimeProvider.System, new SiemMetrics(new Pipeline.Testing.InProcessMetrics()), NullLogger.Instance))
                Assert.Equal(new Dictionary<PartitionKey, long> { [new("syslog", 0)] = 30, [new("syslog", 1)] = 40 }, reopened.Offsets);
            Assert.Null(ArchiveVerifier.Verify(directory).Problem);
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [EmbeddedKafkaFact("runs the operator commands against an embedded cluster of its own, with the pipeline's own topic and group names")]
    public async Task TheTopKAggregatorMayMoveForwardButNotBackBecauseItsCountsWouldDouble()
    {
        using var kafka = TestKafka.Start();
        kafka.CreateTopic("syslog", 2, 1);
        TestEvents.Produce(kafka.BootstrapServers, "syslog", TestEvents.Many(60, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1)), e => int.Parse(e.Message![6..], CultureInfo.InvariantCulture) % 2);
        await using var database = await PostgresServer.Instance.CreateDatabaseAsync();
        await using (var dataSource = NpgsqlDataSource.Create(database.ConnectionString))
        {
            await Migrator.ApplyCoreAsync(dataSource, CancellationToken.None);
            await Migrator.ApplyAsync(dataSource, typeof(Pipeline.Consumers.TopK.TopKOptions).Assembly, ["topk"], CancellationToken.None);
        }
        await using (var connection = database.Open())
        {
            await SinkOffsetStore.ResetAsync(connection, "topk", [("syslog", 0, (long?)10), ("syslog", 1, (long?)10)], CancellationToken.None);
            await connection.ExecuteAsync("insert into topk_partitions (group_id, topic, partition) values ('topk', 'syslog', 0), ('topk', 'syslog', 1)");
        }
        string[] args = ["reset", "--group", "topk", "--topics", "syslog", "--postgres", database.ConnectionString, "--kafka", kafka.BootstrapServers];

        var back = await OpsTool.RunAsync([.. args, "--to", "earliest"]);
        Assert.True(back.ExitCode == ExitCodes.Refused, back.ToString());
        Assert.Contains("count those events twice", back.Error, StringComparison.Ordinal);

        var forward = await OpsTool.RunAsync([.. args, "--to", "latest"]);
        Assert.True(forward.ExitCode == 0, forward.ToString());
        Assert.Equal([30L, 30L], await database.Open().QueryAsync<long>("select next_offset from consumer_offsets where group_id = 'topk' order by partition"));

        // Kafka's committed offsets of a group whose sink keeps its own would change nothing: refused, with the right store named.
        var kafkaStore = await OpsTool.RunAsync([.. args, "--to", "latest", "--store", "kafka"]);
        Assert.Equal(ExitCodes.Refused, kafkaStore.ExitCode);
        Assert.Contains("--store postgres", kafkaStore.Error, StringComparison.Ordinal);
    }

    private sealed class FakeTimeIndex(Dictionary<int, long> offsets) : ITimeIndex
    {
        public List<DateTimeOffset> Asked { get; } = [];

        public string Method => "a test's time index";

        public IReadOnlyDictionary<TopicPartition, long> OffsetsAt(IReadOnlyList<TopicPartition> partitions, DateTimeOffset time,
            IReadOnlyDictionary<TopicPartition, (long Low, long High)> watermarks)
        {
            Asked.Add(time);
            return partitions.ToDictionary(p => p, p => offsets[p.Partition.Value]);
        }
    }
}
