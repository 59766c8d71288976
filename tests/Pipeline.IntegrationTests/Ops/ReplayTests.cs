using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.Ops.Cli;

namespace Pipeline.IntegrationTests.Ops;

public sealed class ReplayTests
{
    /// <summary>A NOC worker that moves partitions quickly (a rebalance on the embedded cluster waits for the session).</summary>
    private static readonly string[] NocArgs = ["--Consumer:SessionTimeout=00:00:06", "--Consumer:DrainTimeout=00:00:03", "--batch-wait", "00:00:00.3"];

    [KafkaFact]
    [Trait("Category", TestCategories.ExternalKafka)]
    public async Task ResetNocTeamToEarliestAndReplayTheRowCountStaysExact()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 6);
        pipeline.Kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        var bootstrap = pipeline.Kafka.BootstrapServers;
        var syslog = pipeline.Topic("syslog");
        // On a shared Kafka the team is this test's own: a member another test left behind would hold up its rebalance.
        var group = pipeline.Kafka.Group("noc_team");
        var events = TestEvents.Many(3_000, DateTimeOffset.UtcNow.AddMinutes(-20), TimeSpan.FromMilliseconds(100));
        TestEvents.Produce(bootstrap, syslog, events);
        var ends = TestEvents.Ends(bootstrap, syslog, pipeline.Partitions("syslog"));
        await using var database = await PostgresServer.Instance.CreateDatabaseAsync();
        string[] noc = ["--postgres", database.ConnectionString, "--group", group, .. NocArgs];

        var worker = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Postgres", noc);
        await WaitForPositionsAsync(database, group, syslog, ends);
        Assert.Equal(3_000, await database.CountAsync("events"));
        await worker.StopAsync();

        var reset = await OpsTool.RunAsync("reset", "--group", group, "--topics", syslog, "--to", "earliest", "--postgres", database.ConnectionString, "--kafka", bootstrap);
        Assert.True(reset.ExitCode == 0, reset.ToString());
        Assert.Contains("consumer_offsets", reset.Out, StringComparison.Ordinal);
        Assert.All(await database.Open().QueryAsync<long>("select next_offset from consumer_offsets where group_id = @group and topic = @syslog", new { group, syslog }), o => Assert.Equal(0, o));

        // Started again, the group reads every record a second time; the sink skips every row it has.
        var again = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Postgres", noc);
        await WaitForPositionsAsync(database, group, syslog, ends);
        // The counter moves just after the write's transaction commits (3,000 records are one batch): wait for it, then hold
        // it to exactly the records read again.
        var metrics = await MetricsText.WhenWrittenAsync(again, group, 3_000, TimeSpan.FromSeconds(30));
        Assert.Equal(3_000, metrics.Sum("consumer_records_total", ("group", group), ("outcome", "written")));
        Assert.Equal(3_000, await database.CountAsync("events"));

        // A replay of the whole range under a backfill group, while the live group keeps running: still exact.
        var replay = await OpsTool.RunAsync("replay", "--into", $"noc:{group}", "--topics", syslog, "--from", "earliest", "--to", "latest", "--postgres", database.ConnectionString, "--kafka", bootstrap);
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.Contains($"done: replayed 3,000 events into noc as group {group}.backfill-", replay.Out, StringComparison.Ordinal);
        Assert.False(again.HasExited);
        Assert.Equal(3_000, await database.CountAsync("events"));
        var ids = (await database.Open().QueryAsync<string>("select id from events")).ToList();
        Assert.Equal(3_000, ids.Distinct().Count());
        Assert.True(ids.ToHashSet().SetEquals(events.Select(e => e.Id)), "every produced event is there once, nothing else");
    }

    [KafkaFact]
    [Trait("Category", TestCategories.ExternalKafka)]
    public async Task ReplayTheLastHourSkipsTheRowsTheSinkHasAndFillsTheOnesItLost()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 6);
        pipeline.Kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        var bootstrap = pipeline.Kafka.BootstrapServers;
        var syslog = pipeline.Topic("syslog");
        var now = DateTimeOffset.UtcNow;
        var old = TestEvents.Many(1_000, now.AddHours(-2), TimeSpan.FromSeconds(1), "old");
        var recent = TestEvents.Many(1_000, now.AddMinutes(-30), TimeSpan.FromMilliseconds(500), "recent");
        TestEvents.Produce(bootstrap, syslog, old.Concat(recent));
        await using var database = await PostgresServer.Instance.CreateDatabaseAsync();
        // The live team (this test's own on a shared Kafka); the walkthrough's replay runs under a backfill group of its own.
        var group = pipeline.Kafka.Group("noc_team");
        var live = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Postgres", ["--postgres", database.ConnectionString, "--group", group, .. NocArgs]);
        await WaitForPositionsAsync(database, group, syslog, TestEvents.Ends(bootstrap, syslog, pipeline.Partitions("syslog")));
        var environment = PipelineEnvironment.For(pipeline, database);
        var none = new Dictionary<string, string>();

        var skip = await Walkthrough.RunAsync("replay-hour", environment, none, TimeSpan.FromMinutes(2));
        Assert.True(skip.ExitCode == 0, skip.ToString());
        Assert.Contains("1,000 events in", skip.Output, StringComparison.Ordinal);
        // Kafka looks the hour up in its time index (OffsetsForTimes); the embedded cluster cannot, and the command
        // finds the offsets from record timestamps instead, saying so.
        Assert.Contains(pipeline.Kafka.LooksUpOffsetsByTime ? "Kafka's time index (OffsetsForTimes)" : "record timestamps", skip.Output, StringComparison.Ordinal);
        Assert.Equal("1000", skip.Lines[^1]);
        Assert.Equal(2_000, await database.CountAsync("events"));

        var lost = recent.Where((_, i) => i % 10 == 0).Select(e => e.Id).ToArray();
        await database.Open().ExecuteAsync("delete from events where id = any(@lost)", new { lost });
        Assert.Equal(1_900, await database.CountAsync("events"));

        var repair = await Walkthrough.RunAsync("replay-hour", environment, none, TimeSpan.FromMinutes(2));
        Assert.True(repair.ExitCode == 0, repair.ToString());
        Assert.Equal("1000", repair.Lines[^1]);
        Assert.Equal(2_000, await database.CountAsync("events"));
        Assert.Equal(lost.Length, await database.ScalarAsync<long>("select count(*) from events where id = any(@lost)", new { lost }));
        Assert.False(live.HasExited);
    }

    [KafkaFact]
    public async Task AReplayAtARateShowsProgressAndStopsAtTheEndOffsetsItResolvedAtTheStart()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 3);
        pipeline.Kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        var bootstrap = pipeline.Kafka.BootstrapServers;
        var syslog = pipeline.Topic("syslog");
        var backfillGroup = pipeline.Kafka.Group("audit.backfill-test");
        var events = TestEvents.Many(3_000, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromMilliseconds(10));
        TestEvents.Produce(bootstrap, syslog, events);
        var output = Directory.CreateTempSubdirectory("replay-files-").FullName;
        try
        {
            var clock = Stopwatch.StartNew();
            var replaying = OpsTool.RunAsync("replay", "--into", "files:audit", "--topics", syslog, "--from", "earliest", "--to", "latest", "--rate", "1500",
                "--backfill-group", backfillGroup, "--output", output, "--progress-interval", "300ms", "--kafka", bootstrap);
            // Records that arrive while it runs are past the range's end: not replayed.
            await Eventually.True(() => File.Exists(Path.Combine(output, backfillGroup + ".jsonl")), TimeSpan.FromSeconds(30), "the replay writing");
            TestEvents.Produce(bootstrap, syslog, TestEvents.Many(500, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1), "late"));
            var replay = await replaying;
            clock.Stop();

            Assert.True(replay.ExitCode == 0, replay.ToString());
            var written = File.ReadLines(Path.Combine(output, backfillGroup + ".jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()).ToList();
            Assert.Equal(3_000, written.Count);
            Assert.True(written.ToHashSet().SetEquals(events.Select(e => e.Id)));
            // 3,000 events at 1,500/s take two seconds at least.
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.8), $"took {clock.Elapsed}");
            var progress = replay.Lines.Where(l => l.StartsWith($"replay {backfillGroup}: ", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(progress);
            Assert.All(progress, l => Assert.Matches(@"[\d,]+/3,000 events \([\d.]+%\)  [\d,.]+ events/s  remaining lag [\d,]+  ETA \S+", l));

            var reused = await OpsTool.RunAsync("replay", "--into", "files:audit", "--topics", syslog, "--from", "earliest",
                "--backfill-group", backfillGroup, "--output", output, "--kafka", bootstrap);
            Assert.Equal(ExitCodes.Refused, reused.ExitCode);
            var badRange = await OpsTool.RunAsync("replay", "--into", "noc", "--from", "-1h", "--to", "-2h", "--kafka", bootstrap);
            Assert.Equal(ExitCodes.Usage, badRange.ExitCode);
            var badSink = await OpsTool.RunAsync("replay", "--into", "elastic", "--from", "earliest", "--kafka", bootstrap);
            Assert.Equal(ExitCodes.Usage, badSink.ExitCode);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [KafkaFact]
    public async Task ARangeReplayedForTheSiemGoesIntoANewArchiveFolderThatVerifies()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 3);
        pipeline.Kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        var bootstrap = pipeline.Kafka.BootstrapServers;
        var syslog = pipeline.Topic("syslog");
        var events = TestEvents.Many(600, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromMilliseconds(10));
        TestEvents.Produce(bootstrap, syslog, events);
        var archive = SiemArchive.NewTemporary();
        try
        {
            var replay = await OpsTool.RunAsync("replay", "--into", "siem", "--topics", syslog, "--from", "earliest", "--archive", archive.Directory,
                "--kafka", bootstrap);
            Assert.True(replay.ExitCode == 0, replay.ToString());
            Assert.Contains("done: replayed 600 events into siem as group sec_team.backfill-", replay.Out, StringComparison.Ordinal);
            var records = archive.Records().Where(r => r.Type == "event").ToList();
            Assert.Equal(600, records.Count);
            Assert.True(records.Select(r => r.Id).ToHashSet().SetEquals(events.Select(e => e.Id)));
            Assert.Null(Pipeline.Consumers.Siem.Archive.ArchiveVerifier.Verify(archive.Directory).Problem);

            // The archive is append-only and hash-chained: a second replay into the same folder is refused.
            var again = await OpsTool.RunAsync("replay", "--into", "siem", "--topics", syslog, "--from", "earliest", "--archive", archive.Directory, "--kafka", bootstrap);
            Assert.Equal(ExitCodes.Refused, again.ExitCode);
            Assert.Contains("new folder", again.Error, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(archive.Directory)) Directory.Delete(archive.Directory, recursive: true);
        }
    }

    private static Task WaitForPositionsAsync(TemporaryDatabase database, string group, string topic, Dictionary<int, long> ends) =>
        Eventually.Until(async () =>
        {
            try
            {
                await using var connection = database.Open();
                return (await connection.QueryAsync<(int Partition, long Next)>(
                    "select partition, next_offset from consumer_offsets where group_id = @group and topic = @topic", new { group, topic })).ToDictionary(r => r.Partition, r => r.Next);
            }
            catch (Npgsql.PostgresException)
            {
                return [];
            }
        }, stored => ends.All(e => e.Value == 0 || stored.GetValueOrDefault(e.Key) == e.Value), TimeSpan.FromSeconds(90), $"group {group} stored the end offsets");
}
