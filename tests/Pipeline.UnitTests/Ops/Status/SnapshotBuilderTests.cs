using Pipeline.Ops.Status;

namespace Pipeline.UnitTests.Ops.Status;

public sealed class SnapshotBuilderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private static readonly ProcessTarget Edge = new("edge", ProcessTarget.EdgeRole, new Uri("http://127.0.0.1:8080"), null);
    private static readonly ProcessTarget Noc = new("noc", ProcessTarget.WorkerRole, new Uri("http://127.0.0.1:9101"), "noc_team");
    private static readonly Dictionary<string, string> Groups = new() { ["noc"] = "noc_team" };

    private static ProcessReading Up(ProcessTarget target, DateTimeOffset at, string metrics, bool healthy = true, string? detail = null) =>
        new(target, at, MetricsScrape.Parse(metrics), healthy, detail);

    private static ProcessReading Down(ProcessTarget target, DateTimeOffset at) => new(target, at, null, false, "Connection refused");

    private static KafkaReading Kafka(DateTimeOffset at, long end, long? lag, DateTimeOffset? oldestUnread = null, long? deadLettered = null) =>
        new(at, true, null, [new TopicReading("syslog", 3, end, end)],
            new Dictionary<string, GroupReading> { ["noc_team"] = new("noc_team", "consumer_offsets", lag, oldestUnread, null) },
            deadLettered is { } d ? new Dictionary<string, long> { ["noc_team"] = d } : []);

    private static string EdgeMetrics(double received, double published, double buffer, double shed) => $"""
        edge_events_received_total{"{"}listener="syslog-udp",route="default"{"}"} {received}
        edge_events_published_total{"{"}listener="syslog-udp",route="default"{"}"} {published}
        edge_events_dropped_total{"{"}listener="syslog-udp",route="default",reason="buffer_full"{"}"} {buffer}
        edge_events_dropped_total{"{"}listener="syslog-udp",route="default",reason="shed"{"}"} {shed}
        edge_events_pending{"{"}listener="syslog-udp",route="default",buffer="memory"{"}"} 10
        edge_events_pending{"{"}listener="syslog-udp",route="default",buffer="spool"{"}"} 30
        edge_spool_bytes 256
        edge_spool_max_bytes 1024
        edge_udp_socket_drops_total 4
        """;

    private const string NocMetrics = """
        consumer_partitions_assigned{group="noc_team"} 3
        consumer_partitions_paused{group="noc_team"} 0
        consumer_records_total{group="noc_team",outcome="written"} 500
        consumer_records_total{group="noc_team",outcome="dead_lettered"} 2
        consumer_lag_seconds{group="noc_team",topic="syslog",partition="0"} 0.25
        """;

    [Fact]
    public void TheEdgesRatesAndLossLedgerComeFromTwoScrapes()
    {
        var before = new Readings(T0, [Up(Edge, T0, EdgeMetrics(1000, 900, 10, 0))], Kafka(T0, 900, 0));
        var now = new Readings(T0.AddSeconds(2), [Up(Edge, T0.AddSeconds(2), EdgeMetrics(3000, 2800, 50, 6))], Kafka(T0.AddSeconds(2), 2800, 0), Kafka(T0, 900, 0));

        var edge = SnapshotBuilder.Build(before, now, [], Groups, new Dictionary<string, DateTimeOffset>(), "k:9092", 0).Edge!;

        Assert.True(edge.Up);
        Assert.Equal(1000, edge.ReceivedPerSecond);
        Assert.Equal(950, edge.PublishedPerSecond);
        Assert.Equal(23, edge.DroppedPerSecond);
        Assert.Equal(3000, edge.ReceivedTotal);
        Assert.Equal([("buffer_full", 50.0, (double?)20), ("shed", 6, 3), ("udp_socket", 4, 0)], edge.Drops.Select(d => (d.Reason, d.Total, d.PerSecond)));
        Assert.Equal((10.0, 30.0), (edge.PendingMemory, edge.PendingSpool));
        Assert.Equal(0.25, edge.SpoolFill);
        Assert.Equal("syslog-udp", Assert.Single(edge.Listeners).Name);
    }

    [Fact]
    public void AFirstReadingShowsTotalsButNoRatesAndARestartedCounterIsNotANegativeRate()
    {
        var first = new Readings(T0, [Up(Edge, T0, EdgeMetrics(1000, 900, 10, 0))], Kafka(T0, 900, 0));
        var edge = SnapshotBuilder.Build(null, first, [], Groups, new Dictionary<string, DateTimeOffset>(), "k", 0).Edge!;
        Assert.Equal(1000, edge.ReceivedTotal);
        Assert.Null(edge.ReceivedPerSecond);

        var restarted = new Readings(T0.AddSeconds(1), [Up(Edge, T0.AddSeconds(1), EdgeMetrics(40, 40, 0, 0))], Kafka(T0.AddSeconds(1), 940, 0));
        Assert.Equal(40, SnapshotBuilder.Build(first, restarted, [], Groups, new Dictionary<string, DateTimeOffset>(), "k", 0).Edge!.ReceivedPerSecond);
    }

    [Fact]
    public void AGroupWhoseProcessAnswersIsUpWithItsRatesLagAndDeadLetters()
    {
        var before = new Readings(T0, [Up(Noc, T0, NocMetrics.Replace(" 500", " 300", StringComparison.Ordinal))], Kafka(T0, 1000, 40));
        var now = new Readings(T0.AddSeconds(2), [Up(Noc, T0.AddSeconds(2), NocMetrics)], Kafka(T0.AddSeconds(2), 1100, 20, T0.AddSeconds(1), 7), Kafka(T0, 1000, 40));

        var group = Assert.Single(SnapshotBuilder.Build(before, now, ["noc_team"], Groups, new Dictionary<string, DateTimeOffset>(), "k", 0).Groups);

        Assert.Equal("up", group.State);
        Assert.Equal(100, group.WrittenPerSecond);
        Assert.Equal(20, group.LagMessages);
        Assert.Equal(10, group.ClosingPerSecond);
        // The member says 0.25 s; Kafka's oldest unread record is 1 s old: the older is the lag.
        Assert.Equal(1, group.LagSeconds);
        Assert.Equal(7, group.DeadLettered);
        Assert.Equal("consumer_offsets", group.PositionsFrom);
        Assert.Null(group.Problem);
    }

    [Fact]
    public void AGroupWhoseProcessDoesNotAnswerIsDownAndItsLagInTimeComesFromKafka()
    {
        var now = new Readings(T0.AddMinutes(5), [Down(Noc, T0.AddMinutes(5))], Kafka(T0.AddMinutes(5), 5000, 4000, T0));

        var snapshot = SnapshotBuilder.Build(null, now, ["noc_team"], Groups, new Dictionary<string, DateTimeOffset> { ["noc"] = T0 }, "k", 0);
        var group = Assert.Single(snapshot.Groups);

        Assert.Equal("down", group.State);
        Assert.Equal(4000, group.LagMessages);
        Assert.Equal(300, group.LagSeconds);
        Assert.Null(group.WrittenPerSecond);
        Assert.Contains("Connection refused", group.Problem, StringComparison.Ordinal);
        var process = Assert.Single(snapshot.Processes);
        Assert.Equal(("down", (DateTimeOffset?)T0), (process.State, process.LastSeen));
    }

    [Fact]
    public void AGroupWhoseSinkFailsIsFailingWithTheHealthChecksWords()
    {
        var paused = NocMetrics.Replace("consumer_partitions_paused{group=\"noc_team\"} 0", "consumer_partitions_paused{group=\"noc_team\"} 1", StringComparison.Ordinal);
        var now = new Readings(T0, [Up(Noc, T0, paused, healthy: false, detail: "sink: PostgreSQL unreachable")], Kafka(T0, 10, 10));

        var group = Assert.Single(SnapshotBuilder.Build(null, now, ["noc_team"], Groups, new Dictionary<string, DateTimeOffset>(), "k", 0).Groups);

        Assert.Equal("failing", group.State);
        Assert.Equal("noc: sink: PostgreSQL unreachable", group.Problem);
    }

    [Fact]
    public void WithoutKafkaTheGroupsLagComesFromItsMembersAndTopicsAreUnknown()
    {
        var metrics = NocMetrics + "\nconsumer_lag_messages{group=\"noc_team\",topic=\"syslog\",partition=\"0\"} 12\nconsumer_lag_messages{group=\"noc_team\",topic=\"syslog\",partition=\"1\"} 3\n";
        var now = new Readings(T0, [Up(Noc, T0, metrics)], KafkaReading.Down(T0, "cannot reach Kafka"));

        var snapshot = SnapshotBuilder.Build(null, now, ["noc_team"], Groups, new Dictionary<string, DateTimeOffset>(), "k", 0);

        Assert.False(snapshot.Kafka.Up);
        Assert.Empty(snapshot.Topics);
        Assert.Equal(15, Assert.Single(snapshot.Groups).LagMessages);
        Assert.Equal(2, snapshot.Groups[0].DeadLettered);
    }

    [Fact]
    public void FreshnessQuantilesComeFromTheMembersHistogramOverTheInterval()
    {
        const string before = NocMetrics + "\nconsumer_freshness_seconds_bucket{group=\"noc_team\",le=\"0.5\"} 0\nconsumer_freshness_seconds_bucket{group=\"noc_team\",le=\"+Inf\"} 0\n";
        const string after = NocMetrics + "\nconsumer_freshness_seconds_bucket{group=\"noc_team\",le=\"0.5\"} 100\nconsumer_freshness_seconds_bucket{group=\"noc_team\",le=\"+Inf\"} 100\n";
        var then = new Readings(T0, [Up(Noc, T0, before)], Kafka(T0, 0, 0));
        var now = new Readings(T0.AddSeconds(2), [Up(Noc, T0.AddSeconds(2), after)], Kafka(T0.AddSeconds(2), 0, 0));

        var group = Assert.Single(SnapshotBuilder.Build(then, now, ["noc_team"], Groups, new Dictionary<string, DateTimeOffset>(), "k", 0).Groups);

        Assert.Equal(0.25, group.FreshnessP50Seconds);
        Assert.Equal(0.495, group.FreshnessP99Seconds!.Value, 6);
    }
}
