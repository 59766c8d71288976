using Pipeline.Ops.Status;
using Pipeline.Ops.Top;
using Spectre.Console.Testing;

namespace Pipeline.UnitTests.Ops.Status;

public sealed class TopViewTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static StatusSnapshot Snapshot() => new(At, 2,
        new KafkaStatus(true, "127.0.0.1:9092", null, At),
        [
            new ProcessStatus("edge", "edge", "http://127.0.0.1:8080/", null, true, true, null, At),
            new ProcessStatus("noc", "worker", "http://127.0.0.1:9101/", "noc_team", false, false, "Connection refused", At.AddMinutes(-3)),
        ],
        new EdgeStatus(true, [new ListenerStatus("syslog-udp", 123_456, 1500, 1490, 10)], 1500, 1490, 10, 123_456, 120_000, 3456, 7,
            [new DropStatus("buffer_full", 3456, 10), new DropStatus("shed", 0, 0)], 25, 400, 512 << 20, 1L << 30),
        [new TopicStatus("syslog", 6, 900_000, 1_000_000, 1490)],
        [
            new GroupStatus("noc_team", "down", ["noc"], 45_000, 185, -1490, null, null, null, null, 0, "consumer_offsets", "noc: Connection refused"),
            new GroupStatus("files", "up", ["files"], 0, 0, 0, 1490, 1_000_000, 0.12, 0.9, 3, "kafka", null),
        ],
        0);

    [Fact]
    public void AFrameShowsProcessesTheLossLedgerTopicsAndEachGroupsLagAndState()
    {
        var console = new TestConsole().Width(200);
        console.Write(TopView.Build(Snapshot(), new NoisiestStatus("1m", true, null,
            [new NoisiestDimension("host", "2026-11-21T12:00:00Z", "open", 5000, [new NoisiestEntry("db-7", 4000, 0), new NoisiestEntry("web-1", 1000, 0)])])));
        var text = console.Output;

        Assert.Matches(@"noc\s+DOWN\s+noc_team", text);
        Assert.Matches(@"syslog-udp\s+123\.5k\s+1500\s+1490\s+10", text);
        Assert.Matches(@"buffer_full\s+3456\s+10", text);
        Assert.Contains("spool 512.0 MiB of 1.0 GiB (50.0%)", text, StringComparison.Ordinal);
        Assert.Matches(@"syslog\s+6\s+900\.0k\s+1\.0M\s+1490", text);
        Assert.Matches(@"noc_team\s+DOWN\s+45\.0k\s+3m05s", text);
        Assert.Matches(@"files\s+up\s+0\s+0ms\s+0\s+1490\s+120ms\s+900ms\s+3", text);
        Assert.Contains("noisiest hosts (1m)", text, StringComparison.Ordinal);
        Assert.Matches(@"db-7\s+█+\s+4000", text);
    }

    [Fact]
    public void WhatIsNotKnownIsADashAndAnEdgeOrTopKThatIsDownSaysSo()
    {
        var snapshot = Snapshot() with
        {
            Edge = new EdgeStatus(false, [], null, null, null, 0, 0, 0, 0, [], 0, 0, null, null),
            Kafka = new KafkaStatus(false, "127.0.0.1:9092", "cannot reach Kafka", null),
        };
        var console = new TestConsole().Width(200);
        console.Write(TopView.Build(snapshot, new NoisiestStatus("1m", false, "the top-k aggregator does not answer", [])));
        var text = console.Output;

        Assert.Contains("edge DOWN", text, StringComparison.Ordinal);
        Assert.Contains("kafka DOWN 127.0.0.1:9092  cannot reach Kafka", text, StringComparison.Ordinal);
        Assert.Matches(@"noc_team\s+DOWN\s+45\.0k\s+3m05s\s+-1490\s+-\s+-\s+-\s+0\s+noc: Connection refused", text);
        Assert.Contains("the top-k aggregator does not answer", text, StringComparison.Ordinal);
    }
}
