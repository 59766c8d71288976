using System.Diagnostics;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Noc;

/// <summary>
/// The NOC sink as it runs in production — its own process, a Kafka (3 embedded brokers, or the run's shared
/// Kafka) with 8 partitions, a real PostgreSQL — over the same 200,000 events.
/// </summary>
public sealed class NocSinkTests(NocStreamFixture fixture, ITestOutputHelper output) : IClassFixture<NocStreamFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [KafkaFact]
    public async Task TwoHundredThousandEventsBecomeExactlyTwoHundredThousandRowsWithEveryFieldAsSent()
    {
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var group = "noc-" + Guid.NewGuid().ToString("N")[..8];
        var clock = Stopwatch.StartNew();
        var noc = await NocConsumers.StartNocAsync(fixture.Pipeline, db.ConnectionString, group, fixture.Topic);
        await NocConsumers.WaitForRowsAsync(db, fixture.Topic, fixture.Events, Patience, noc);
        output.WriteLine($"{fixture.Events:N0} rows in {clock.Elapsed.TotalSeconds:F1} s (from process start); produced in {fixture.ProduceTime.TotalSeconds:F1} s");

        await NocTable.AssertExactlyOneRowPerRecordAsync(db, fixture.Pipeline.Kafka.BootstrapServers, fixture.Topic, fixture.Partitions);
        await NocTable.AssertFieldsAsSentAsync(db, fixture.Stream, fixture.Topic);
        var partitions = await db.ScalarAsync<long>("select count(*) from pg_inherits where inhparent = 'events'::regclass");
        Assert.True(partitions >= fixture.Stream.Days.Count, $"{partitions} day partitions for {fixture.Stream.Days.Count} days");

        // The counter moves just after a write's transaction commits: wait for it, then hold it to exactly the events.
        var metrics = await MetricsText.WhenWrittenAsync(noc, group, fixture.Events, Patience);
        Assert.Equal(fixture.Events, metrics.Sum("consumer_records_total", ("group", group), ("outcome", "written")));
        Assert.Equal(0, metrics.Sum("consumer_records_total", ("group", group), ("outcome", "dead_lettered")));
        Assert.Equal(0, metrics.Sum("consumer_lag_messages", ("group", group)));
        await noc.StopAsync();
        Assert.Equal(0, noc.ExitCode);
    }

    [KafkaFact]
    [Trait("Category", TestCategories.ExternalKafka)]
    public async Task AConsumerKilledWithSigkillMidStreamAndRestartedLeavesExactlyOneRowPerRecord()
    {
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var group = "noc-" + Guid.NewGuid().ToString("N")[..8];
        // Small batches: many transactions in flight over the run, so the kill lands between or inside one.
        string[] args = ["--batch-size", "500"];
        var first = await NocConsumers.StartNocAsync(fixture.Pipeline, db.ConnectionString, group, fixture.Topic, args);
        await Eventually.Until(() => NocConsumers.RowsAsync(db, fixture.Topic), n => n >= 20_000, Patience, "rows before the kill", TimeSpan.FromMilliseconds(50));
        await first.KillAsync();
        var atKill = await NocConsumers.RowsAsync(db, fixture.Topic);
        output.WriteLine($"killed with {atKill:N0} rows written");
        Assert.InRange(atKill, 20_000, fixture.Events - 1);

        var second = await NocConsumers.StartNocAsync(fixture.Pipeline, db.ConnectionString, group, fixture.Topic, args);
        await NocConsumers.WaitForRowsAsync(db, fixture.Topic, fixture.Events, Patience, second);
        var metrics = await MetricsText.WhenWrittenAsync(second, group, fixture.Events - atKill, Patience);
        await second.StopAsync();

        await NocTable.AssertExactlyOneRowPerRecordAsync(db, fixture.Pipeline.Kafka.BootstrapServers, fixture.Topic, fixture.Partitions);
        // The restarted member resumed from the offsets stored with the rows: it wrote exactly what was missing.
        Assert.Equal(fixture.Events - atKill, metrics.Sum("consumer_records_total", ("group", group), ("outcome", "written")));
    }

    [KafkaFact]
    public async Task TwoMembersOfNocTeamSplitThePartitionsWhileAFilesConsumerInANewGroupReceivesTheWholeStream()
    {
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var topic = "noc-split-" + Guid.NewGuid().ToString("N")[..8];
        var partitions = fixture.Pipeline.Kafka.CreateTopic(topic, fixture.Partitions);
        var directory = Directory.CreateTempSubdirectory("noc-files-").FullName;
        try
        {
            const string Group = "noc_team";
            // Both members start at once: their migrations race on an empty database.
            var starting = new[]
            {
                NocConsumers.StartNocAsync(fixture.Pipeline, db.ConnectionString, Group, topic),
                NocConsumers.StartNocAsync(fixture.Pipeline, db.ConnectionString, Group, topic),
            };
            var members = await Task.WhenAll(starting);
            var filesGroup = "new_team_" + Guid.NewGuid().ToString("N")[..8];
            var files = await NocConsumers.StartFilesAsync(fixture.Pipeline, directory, filesGroup, topic);
            // The stream starts once the group has settled with both members holding partitions.
            await Eventually.Until(async () => await AssignedAsync(members, Group), a => a.All(n => n > 0) && a.Sum() == partitions,
                TimeSpan.FromSeconds(60), "both members hold partitions");
            fixture.Stream.Produce(fixture.Pipeline.Kafka.BootstrapServers, topic);

            await NocConsumers.WaitForRowsAsync(db, topic, fixture.Events, Patience, members[0]);
            await NocTable.AssertExactlyOneRowPerRecordAsync(db, fixture.Pipeline.Kafka.BootstrapServers, topic, partitions);
            await NocTable.AssertFieldsAsSentAsync(db, fixture.Stream, topic);

            // Each member wrote the partitions it held, and no partition was held by both.
            var scrapes = await Task.WhenAll(members.Select(MetricsText.ScrapeAsync));
            var written = scrapes.Select(m => m.Sum("consumer_records_total", ("group", Group), ("outcome", "written"))).ToArray();
            output.WriteLine($"written per member: {string.Join(", ", written)}");
            Assert.All(written, w => Assert.True(w > 0));
            Assert.Equal(fixture.Events, written.Sum());
            var held = scrapes.Select(m => m.LabelSets("consumer_lag_messages").Select(l => l["partition"]).ToHashSet()).ToArray();
            Assert.Empty(held[0].Intersect(held[1]));
            Assert.Equal(partitions, held[0].Count + held[1].Count);

            // The Files consumer's group read the whole stream on its own.
            var ids = await Eventually.Until(() => Task.FromResult(ReadIds(directory)), i => i.Count >= fixture.Events, Patience,
                "lines written by the Files consumer", TimeSpan.FromMilliseconds(500));
            Assert.Equal(fixture.Events, ids.Count);
            Assert.Equal(fixture.Events, ids.Distinct().Count());
            Assert.All(ids, id => Assert.InRange(NocStream.IndexOf(id), 0, fixture.Events - 1));
            await files.StopAsync();
            foreach (var member in members) await member.StopAsync();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [KafkaFact]
    public async Task ABackfillGroupReplayingTheTopicIntoTheSameTableAddsOnlyTheRowsThatWereMissing()
    {
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var topic = "noc-backfill-" + Guid.NewGuid().ToString("N")[..8];
        var partitions = fixture.Pipeline.Kafka.CreateTopic(topic, fixture.Partitions);
        var stream = new NocStream(25_000);
        stream.Produce(fixture.Pipeline.Kafka.BootstrapServers, topic, 0, 20_000);
        var live = await NocConsumers.StartNocAsync(fixture.Pipeline, db.ConnectionString, "noc_team", topic);
        await NocConsumers.WaitForRowsAsync(db, topic, 20_000, Patience, live);
        await live.StopAsync();
        // More arrives that the live group has not written yet.
        stream.Produce(fixture.Pipeline.Kafka.BootstrapServers, topic, 20_000, 25_000);

        // A backfill group reads the whole topic again from the start into the same table: the 20,000 rows
        // there already are recognised by their event id and skipped, the 5,000 missing ones are added.
        var backfill = await NocConsumers.StartNocAsync(fixture.Pipeline, db.ConnectionString, "noc_backfill", topic);
        await Eventually.Until(async () => (await MetricsText.ScrapeAsync(backfill)).Sum("consumer_records_total", ("outcome", "written")),
            n => n >= stream.Count, Patience, "the backfill group through the whole topic");
        await backfill.StopAsync();

        await NocTable.AssertExactlyOneRowPerRecordAsync(db, fixture.Pipeline.Kafka.BootstrapServers, topic, partitions);
        await NocTable.AssertFieldsAsSentAsync(db, stream, topic);
        // Each group keeps its own position.
        var ends = NocTable.EndOffsets(fixture.Pipeline.Kafka.BootstrapServers, topic, partitions).Values.Sum();
        Assert.Equal(ends, await db.ScalarAsync<long>("select sum(next_offset) from consumer_offsets where group_id = 'noc_backfill' and topic = @topic", new { topic }));
        Assert.True(await db.ScalarAsync<long>("select sum(next_offset) from consumer_offsets where group_id = 'noc_team' and topic = @topic", new { topic }) == 20_000);
    }

    private static async Task<double[]> AssignedAsync(IEnumerable<PipelineProcess> members, string group) =>
        (await Task.WhenAll(members.Select(MetricsText.ScrapeAsync))).Select(m => m.Sum("consumer_partitions_assigned", ("group", group))).ToArray();

    /// <summary>The id of every line in the Files consumer's jsonl files (the current one and any rotated).</summary>
    private static List<string> ReadIds(string directory)
    {
        var ids = new List<string>();
        foreach (var file in Directory.GetFiles(directory, "*.jsonl"))
        {
            byte[] bytes;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }
            // A line being written may be cut short: only lines ended by a newline count.
            var rest = bytes.AsSpan(0, bytes.AsSpan().LastIndexOf((byte)'\n') + 1);
            while (rest.Length > 0)
            {
                var end = rest.IndexOf((byte)'\n');
                ids.Add(Pipeline.Core.Envelope.EnvelopeCodec.Decode(rest[..end]).Id);
                rest = rest[(end + 1)..];
            }
        }
        return ids;
    }
}
