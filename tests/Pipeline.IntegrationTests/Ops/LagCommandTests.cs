using System.Globalization;
using Dapper;
using Npgsql;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.Kafka.Embedded;
using Pipeline.Ops.Cli;
using Pipeline.Postgres;

namespace Pipeline.IntegrationTests.Ops;

public sealed class LagCommandTests
{
    [EmbeddedKafkaFact("runs the operator commands against an embedded cluster of its own, with the pipeline's own topic and group names")]
    public async Task LagIsProducedMinusConsumedPerPartitionAndTheThresholdSetsTheExitCode()
    {
        using var kafka = TestKafka.Start(1);
        kafka.CreateTopic("syslog", 3, 1);
        var group = "g-" + Guid.NewGuid().ToString("N")[..8];
        var start = DateTimeOffset.UtcNow;
        // 120 records in partition 0, 50 in partition 1, none in partition 2.
        TestEvents.Produce(kafka.BootstrapServers, "syslog", TestEvents.Many(170, start, TimeSpan.FromMilliseconds(1)), e => int.Parse(e.Message![6..], CultureInfo.InvariantCulture) < 120 ? 0 : 1);
        TestEvents.Commit(kafka.BootstrapServers, group, ("syslog", 0, 75), ("syslog", 1, 50));

        var lag = await OpsTool.RunAsync("lag", "--group", group, "--topics", "syslog", "--interval", "0", "--kafka", kafka.BootstrapServers);
        Assert.True(lag.ExitCode == 0, lag.ToString());
        Assert.Equal((75L, 120L, 45L), Row(lag, group, "0"));
        Assert.Equal((50L, 50L, 0L), Row(lag, group, "1"));
        Assert.Equal((-1L, 0L, 0L), Row(lag, group, "2"));
        Assert.Contains(lag.Lines, l => l.StartsWith(group, StringComparison.Ordinal) && l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, "total", "170", "45", ..]);
        // Every row says where its position was read.
        Assert.All(lag.Lines.Where(l => l.StartsWith(group, StringComparison.Ordinal)), l => Assert.EndsWith("  kafka", l, StringComparison.Ordinal));
        Assert.Contains($"positions of {group}: Kafka committed offsets", lag.Out, StringComparison.Ordinal);

        var atThreshold = await OpsTool.RunAsync("lag", "--group", group, "--topics", "syslog", "--interval", "0", "--threshold", "45", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Ok, atThreshold.ExitCode);
        var overThreshold = await OpsTool.RunAsync("lag", "--group", group, "--topics", "syslog", "--interval", "0", "--threshold", "44", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Attention, overThreshold.ExitCode);
        Assert.Contains("lag above 44 on 1 partition(s)", overThreshold.Error, StringComparison.Ordinal);

        // The closing rate: the group catches up by 45 records while the two samples are taken.
        var firstSample = new LineWatch("first sample taken");
        var measuring = OpsTool.RunAsync(null, firstSample, "lag", "--group", group, "--topics", "syslog", "--interval", "3s", "--kafka", kafka.BootstrapServers);
        await firstSample.Seen.WaitAsync(TimeSpan.FromSeconds(30));
        TestEvents.Commit(kafka.BootstrapServers, group, ("syslog", 0, 120));
        var closing = await measuring;
        Assert.True(closing.ExitCode == 0, closing.ToString());
        var line = closing.Lines.Single(l => l.StartsWith(group, StringComparison.Ordinal) && l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2] == "0");
        var rate = double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[7], CultureInfo.InvariantCulture);
        Assert.InRange(rate, 45 / 4.0, 45 / 2.5);
        Assert.Equal((120L, 120L, 0L), Row(closing, group, "0"));

        // An exactly-once group whose own store is not known is shown from Kafka, and the output says why.
        var siem = await OpsTool.RunAsync("lag", "--group", "sec_team", "--topics", "syslog", "--interval", "0", "--kafka", kafka.BootstrapServers);
        Assert.True(siem.ExitCode == 0, siem.ToString());
        Assert.Contains("positions of sec_team: Kafka committed offsets (its SIEM archive is not known: pass --archive DIR or set PIPELINE_SIEM_ARCHIVE)", siem.Out, StringComparison.Ordinal);

        var bad = await OpsTool.RunAsync("lag", "--group", group, "--topics", "nosuchtopic", "--interval", "0", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
        Assert.Contains("does not exist", bad.Error, StringComparison.Ordinal);
    }

    [KafkaFact]
    public async Task LagInTimeIsTheAgeOfTheOldestUnreadRecordAndItsThresholdSetsTheExitCode()
    {
        using var kafka = TestKafka.Start(1);
        kafka.CreateTopic("syslog", 2, 1);
        var group = "g-" + Guid.NewGuid().ToString("N")[..8];
        // Records stamped (as the edge stamps them, with their receive time) two minutes ago and onwards, one a second.
        var start = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(2);
        TestEvents.Produce(kafka.BootstrapServers, "syslog", TestEvents.Many(100, start, TimeSpan.FromSeconds(1)), e => int.Parse(e.Message![6..], CultureInfo.InvariantCulture) < 50 ? 0 : 1);
        // Partition 0 is read up to its record of start + 10 s; partition 1 is caught up.
        TestEvents.Commit(kafka.BootstrapServers, group, ("syslog", 0, 10), ("syslog", 1, 50));

        var lag = await OpsTool.RunAsync("lag", "--group", group, "--topics", "syslog", "--interval", "0", "--threshold-seconds", "60", "--kafka", kafka.BootstrapServers);
        Assert.True(lag.ExitCode == ExitCodes.Attention, lag.ToString());
        Assert.Contains("lag above 60 s on 1 partition(s)", lag.Error, StringComparison.Ordinal);
        var waited = AgeSeconds(lag, group, "0");
        Assert.InRange(waited, 105, 110 + 60);
        Assert.Equal("-", Columns(lag, group, "1")[6]);
        var total = lag.Lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Single(c => c.Length > 1 && c[0] == group && c[1] == "total");
        Assert.Equal(waited, double.Parse(total[4].TrimEnd('s'), CultureInfo.InvariantCulture), 1);

        var patient = await OpsTool.RunAsync("lag", "--group", group, "--topics", "syslog", "--interval", "0", "--threshold-seconds", "3600", "--kafka", kafka.BootstrapServers);
        Assert.True(patient.ExitCode == ExitCodes.Ok, patient.ToString());

        var bad = await OpsTool.RunAsync("lag", "--group", group, "--topics", "syslog", "--interval", "0", "--threshold-seconds", "-1", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
    }

    [EmbeddedKafkaFact("runs the operator commands against an embedded cluster of its own, with the pipeline's own topic and group names")]
    public async Task LagOfAnExactlyOnceSinkIsReadFromItsOwnStoreWhenAsked()
    {
        using var kafka = TestKafka.Start(1);
        kafka.CreateTopic("syslog", 2, 1);
        TestEvents.Produce(kafka.BootstrapServers, "syslog", TestEvents.Many(100, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1)), e => int.Parse(e.Message![6..], CultureInfo.InvariantCulture) % 2);
        await using var database = await PostgresServer.Instance.CreateDatabaseAsync();
        await using (var dataSource = NpgsqlDataSource.Create(database.ConnectionString))
            await Migrator.ApplyCoreAsync(dataSource, CancellationToken.None);
        await using (var connection = database.Open())
            await SinkOffsetStore.ResetAsync(connection, "noc_team", [("syslog", 0, (long?)40), ("syslog", 1, (long?)50)], CancellationToken.None);

        var lag = await OpsTool.RunAsync("lag", "--group", "noc_team", "--topics", "syslog", "--store", "postgres", "--postgres", database.ConnectionString,
            "--interval", "0", "--threshold", "5", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Attention, lag.ExitCode);
        Assert.Contains("consumer_offsets", lag.Out, StringComparison.Ordinal);
        Assert.All(lag.Lines.Where(l => l.StartsWith("noc_team", StringComparison.Ordinal)), l => Assert.EndsWith("  postgres", l, StringComparison.Ordinal));
        Assert.Equal((40L, 50L, 10L), Row(lag, "noc_team", "0"));
        Assert.Equal((50L, 50L, 0L), Row(lag, "noc_team", "1"));
    }

    private static string[] Columns(OpsResult result, string group, string partition) =>
        result.Lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Single(c => c.Length >= 7 && c[0] == group && c[1] != "total" && c[2] == partition);

    private static double AgeSeconds(OpsResult result, string group, string partition) =>
        double.Parse(Columns(result, group, partition)[6].TrimEnd('s'), CultureInfo.InvariantCulture);

    /// <summary>(position, end, lag) of a partition's row; position -1 for "-".</summary>
    private static (long Position, long End, long Lag) Row(OpsResult result, string group, string partition)
    {
        var columns = result.Lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Single(c => c.Length >= 6 && c[0] == group && c[1] != "total" && c[2] == partition);
        return (columns[3] == "-" ? -1 : long.Parse(columns[3], CultureInfo.InvariantCulture), long.Parse(columns[4], CultureInfo.InvariantCulture), long.Parse(columns[5], CultureInfo.InvariantCulture));
    }
}
