using Pipeline.Ops.Status;

namespace Pipeline.UnitTests.Ops.Status;

public sealed class MetricsScrapeTests
{
    [Fact]
    public void LabelsAreReadInAnyOrderAndLabelsNobodyAskedForAreIgnored()
    {
        var scrape = MetricsScrape.Parse("""
            # HELP edge_events_dropped_total Events that will never reach Kafka, by reason.
            # TYPE edge_events_dropped_total counter
            edge_events_dropped_total{listener="syslog-udp",route="default",reason="buffer_full"} 7
            edge_events_dropped_total{reason="buffer_full",otel_scope_name="Pipeline.Edge",listener="http",route="default"} 3
            edge_events_dropped_total{route="default",listener="http",reason="shed"} 2
            """);

        Assert.Equal(10, scrape.Sum("edge_events_dropped_total", ("reason", "buffer_full")));
        Assert.Equal(5, scrape.Sum("edge_events_dropped_total", ("listener", "http")));
        Assert.Equal(12, scrape.Sum("edge_events_dropped_total"));
        Assert.Null(scrape.Sum("edge_events_dropped_total", ("reason", "too_large")));
        Assert.Equal(["buffer_full", "shed"], scrape.LabelValues("edge_events_dropped_total", "reason").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void OpenMetricsUnitsTimestampsExemplarsAndSpecialValuesAreUnderstood()
    {
        var scrape = MetricsScrape.Parse("""
            # TYPE consumer_lag_seconds gauge
            # UNIT consumer_lag_seconds seconds
            consumer_lag_seconds{group="noc_team",topic="syslog",partition="0"} 1.5 1733350000000
            consumer_lag_seconds{group="noc_team",topic="syslog",partition="1"} 4e-1
            consumer_freshness_seconds_bucket{group="noc_team",le="+Inf"} 12 # {trace_id="abc"} 0.3 1733350000.1
            consumer_ratio{group="noc_team"} NaN
            consumer_floor{group="noc_team"} -Inf
            # EOF
            """);

        Assert.Equal(1.5, scrape.Max("consumer_lag_seconds", ("group", "noc_team")));
        Assert.Equal(1.9, scrape.Sum("consumer_lag_seconds")!.Value, 6);
        Assert.Equal(12, scrape.Sum("consumer_freshness_seconds_bucket", ("le", "+Inf")));
        Assert.Null(scrape.Sum("consumer_ratio"));
        Assert.Equal(double.NegativeInfinity, scrape.Sum("consumer_floor"));
    }

    [Fact]
    public void EscapedLabelValuesAreUnescaped()
    {
        var scrape = MetricsScrape.Parse("topk_key{key=\"say \\\"hi\\\", a\\\\b\\nnext\",dimension=\"template\"} 1\n");
        Assert.Equal("say \"hi\", a\\b\nnext", Assert.Single(scrape.Series("topk_key")).Label("key"));
    }

    [Theory]
    [InlineData("no_value")]
    [InlineData("broken{label=\"unterminated} 1")]
    [InlineData("broken{label=unquoted} 1")]
    [InlineData("{only=\"labels\"} 1")]
    [InlineData("name{a=\"1\"} one")]
    public void ALineThatDoesNotParseIsSkippedAndTheRestAreKept(string bad)
    {
        var scrape = MetricsScrape.Parse($"before 1\n{bad}\nafter 2\n");
        Assert.Equal(2, scrape.Count);
        Assert.Equal(1, scrape.Sum("before"));
        Assert.Equal(2, scrape.Sum("after"));
    }
}
