using System.Diagnostics;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Noc;

/// <summary>
/// The NOC sink as it runs in production — its own process, an embedded Kafka cluster of 3 brokers with
/// 6 partitions, a real PostgreSQL — over the same 200,000 events.
/// </summary>
public sealed class NocSinkTests(NocStreamFixture fixture, ITestOutputHelper output) : IClassFixture<NocStreamFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task TwoHundredThousandEventsBecomeExactlyTwoHundredThousandRowsWithEveryFieldAsSent()
    {
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var group = "noc-" + Guid.NewGuid().ToString("N")[..8];
        var clock = Stopwatch.StartNew();
        var noc = await NocConsumers.StartNocAsync(fixture.Pipeline, db.ConnectionString, group, NocStreamFixture.Topic);
        await NocConsumers.WaitForRowsAsync(db, NocStreamFixture.Topic, NocStreamFixture.Events, Patience, noc);
        output.WriteLine($"{NocStreamFixture.Events:N0} rows in {clock.Elapsed.TotalSeconds:F1} s (from process start); produced in {fixture.ProduceTime.TotalSeconds:F1} s");

        await NocTable.AssertExactlyOneRowPerRecordAsync(db, fixture.Pipeline.Kafka.BootstrapServers, NocStreamFixture.Topic, NocStreamFixture.Partitions);
        await NocTable.AssertFieldsAsSentAsync(db, fixture.Stream, NocStreamFixture.Topic);
        var partitions = await db.ScalarAsync<long>("select count(*) from pg_inherits where inhparent = 'events'::regclass");
        Assert.True(partitions >= fixture.Stream.Days.Count, $"{partitions} day partitions for {fixture.Stream.Days.Count} days");

        var metrics = await MetricsText.ScrapeAsync(noc);
        Assert.Equal(NocStreamFixture.Events, metrics.Sum("consumer_records_total", ("group", group), ("outcome", "written")));
        Assert.Equal(0, metrics.Sum("consumer_records_total", ("group", group), ("outcome", "dead_lettered")));
        Assert.Equal(0, metrics.Sum("consumer_lag_messages", ("group", group)));
        await noc.StopAsync();
        Assert.Equal(0, noc.ExitCode);
    }
}
