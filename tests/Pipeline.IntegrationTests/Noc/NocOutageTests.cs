using System.Diagnostics;
using System.Net;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Noc;

/// <summary>The NOC sink while its database is away: on a PostgreSQL cluster of the test's own, stopped and started.</summary>
public sealed class NocOutageTests(ITestOutputHelper output)
{
    // 25,000 padded events a partition, about 3 MiB compressed, within the 5 MiB an embedded partition keeps;
    // 200,000 on the 8 partitions asked for (a broker without the admin API may make fewer).
    private const int EventsPerPartition = 25_000;
    // 8 partitions spread the stream's 40 hosts evenly.
    private const int Partitions = 8;
    // A member that kept fetching during the outage would hold the ~190 MB produced meanwhile, and more as
    // objects. Paused, it holds one bounded prefetch queue and the batch in hand.
    private const long MemoryGrowthCeiling = 64L * 1024 * 1024;

    [KafkaFact]
    public async Task PostgresStoppedMidStreamIsWaitedOutWithBoundedMemoryAndNothingIsSkipped()
    {
        var server = PostgresServer.StartPrivate();
        try
        {
            await using var pipeline = PipelineUnderTest.Start(brokers: 3, partitions: Partitions);
            var (topic, partitions) = (pipeline.Topic("syslog"), pipeline.Partitions("syslog"));
            var events = EventsPerPartition * partitions;
            await using var db = await server.CreateDatabaseAsync();
            // Long messages: what arrives during the outage (~190 MB) is far more than a paused member may hold.
            var stream = new NocStream(events) { Padding = 1500 };
            stream.Produce(pipeline.Kafka.BootstrapServers, topic, 0, events / 2);
            var group = "noc-" + Guid.NewGuid().ToString("N")[..8];
            var noc = await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, group, topic,
                ["--batch-size", "1000", "--Consumer:RetryMaxBackoff=00:00:02"]);
            await Eventually.Until(() => NocConsumers.RowsAsync(db, topic), n => n >= 10_000, TimeSpan.FromMinutes(2), "rows before the outage", TimeSpan.FromMilliseconds(50));
            var baseline = await ScrapeAsync(noc);

            server.Stop();
            var outage = Stopwatch.StartNew();
            output.WriteLine($"PostgreSQL stopped; RSS before {baseline.Rss / 1048576.0:F0} MiB");
            // The rest of the stream arrives while the database is away.
            var producing = Task.Run(() => stream.Produce(pipeline.Kafka.BootstrapServers, topic, events / 2, events));
            // The database stays away until the whole rest has arrived and the sink has shown what it does meanwhile:
            // partitions paused, /healthz unhealthy, all that arrived counted as lag. Memory is sampled throughout.
            var samples = new List<Sample>();
            await Eventually.True(async () =>
            {
                samples.Add(await ScrapeAsync(noc));
                return producing.IsCompleted && samples.Any(s => s.Paused == 1) && samples.Any(s => s.Health == HttpStatusCode.ServiceUnavailable)
                    && samples.Any(s => s.LagMessages >= events / 2 && s.LagSeconds > 5);
            }, TimeSpan.FromMinutes(2), "the rest of the stream produced, and the sink paused, unhealthy and lagging by all of it");
            await producing;
            server.StartAgain();
            // The test's own pooled connections to the server died with it.
            Npgsql.NpgsqlConnection.ClearAllPools();
            output.WriteLine($"PostgreSQL started after {outage.Elapsed.TotalSeconds:F1} s");

            await NocConsumers.WaitForRowsAsync(db, topic, events, TimeSpan.FromMinutes(3), noc);
            var after = await ScrapeAsync(noc);
            var peak = samples.Max(s => s.Rss);
            output.WriteLine("RSS MiB during the outage: " + string.Join(" ", samples.Select(s => (s.Rss / 1048576).ToString(System.Globalization.CultureInfo.InvariantCulture))));
            output.WriteLine($"during the outage: RSS peak {peak / 1048576.0:F0} MiB, " +
                $"{after.Retries} retried writes, lag up to {samples.Max(s => s.LagMessages):N0} records / {samples.Max(s => s.LagSeconds):F1} s");

            Assert.False(noc.HasExited, noc.Output);
            await NocTable.AssertExactlyOneRowPerRecordAsync(db, pipeline.Kafka.BootstrapServers, topic, partitions);
            // While the database was away: partitions paused, /healthz said so, lag grew, memory stayed bounded.
            Assert.Contains(samples, s => s.Paused == 1);
            Assert.Contains(samples, s => s.Health == HttpStatusCode.ServiceUnavailable);
            // Lag kept growing although paused partitions are not fetched: all that arrived meanwhile is counted.
            Assert.Contains(samples, s => s.LagMessages >= events / 2 && s.LagSeconds > 5);
            Assert.True(peak - baseline.Rss < MemoryGrowthCeiling, $"RSS grew from {baseline.Rss:N0} to {peak:N0} bytes during the outage");
            // And afterwards: every write retried ended written, nothing paused, healthy, no lag.
            Assert.True(after.Retries > 0);
            Assert.Equal(0, after.Paused);
            Assert.Equal(HttpStatusCode.OK, after.Health);
            Assert.Equal(0, after.LagMessages);
            Assert.Equal(events, after.Written);
            await noc.StopAsync();
            Assert.Equal(0, noc.ExitCode);
        }
        finally
        {
            server.Destroy();
        }
    }

    [KafkaFact]
    public async Task ARebalanceWhilePostgresIsDownAbandonsTheBatchesInHandAndTheyAreReadAgainFromTheStoredOffsets()
    {
        var server = PostgresServer.StartPrivate();
        try
        {
            await using var pipeline = PipelineUnderTest.Start(brokers: 3, partitions: Partitions);
            await using var db = await server.CreateDatabaseAsync();
            var topic = "noc-abandon-" + Guid.NewGuid().ToString("N")[..8];
            var partitions = pipeline.Kafka.CreateTopic(topic, Partitions);
            var group = "noc-" + Guid.NewGuid().ToString("N")[..8];
            var stream = new NocStream(20_000);
            // The first half of the stream is written and its offsets stored...
            var warmUp = await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, group, topic);
            stream.Produce(pipeline.Kafka.BootstrapServers, topic, 0, 10_000);
            await NocConsumers.WaitForRowsAsync(db, topic, 10_000, TimeSpan.FromMinutes(1), warmUp);
            await warmUp.StopAsync();

            // ...the second half stays in the hands of two members: a batch is written once it holds the
            // whole second half (which neither member has alone) or is 10 minutes old.
            string[] args = ["--batch-size", "10000", "--batch-wait", "00:10:00", "--batch-linger", "00:10:00", "--Consumer:SessionTimeout=00:00:10", "--Consumer:DrainTimeout=00:00:08",
                "--Consumer:RetryMaxBackoff=00:00:02"];
            var members = new[]
            {
                await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, group, topic, args),
                await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, group, topic, args),
            };
            await Eventually.Until(() => Gauges(members, group, "consumer_partitions_assigned"), a => a.All(n => n > 0) && a.Sum() == partitions,
                TimeSpan.FromSeconds(60), "both members hold partitions");
            stream.Produce(pipeline.Kafka.BootstrapServers, topic, 10_000, 20_000);
            await Eventually.Until(() => Gauges(members, group, "consumer_batch_records"), h => h.Sum() == 10_000, TimeSpan.FromSeconds(30), "the second half in hand");

            server.Stop();
            // One member stops while the database is away: it cannot write its batch, so it abandons it
            // within the drain timeout and still leaves promptly. The rebalance is incremental (cooperative-sticky):
            // the other keeps its own partitions and the batch it holds for them, and is given the leaver's
            // partitions while their stored offsets cannot be read.
            // It leaves while the database is still away (a member that waited for it would never exit: the deadline fails).
            var clock = Stopwatch.StartNew();
            await members[1].StopAsync(timeout: TimeSpan.FromSeconds(30));
            var stopped = clock.Elapsed;
            Assert.Equal(0, members[1].ExitCode);
            Assert.Contains("abandoned to be read again", members[1].Output, StringComparison.Ordinal);
            await Eventually.Until(() => Gauges([members[0]], group, "consumer_partitions_assigned"), a => a[0] == partitions, TimeSpan.FromSeconds(60), "one member holds every partition");
            server.StartAgain();
            Npgsql.NpgsqlConnection.ClearAllPools();
            output.WriteLine($"stopped in {stopped.TotalSeconds:F1} s with PostgreSQL down; PostgreSQL back after {clock.Elapsed.TotalSeconds:F1} s");

            await NocConsumers.WaitForRowsAsync(db, topic, stream.Count, TimeSpan.FromMinutes(2), members[0]);
            await NocTable.AssertExactlyOneRowPerRecordAsync(db, pipeline.Kafka.BootstrapServers, topic, partitions);
            // The remaining member read its new partitions from the offsets stored in PostgreSQL once it could
            // reach it again: it wrote the second half only (a replay of the first would count here too).
            await Eventually.True(() => members[0].Output.Contains("could not read stored offsets", StringComparison.Ordinal), TimeSpan.FromSeconds(30),
                "the remaining member's log says it could not read stored offsets");
            Assert.Equal(10_000, (await Gauges([members[0]], group, "consumer_records_total"))[0]);
            // It abandoned nothing: what it held through the rebalance was written, not read twice.
            Assert.Equal(0, (await Gauges([members[0]], group, "consumer_records_abandoned_total"))[0]);
            await members[0].StopAsync();
            Assert.Equal(0, members[0].ExitCode);
        }
        finally
        {
            server.Destroy();
        }
    }

    private static async Task<double[]> Gauges(IEnumerable<PipelineProcess> members, string group, string name) =>
        (await Task.WhenAll(members.Select(MetricsText.ScrapeAsync))).Select(m => m.Sum(name, ("group", group))).ToArray();

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private static async Task<Sample> ScrapeAsync(PipelineProcess process)
    {
        var metrics = await MetricsText.ScrapeAsync(process);
        using var health = await Http.GetAsync(process.HealthUrl);
        return new Sample(
            (long)metrics.Sum("process_resident_memory_bytes"),
            metrics.Sum("consumer_partitions_paused"),
            health.StatusCode,
            (long)metrics.Sum("consumer_lag_messages"),
            metrics.LabelSets("consumer_lag_seconds").Any() ? MaxLagSeconds(metrics) : 0,
            (long)metrics.Sum("consumer_write_retries_total"),
            (long)metrics.Sum("consumer_records_total", ("outcome", "written")));
    }

    private static double MaxLagSeconds(MetricsText metrics) =>
        metrics.LabelSets("consumer_lag_seconds").Max(l => metrics.Sum("consumer_lag_seconds", ("topic", l["topic"]), ("partition", l["partition"])));

    private sealed record Sample(long Rss, double Paused, HttpStatusCode Health, long LagMessages, double LagSeconds, long Retries, long Written);
}
