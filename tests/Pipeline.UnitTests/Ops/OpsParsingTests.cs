using Confluent.Kafka;
using Pipeline.Core.Envelope;
using Pipeline.Kafka.Consuming;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Lag;
using Pipeline.Ops.Replay;
using Pipeline.Ops.Tail;

namespace Pipeline.UnitTests.Ops;

public sealed class OpsParsingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("now", "2026-11-21T12:00:00Z")]
    [InlineData("-1h", "2026-11-21T11:00:00Z")]
    [InlineData("-30m", "2026-11-21T11:30:00Z")]
    [InlineData("-2d", "2026-11-19T12:00:00Z")]
    [InlineData("-90s", "2026-11-21T11:58:30Z")]
    [InlineData("2026-11-21T10:00:00Z", "2026-11-21T10:00:00Z")]
    [InlineData("2026-11-21T10:00:00+02:00", "2026-11-21T08:00:00Z")]
    public void PointsInTimeAreNowRelativeOrRfc3339(string text, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), PositionSpec.Parse(text, "--to", Now).Time);

    [Theory]
    [InlineData("2026-11-21T10:00:00")]
    [InlineData("-1w")]
    [InlineData("yesterday")]
    [InlineData("-h")]
    public void ATimeWithoutAZoneOrUnitIsRefusedRatherThanGuessed(string text) =>
        Assert.Throws<UsageException>(() => PositionSpec.Parse(text, "--to", Now));

    [Fact]
    public void PositionsAreEarliestLatestOrAnOffset()
    {
        Assert.Equal(PositionKind.Earliest, PositionSpec.Parse("earliest", "--to", Now).Kind);
        Assert.Equal(PositionKind.Latest, PositionSpec.Parse("LATEST", "--to", Now).Kind);
        Assert.Equal(new PositionSpec(PositionKind.Offset, 120_000), PositionSpec.Parse("120000", "--to", Now));
        Assert.Throws<UsageException>(() => PositionSpec.Parse("99999999999999999999", "--to", Now));
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5_000)]
    [InlineData("2m", 120_000)]
    [InlineData("0", 0)]
    [InlineData("00:00:03", 3_000)]
    public void DurationsTakeUnits(string text, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Durations.Parse(text, "--interval"));

    [Fact]
    public void StopAtNamesEachPartitionsEndOnce()
    {
        var stops = ConsumerOptions.ParseStopAt("syslog:0=120, dlq.noc_team:3=7");
        Assert.Equal(120, stops[new PartitionKey("syslog", 0)]);
        Assert.Equal(7, stops[new PartitionKey("dlq.noc_team", 3)]);
        Assert.Empty(ConsumerOptions.ParseStopAt(""));
        Assert.Throws<ArgumentException>(() => ConsumerOptions.ParseStopAt("syslog=120"));
        Assert.Throws<ArgumentException>(() => ConsumerOptions.ParseStopAt("syslog:0=-1"));
        Assert.Throws<ArgumentException>(() => ConsumerOptions.ParseStopAt("syslog:0=1,syslog:0=2"));
        var options = new ConsumerOptions { Group = "g", Topics = "syslog", StopAt = "events:0=5" };
        Assert.Throws<ArgumentException>(options.Validate);
    }

    [Fact]
    public void TailSeverityMeansThisOrWorseAndEqualsMeansExactly()
    {
        var at = DateTimeOffset.UnixEpoch;
        TailLine Line(int severity, string host = "web-1", string app = "sshd", string message = "m") => new(at, host, app, null, severity, "x", message);

        var warning = TailFilter.Create(null, null, "warning", null, null);
        Assert.True(warning.Matches(Line(0)));
        Assert.True(warning.Matches(Line(4)));
        Assert.False(warning.Matches(Line(5)));
        var exactly = TailFilter.Create(null, null, "=info,error", null, null);
        Assert.Equal([true, true, true, true, false, false, true, false], Enumerable.Range(0, 8).Select(s => exactly.Matches(Line(s))));
        Assert.False(warning.Matches(new TailLine(at, "h", "a", null, null, "event", "an HTTP event has no severity")));

        var hosts = TailFilter.Create("WEB-*,db-1", "ssh*", null, "FAILED", null);
        Assert.True(hosts.Matches(Line(6, "web-17", "sshd", "Failed password")));
        Assert.False(hosts.Matches(Line(6, "mail-1", "sshd", "Failed password")));
        Assert.False(hosts.Matches(Line(6, "db-1", "cron", "Failed password")));
        Assert.False(hosts.Matches(Line(6, "db-1", "sshd", "Accepted password")));
        Assert.Throws<UsageException>(() => TailFilter.Create(null, null, "loud", null, null));
    }

    [Fact]
    public void TailPrintsOneReadableLinePerRecord()
    {
        var e = new TelemetryEvent
        {
            Id = "01J",
            ReceivedAt = new DateTimeOffset(2026, 11, 21, 10, 0, 0, 250, TimeSpan.Zero),
            Syslog = new SyslogFields { Hostname = "web-1", AppName = "sshd", Procid = "42", Severity = 3 },
            Message = "Failed password\nfor root",
        };
        Assert.Equal("2026-11-21T10:00:00Z web-1 sshd[42] err: Failed password\\nfor root", TailLine.From(EnvelopeCodec.Encode(e), DateTimeOffset.UnixEpoch).ToString());
        Assert.Equal("1970-01-01T00:00:00Z - - raw: not json", TailLine.From("not json"u8.ToArray(), DateTimeOffset.UnixEpoch).ToString());
    }

    [Fact]
    public void ReplayProgressCountsWhatIsWrittenAndEstimatesTheRest()
    {
        var p0 = new TopicPartition("syslog", 0);
        var p1 = new TopicPartition("syslog", 1);
        var progress = new ReplayProgress(new Dictionary<TopicPartition, (long Start, long End)> { [p0] = (100, 1_100), [p1] = (0, 1_000) });
        Assert.Equal(2_000, progress.Total);

        progress.Observe(Now, new Dictionary<TopicPartition, long>());
        progress.Observe(Now.AddSeconds(2), new Dictionary<TopicPartition, long> { [p0] = 600, [p1] = 500 });
        Assert.Equal(1_000, progress.Done);
        Assert.Equal(500, progress.Rate);
        Assert.Equal(TimeSpan.FromSeconds(2), progress.Eta);
        Assert.Equal("1,000/2,000 events (50.0%)  500.0 events/s  remaining lag 1,000  ETA 2s", progress.Line());

        // A position past the range's end (the live group's, or a later run) counts only up to the end.
        progress.Observe(Now.AddSeconds(3), new Dictionary<TopicPartition, long> { [p0] = 5_000, [p1] = 1_000 });
        Assert.True(progress.Complete);
    }

    [Theory]
    [InlineData(0, 10.0, "-")]
    [InlineData(100, null, "-")]
    [InlineData(100, 0.0, "never")]
    [InlineData(100, -5.0, "never")]
    [InlineData(100, 50.0, "2s")]
    [InlineData(9_000, 50.0, "3m00s")]
    [InlineData(720_000, 100.0, "2h00m")]
    public void LagEtaIsTheTimeToZeroAtTheClosingRate(long lag, double? rate, string expected) =>
        Assert.Equal(expected, LagCommand.Eta(lag, rate));
}
