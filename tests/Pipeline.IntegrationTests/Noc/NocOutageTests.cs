using System.Diagnostics;
using System.Net;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Noc;

/// <summary>The NOC sink while its database is away: on a PostgreSQL cluster of the test's own, stopped and started.</summary>
public sealed class NocOutageTests(ITestOutputHelper output)
{
    private const int Events = 200_000;
    private const int Partitions = 6;
    private const string Topic = "syslog";
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(15);
    // A member that kept fetching during the outage would hold the ~190 MB produced meanwhile, and more as
    // objects. Paused, it holds one bounded prefetch queue and the batch in hand.
    private const long MemoryGrowthCeiling = 64L * 1024 * 1024;

    [Fact]
    public async Task PostgresStoppedForFifteenSecondsMidStreamIsWaitedOutWithBoundedMemoryAndNothingIsSkipped()
    {
        var server = PostgresServer.StartPrivate();
        try
        {
            await using var pipeline = PipelineUnderTest.Start(brokers: 3, partitions: Partitions);
            await using var db = await server.CreateDatabaseAsync();
            // Long messages: what arrives during the outage (~190 MB) is far more than a paused member may hold.
            var stream = new NocStream(Events) { Padding = 1500 };
            stream.Produce(pipeline.Kafka.BootstrapServers, Topic, 0, Events / 2);
            var group = "noc-" + Guid.NewGuid().ToString("N")[..8];
            var noc = await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, group, Topic,
                ["--batch-size", "1000", "--Consumer:RetryMaxBackoff=00:00:02"]);
            await Eventually.Until(() => NocConsumers.RowsAsync(db, Topic), n => n >= 10_000, TimeSpan.FromMinutes(2), "rows before the outage", TimeSpan.FromMilliseconds(50));
            var baseline = await ScrapeAsync(noc);

            server.Stop();
            var outage = Stopwatch.StartNew();
            output.WriteLine($"PostgreSQL stopped; RSS before {baseline.Rss / 1048576.0:F0} MiB");
            // The rest of the stream arrives while the database is away.
            var producing = Task.Run(() => stream.Produce(pipeline.Kafka.BootstrapServers, Topic, Events / 2, Events));
            var samples = new List<Sample>();
            while (outage.Elapsed < Outage)
            {
                samples.Add(await ScrapeAsync(noc));
                await Task.Delay(250);
            }
            await producing;
            server.StartAgain();
            // The test's own pooled connections to the server died with it.
            Npgsql.NpgsqlConnection.ClearAllPools();
            output.WriteLine($"PostgreSQL started after {outage.Elapsed.TotalSeconds:F1} s");

            await NocConsumers.WaitForRowsAsync(db, Topic, Events, TimeSpan.FromMinutes(3), noc);
            var after = await ScrapeAsync(noc);
            var peak = samples.Max(s => s.Rss);
            output.WriteLine("RSS MiB during the outage: " + string.Join(" ", samples.Select(s => (s.Rss / 1048576).ToString(System.Globalization.CultureInfo.InvariantCulture))));
            output.WriteLine($"during the outage: RSS peak {peak / 1048576.0:F0} MiB, " +
                $"{after.Retries} retried writes, lag up to {samples.Max(s => s.LagMessages):N0} records / {samples.Max(s => s.LagSeconds):F1} s");

            Assert.False(noc.HasExited, noc.Output);
            await NocTable.AssertExactlyOneRowPerRecordAsync(db, pipeline.Kafka.BootstrapServers, Topic, Partitions);
            // While the database was away: partitions paused, /healthz said so, lag grew, memory stayed bounded.
            Assert.Contains(samples, s => s.Paused == 1);
            Assert.Contains(samples, s => s.Health == HttpStatusCode.ServiceUnavailable);
            // Lag kept growing although paused partitions are not fetched: all that arrived meanwhile is counted.
            Assert.Contains(samples, s => s.LagMessages >= Events / 2 && s.LagSeconds > 5);
            Assert.True(peak - baseline.Rss < MemoryGrowthCeiling, $"RSS grew from {baseline.Rss:N0} to {peak:N0} bytes during the outage");
            // And afterwards: every write retried ended written, nothing paused, healthy, no lag.
            Assert.True(after.Retries > 0);
            Assert.Equal(0, after.Paused);
            Assert.Equal(HttpStatusCode.OK, after.Health);
            Assert.Equal(0, after.LagMessages);
            Assert.Equal(Events, after.Written);
            await noc.StopAsync();
            Assert.Equal(0, noc.ExitCode);
        }
        finally
        {
            server.Destroy();
        }
    }

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
