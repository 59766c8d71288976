using Dapper;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.EndToEnd;

public sealed class WalkingSkeletonTests
{
    [KafkaFact]
    [Trait("Category", TestCategories.ExternalKafka)]
    public async Task TenThousandLinesSentByLoggerOverUdpArriveAsExactlyTenThousandMatchingRows()
    {
        const int lines = 10_000;
        await using var pipeline = PipelineUnderTest.Start(brokers: 3);
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var edge = await pipeline.StartEdgeAsync();
        // noc_team, or on a shared Kafka this test's own (a member another test left behind would hold up its rebalance).
        await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Postgres",
            ["--postgres", db.ConnectionString, "--group", pipeline.Kafka.Group("noc_team"), "--batch-size", "1000", "--batch-wait", "00:00:01"]);

        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(file, Enumerable.Range(0, lines).Select(i => $"walking skeleton line {i:D5} from logger"));
            await Peers.RunAsync("logger", ["--udp", "--server", "127.0.0.1", "--port", edge.SyslogPort.ToString(), "--rfc5424", "-t", "skeleton", "-p", "local3.warning", "-f", file]);
        }
        finally
        {
            File.Delete(file);
        }

        await Eventually.Until(() => db.CountAsync("events"), n => n >= lines, TimeSpan.FromMinutes(2), "rows in events");
        await using var connection = db.Open();
        var rows = (await connection.QueryAsync<(string Host, string App, short Severity, short Facility, string Message)>(
            "select host, app, severity, facility, message from events")).ToList();
        Assert.Equal(lines, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal(Peers.HostName, r.Host);
            Assert.Equal("skeleton", r.App);
            Assert.Equal(4, r.Severity);
            Assert.Equal(19, r.Facility);
        });
        Assert.Equal(Enumerable.Range(0, lines).Select(i => $"walking skeleton line {i:D5} from logger").Order(StringComparer.Ordinal),
            rows.Select(r => r.Message).Order(StringComparer.Ordinal));
    }
}
