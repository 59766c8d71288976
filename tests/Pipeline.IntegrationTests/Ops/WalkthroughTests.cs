using System.Globalization;
using System.Text.Json;
using Dapper;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Ops;

/// <summary>The walkthroughs of docs/walkthroughs.md, run as written (see <see cref="Walkthrough"/>).</summary>
public sealed class WalkthroughTests
{
    [KafkaFact]
    [Trait("Category", TestCategories.ExternalKafka)]
    public async Task AddATeamANewGroupStartedAfter50000EventsReadsAllOfThemWhileTheExistingGroupIsUnaffected()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 6);
        pipeline.Kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        var bootstrap = pipeline.Kafka.BootstrapServers;
        var (syslog, partitions) = (pipeline.Topic("syslog"), pipeline.Partitions("syslog"));
        // On a shared Kafka the teams are this test's own (new_team-1a2b3c4d), as its topics are.
        var (existingGroup, newTeam) = (pipeline.Kafka.Group("files"), pipeline.Kafka.Group("new_team"));
        var state = Directory.CreateTempSubdirectory("walkthrough-").FullName;
        try
        {
            var events = TestEvents.Many(50_000, DateTimeOffset.UtcNow.AddMinutes(-10), TimeSpan.FromMilliseconds(10));
            TestEvents.Produce(bootstrap, syslog, events);
            var ends = TestEvents.Ends(bootstrap, syslog, partitions);
            Assert.Equal(50_000, ends.Values.Sum());

            // The existing group has read everything and keeps running.
            var existing = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Files", ["--group", existingGroup, "--topics", syslog, "--output", Path.Combine(state, "files")]);
            await Eventually.Until(() => Task.FromResult(TestEvents.Committed(bootstrap, existingGroup, syslog, partitions)), c => ends.All(e => c.GetValueOrDefault(e.Key) == e.Value),
                TimeSpan.FromSeconds(90), "the existing group read everything");

            var substitutions = new Dictionary<string, string> { [".pipeline/"] = state + "/", ["127.0.0.1:9105"] = $"127.0.0.1:{FreePort.Next()}" };
            if (newTeam != "new_team") substitutions["new_team"] = newTeam;
            var run = await Walkthrough.RunAsync("add-team", PipelineEnvironment.For(pipeline), substitutions, TimeSpan.FromMinutes(2));

            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Equal("50000", run.Lines[^1]);
            var ids = File.ReadLines(Path.Combine(state, "teams", newTeam + ".jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()).ToHashSet();
            Assert.True(ids.SetEquals(events.Select(e => e.Id)), "new_team read every event exactly once");
            Assert.Equal(ends, TestEvents.Committed(bootstrap, existingGroup, syslog, partitions));
            Assert.False(existing.HasExited);
            Assert.Equal(50_000, File.ReadLines(Path.Combine(state, "files", existingGroup + ".jsonl")).Count());
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [KafkaFact]
    public async Task BackfillANewDatabaseCopiesEverythingKafkaHoldsWhileTheLiveDatabaseIsUntouched()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 6);
        pipeline.Kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        var events = TestEvents.Many(2_000, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromMilliseconds(20));
        TestEvents.Produce(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), events);
        await using var live = await PostgresServer.Instance.CreateDatabaseAsync();
        var target = "t_" + Guid.NewGuid().ToString("N");
        try
        {
            var run = await Walkthrough.RunAsync("backfill-database", PipelineEnvironment.For(pipeline, live),
                new Dictionary<string, string> { ["noc_backfill"] = target }, TimeSpan.FromMinutes(2));

            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("done: replayed 2,000 events into noc as group noc_team.backfill-", run.Output, StringComparison.Ordinal);
            Assert.Equal("2000", run.Lines[^1]);
            await using var connection = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(live.ConnectionString) { Database = target }.ConnectionString);
            var ids = (await connection.QueryAsync<string>("select id from events")).ToHashSet();
            Assert.True(ids.SetEquals(events.Select(e => e.Id)));
            Assert.Equal(0, await live.CountAsync("events"));
        }
        finally
        {
            await PostgresServer.Instance.DropDatabaseAsync(target);
        }
    }

    [KafkaFact]
    public async Task ScaleAGroupTwoNocProcessesShareThePartitionsAndWriteEveryRowOnce()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 6);
        pipeline.Kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        var (syslog, partitions) = (pipeline.Topic("syslog"), pipeline.Partitions("syslog"));
        var events = TestEvents.Many(6_000, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromMilliseconds(10));
        TestEvents.Produce(pipeline.Kafka.BootstrapServers, syslog, events);
        await using var database = await PostgresServer.Instance.CreateDatabaseAsync();
        var (first, second) = (FreePort.Next(), FreePort.Next());
        var state = Directory.CreateTempSubdirectory("walkthrough-").FullName;
        try
        {
            var run = await Walkthrough.RunAsync("scale", PipelineEnvironment.For(pipeline, database),
                new Dictionary<string, string>
                {
                    [".pipeline/"] = state + "/", ["9111"] = first.ToString(CultureInfo.InvariantCulture), ["9112"] = second.ToString(CultureInfo.InvariantCulture),
                }, TimeSpan.FromMinutes(2));

            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Equal("6000", run.Lines[^1]);
            var lines = run.Lines.ToList();
            var one = Held(lines, lines.IndexOf("member 1:"), lines.IndexOf("member 2:"));
            var two = Held(lines, lines.IndexOf("member 2:"), lines.Count - 1);
            Assert.NotEmpty(one);
            Assert.NotEmpty(two);
            Assert.Empty(one.Intersect(two));
            Assert.Equal(partitions, one.Concat(two).Count(p => p.StartsWith(syslog + "/", StringComparison.Ordinal)));
            Assert.Equal(6_000, await database.ScalarAsync<long>("select count(distinct id) from events"));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>The partitions (topic/partition) a member's consumer_lag_messages series name, between two marker lines.</summary>
    private static List<string> Held(List<string> lines, int from, int to) =>
        lines.Skip(from + 1).Take(to - from - 1).Where(l => l.StartsWith("consumer_lag_messages{", StringComparison.Ordinal))
            // Labels in whatever order the exporter writes them.
            .Select(l => (Topic: System.Text.RegularExpressions.Regex.Match(l, "[{,]topic=\"([^\"]+)\""), Partition: System.Text.RegularExpressions.Regex.Match(l, "[{,]partition=\"(\\d+)\"")))
            .Where(m => m.Topic.Success && m.Partition.Success)
            .Select(m => $"{m.Topic.Groups[1].Value}/{m.Partition.Groups[1].Value}").ToList();
}
