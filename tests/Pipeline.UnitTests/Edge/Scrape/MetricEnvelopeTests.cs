using System.Text;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Sources.Scrape;
using Pipeline.Edge.Sources.Scrape.Exposition;

namespace Pipeline.UnitTests.Edge.Scrape;

public sealed class MetricEnvelopeTests
{
    private static readonly DateTimeOffset ScrapedAt = new(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);

    internal static ScrapeTarget Target(string url = "http://127.0.0.1:9100/metrics", string job = "node", Dictionary<string, string>? labels = null,
        string? tenant = null) =>
        new ScrapeTargetFactory(new ScrapeOptions(), "edge-1", new Dictionary<string, string> { ["dc"] = "eu" })
            .FromOptions(new ScrapeTargetOptions { Url = url, Job = job, Labels = labels ?? [], Tenant = tenant });

    private static TelemetryEvent Write(string exposition, ScrapeTarget target, int index = 0)
    {
        var body = Encoding.UTF8.GetBytes(exposition);
        using var parsed = new ParsedExposition();
        Assert.Null(ExpositionParser.Parse(body, ExpositionFormat.PrometheusText, 1000, parsed));
        new SeriesMemory().Apply(body, parsed.Samples);
        var s = parsed.Samples[index];
        var family = s.Family >= 0 ? parsed.Families[s.Family] : default;
        var view = new MetricSampleView
        {
            Name = s.Name.Of(body), NameEscaped = s.NameEscaped, Labels = s.Labels.Of(body), Type = s.Family >= 0 ? family.Type : parsed.UntypedAs,
            Family = s.Family >= 0 && family.Name.Length != s.Name.Length ? family.Name.Of(body) : default,
            Value = s.Value, HasTimestamp = s.HasTimestamp, TimestampMs = s.TimestampMs, Delta = s.Delta,
        };
        var envelope = EnvelopeWriter.ForCurrentThread.WriteMetricSample(new EnvelopeHeader(ScrapedAt, EventKinds.Metric, target.Origin, 1), view, target);
        return EnvelopeCodec.Decode(envelope);
    }

    [Fact]
    public void AScrapedSampleBecomesAMetricEventWithItsLabelsThenTheTargetsAndTheSourceItCameFrom()
    {
        var e = Write("# TYPE http_request_duration_seconds histogram\nhttp_request_duration_seconds_bucket{le=\"0.5\",path=\"C:\\\\x\"} 129389 1395066363000\n",
            Target(labels: new() { ["env"] = "prod" }, tenant: "noc"));

        Assert.Equal(("metric", "scrape", "127.0.0.1", 9100, "edge-1"), (e.Kind, e.Source.Transport, e.Source.Ip, e.Source.Port!.Value, e.Source.Edge));
        Assert.Equal(("noc", "eu"), (e.Tenant, e.Tags!["dc"]));
        var m = e.Metric!;
        Assert.Equal(("http_request_duration_seconds_bucket", "histogram", "http_request_duration_seconds", 129389.0), (m.Name, m.Type, m.Family, m.Value));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1395066363000), m.Timestamp);
        Assert.Equal(["le", "path", "env", "instance", "job"], m.Labels!.Keys);
        Assert.Equal(("0.5", @"C:\x", "prod", "127.0.0.1:9100", "node"), (m.Labels["le"], m.Labels["path"], m.Labels["env"], m.Labels["instance"], m.Labels["job"]));
        Assert.Null(m.Delta);
        Assert.Equal(ScrapedAt, e.ReceivedAt);
    }

    [Fact]
    public void ALabelNamedLikeATargetLabelIsKeptAsExportedAndEmptyLabelsAreLeftOut()
    {
        var m = Write("up_like{job=\"from-exporter\",instance=\"x\",empty=\"\",\"odd.name\"=\"v\"} 1\n", Target()).Metric!;

        Assert.Equal(["exported_job", "exported_instance", "odd.name", "instance", "job"], m.Labels!.Keys);
        Assert.Equal(("from-exporter", "node"), (m.Labels["exported_job"], m.Labels["job"]));
        Assert.Equal("untyped", m.Type);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("+Inf")]
    [InlineData("-Inf")]
    public void ValuesJsonHasNoNumberForTravelAsStringsTheCodecReadsBack(string token)
    {
        var m = Write($"# TYPE q summary\nq{{quantile=\"0.5\"}} {token}\n", Target()).Metric!;

        Assert.True(ExpositionTokens.TryParseValue(Encoding.UTF8.GetBytes(token), out var expected));
        Assert.Equal(expected, m.Value);
    }

    [Fact]
    public void AQuotedUtf8NameIsWrittenUnescaped()
    {
        var m = Write("{\"my.dotted \\\"metric\\\"\", \"error.message\"=\"Not Found\"} 1\n", Target()).Metric!;

        Assert.Equal(("my.dotted \"metric\"", "Not Found"), (m.Name, m.Labels!["error.message"]));
    }

    [Fact]
    public void ARunningTotalCarriesItsIncreaseSinceThePreviousScrapeAndAResetCountsFromZero()
    {
        var memory = new SeriesMemory();
        double[] Deltas(string text)
        {
            var body = Encoding.UTF8.GetBytes(text);
            using var parsed = new ParsedExposition();
            Assert.Null(ExpositionParser.Parse(body, ExpositionFormat.PrometheusText, 100, parsed));
            memory.Apply(body, parsed.Samples);
            return parsed.Samples.ToArray().Select(s => s.Delta).ToArray();
        }

        const string Types = "# TYPE c counter\n";
        Assert.All(Deltas(Types + "c{if=\"a\"} 100\nc{if=\"b\"} 5\ng 7\n"), d => Assert.True(double.IsNaN(d)));
        Assert.Equal([150, double.NaN, double.NaN], Deltas(Types + "c{if=\"a\"} 250\nc{if=\"c\"} 1\ng 9\n"));
        // "b" was missing in the scrape before: it starts again, it does not span two scrapes.
        Assert.Equal([20, double.NaN], Deltas(Types + "c{if=\"c\"} 21\nc{if=\"b\"} 6\n"));
        // A counter below its previous value was reset: the increase is the value itself.
        Assert.Equal([4, 1], Deltas(Types + "c{if=\"c\"} 4\nc{if=\"b\"} 7\n"));
    }
}
