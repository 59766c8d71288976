using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Pipeline.Edge.Sources.Scrape.Exposition;

namespace Pipeline.UnitTests.Edge.Scrape;

public sealed class ExpositionParserTests
{
    private const string Utf8LineWithoutValue = """{"my.dotted.metric", "error.message"="Not Found"}""";

    [Fact]
    public void EverySampleLineOfThePrometheusTextFormatExampleParsesWithItsNameLabelsValueAndTimestamp()
    {
        // The documented example, with the value its UTF-8 line leaves out (see the next test).
        var text = File.ReadAllText(Exposition.DataPath("prometheus-text-format-example.txt")).Replace(Utf8LineWithoutValue, Utf8LineWithoutValue + " 1", StringComparison.Ordinal);
        var (samples, error) = Exposition.Parse(text);

        Assert.Null(error);
        var sampleLines = text.Split('\n').Count(l => l.Length > 0 && !l.StartsWith('#'));
        Assert.Equal(sampleLines, samples.Count);
        var requests = samples[0];
        Assert.Equal(("http_requests_total", 1027.0, 1395066363000L, MetricType.Counter, true), (requests.Name, requests.Value, requests.TimestampMs, requests.Type, requests.Cumulative));
        Assert.Equal(new Dictionary<string, string> { ["method"] = "post", ["code"] = "200" }, requests.Labels);
        Assert.Equal(3, samples[1].Value);
        var msdos = samples[2];
        Assert.Equal(@"C:\DIR\FILE.TXT", msdos.Labels["path"]);
        Assert.Equal("Cannot find file:\n\"FILE.TXT\"", msdos.Labels["error"]);
        Assert.Equal(1.458255915e9, msdos.Value);
        Assert.Equal(MetricType.Untyped, msdos.Type);
        var dotted = samples[3];
        Assert.Equal(("my.dotted.metric", "Not Found", 1.0), (dotted.Name, dotted.Labels["error.message"], dotted.Value));
        Assert.Equal(("metric_without_timestamp_and_labels", 12.47, (long?)null), (samples[4].Name, samples[4].Value, samples[4].TimestampMs));
        Assert.Empty(samples[4].Labels);
        Assert.Equal((double.PositiveInfinity, -3982045L), (samples[5].Value, samples[5].TimestampMs!.Value));
        var buckets = samples.Where(s => s.Name == "http_request_duration_seconds_bucket").ToList();
        Assert.Equal(["0.05", "0.1", "0.2", "0.5", "1", "+Inf"], buckets.Select(b => b.Labels["le"]));
        Assert.All(samples.Where(s => s.Name.StartsWith("http_request_duration_seconds", StringComparison.Ordinal)),
            s => Assert.Equal((MetricType.Histogram, true), (s.Type, s.Cumulative)));
        var quantiles = samples.Where(s => s.Name == "rpc_duration_seconds").ToList();
        Assert.Equal(5, quantiles.Count);
        Assert.All(quantiles, q => Assert.Equal((MetricType.Summary, false), (q.Type, q.Cumulative)));
        Assert.Equal(1.7560473e+07, samples.Single(s => s.Name == "rpc_duration_seconds_sum").Value);
        Assert.True(samples.Single(s => s.Name == "rpc_duration_seconds_count").Cumulative);
    }

    [Fact]
    public void TheExamplesUtf8LineAsDocumentedHasNoValueAndIsRefusedNamingItsLine()
    {
        var (_, error) = Exposition.Parse(File.ReadAllBytes(Exposition.DataPath("prometheus-text-format-example.txt")));

        Assert.NotNull(error);
        Assert.Equal((10, "no value"), (error.Line, error.Reason));
    }

    [Fact]
    public void TheOpenMetricsCompleteExpositionParsesWithTypesAndUnits()
    {
        var (samples, error) = Exposition.Parse(File.ReadAllBytes(Exposition.DataPath("openmetrics-complete-exposition.txt")), ExpositionFormat.OpenMetrics);

        Assert.Null(error);
        Assert.Equal(8, samples.Count);
        Assert.All(samples.Take(6), s => Assert.Equal(MetricType.Summary, s.Type));
        Assert.Equal([true, true, false, true, true, false], samples.Take(6).Select(s => s.Cumulative));
        Assert.Equal(("go_goroutines", MetricType.Gauge, 69.0), (samples[6].Name, samples[6].Type, samples[6].Value));
        Assert.Equal(("process_cpu_seconds_total", MetricType.Counter, 4.20072246e+06, true), (samples[7].Name, samples[7].Type, samples[7].Value, samples[7].Cumulative));
    }

    [Fact]
    public void EveryExampleOfTheOpenMetricsSpecificationParses()
    {
        var blocks = File.ReadAllText(Exposition.DataPath("openmetrics-examples.txt")).Split("----\n");
        Assert.True(blocks.Length >= 25, "every example is there");
        foreach (var block in blocks)
        {
            var (samples, error) = Exposition.Parse(block + "# EOF\n", ExpositionFormat.OpenMetrics);
            Assert.True(error is null, $"{error}\n{block}");
            Assert.Equal(block.Split('\n').Count(l => l.Length > 0 && !l.StartsWith('#')), samples.Count);
        }
    }

    [Fact]
    public void OpenMetricsTimestampsAreSecondsExemplarsAreCheckedAndTheFamilyTypeCoversItsSuffixes()
    {
        var (samples, error) = Exposition.Parse("""
            # TYPE foo histogram
            foo_bucket{le="10"} 17 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789
            foo_bucket{le="+Inf"} 17 1520879607.789
            foo_count 17
            foo_created 1520430000.123
            # TYPE bar unknown
            bar 1
            baz 2
            # EOF

            """, ExpositionFormat.OpenMetrics);

        Assert.Null(error);
        Assert.Equal(1520879607789, samples[1].TimestampMs);
        Assert.Equal([true, true, true, false], samples.Take(4).Select(s => s.Cumulative));
        Assert.Equal([MetricType.Histogram, MetricType.Histogram, MetricType.Histogram, MetricType.Histogram, MetricType.Unknown, MetricType.Unknown],
            samples.Select(s => s.Type));
    }

    [Theory]
    [InlineData("# TYPE foo counter\nfoo 1\n", "no '# EOF' line")]
    [InlineData("foo 1\n# EOF\nbar 2\n", "text after '# EOF'")]
    [InlineData("foo 1 # {a=\"b\"}\n# EOF\n", "exemplar: no value")]
    [InlineData("foo 1 # a=\"b\" 1\n# EOF\n", "an exemplar must start with '{'")]
    public void AnOpenMetricsExpositionThatIsIncompleteOrMalformedIsRefused(string text, string reason)
    {
        var (_, error) = Exposition.Parse(text, ExpositionFormat.OpenMetrics);

        Assert.NotNull(error);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("foo", "no value")]
    [InlineData("foo bar", "'bar' is not a number")]
    [InlineData("foo 1 2 3", "text after the value")]
    [InlineData("foo 1 12.5", "'12.5' is not a timestamp")]
    [InlineData("foo 1 # {a=\"b\"} 1", "text after the value")]
    [InlineData("foo{a=\"b\" 1", "expected ',' or '}'")]
    [InlineData("foo{a=\"b} 1", "unterminated quoted string")]
    [InlineData("foo{a=b} 1", "no quoted value")]
    [InlineData("foo{a} 1", "has no '='")]
    [InlineData("foo{a=\"1\",a=\"2\"} 1", "given twice")]
    [InlineData("foo{0a=\"1\"} 1", "cannot start a label name")]
    [InlineData("9foo 1", "cannot start a metric name")]
    [InlineData("foo{\"x\",\"y\"} 1", "two metric names")]
    [InlineData("{a=\"b\"} 1", "no metric name")]
    [InlineData("foo{a=\"b\"}1", "a blank must separate the series from its value")]
    [InlineData("# TYPE foo cheese", "unknown metric type 'cheese'")]
    [InlineData("# TYPE foo counter extra", "text after the metric type")]
    [InlineData("# TYPE foo", "# TYPE without a type")]
    [InlineData("# HELP", "# HELP without a metric name")]
    [InlineData("<html><body>Not Found</body></html>", "cannot start a metric name")]
    [InlineData("{\"status\":\"error\"}", "expected ',' or '}'")]
    [InlineData("foo 0x1p3", "is not a number")]
    [InlineData("foo 1_000", "is not a number")]
    [InlineData("foo \u221E", "is not a number")]
    [InlineData("foo 1 99999999999999999999", "is not a timestamp")]
    public void AMalformedLineRefusesTheWholeBodyNamingTheLineAndWhy(string line, string reason)
    {
        var (samples, error) = Exposition.Parse("good 1\n" + line + "\nalso_good 2\n");

        Assert.Empty(samples);
        Assert.NotNull(error);
        Assert.Equal(2, error.Line);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.False(error.SampleLimit);
    }

    [Theory]
    [InlineData("NaN", double.NaN)]
    [InlineData("nan", double.NaN)]
    [InlineData("+Inf", double.PositiveInfinity)]
    [InlineData("-Inf", double.NegativeInfinity)]
    [InlineData("inf", double.PositiveInfinity)]
    [InlineData("-Infinity", double.NegativeInfinity)]
    [InlineData("1e3", 1000.0)]
    [InlineData("-0.5", -0.5)]
    [InlineData(".5", 0.5)]
    [InlineData("0042", 42.0)]
    [InlineData("1.7560473e+07", 1.7560473e+07)]
    public void ValuesAreReadAsGoParseFloatReadsThem(string token, double expected)
    {
        var (samples, error) = Exposition.Parse($"foo {token}\n");

        Assert.Null(error);
        Assert.Equal(expected, Assert.Single(samples).Value);
    }

    [Fact]
    public void BlanksTabsCarriageReturnsTrailingCommasAndQuotedLabelNamesAreTolerated()
    {
        var (samples, error) = Exposition.Parse("  foo { a = \"1\" ,\t\"b.c\"=\"2\", }\t 3 \t 1000 \r\n\n\t\nbar{} 4\r\n");

        Assert.Null(error);
        Assert.Equal(2, samples.Count);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b.c"] = "2" }, samples[0].Labels);
        Assert.Equal((3.0, 1000L), (samples[0].Value, samples[0].TimestampMs!.Value));
        Assert.Equal("foo { a = \"1\" ,\t\"b.c\"=\"2\", }", samples[0].Series);
        Assert.Equal(("bar", 4.0), (samples[1].Name, samples[1].Value));
        Assert.Empty(samples[1].Labels);
    }

    [Fact]
    public void QuotedNamesInTypeLinesAndSamplesAreOneFamily()
    {
        var (samples, error) = Exposition.Parse("""
            # HELP "my.dotted.metric" A metric with UTF-8 compatible names.
            # TYPE "my.dotted.metric" gauge
            {"my.dotted.metric", "error.message"="Not Found"} 1
            {"with \"quotes\""} 2

            """);

        Assert.Null(error);
        Assert.Equal((MetricType.Gauge, "Not Found"), (samples[0].Type, samples[0].Labels["error.message"]));
        Assert.Equal(("with \"quotes\"", MetricType.Untyped), (samples[1].Name, samples[1].Type));
    }

    [Fact]
    public void ASampleThatIsNotOfTheDeclaredFamilyIsUntyped()
    {
        var (samples, _) = Exposition.Parse("# TYPE foo counter\nfoo_total 1\nfoo_bucket 2\nbar 3\n");

        Assert.Equal([MetricType.Counter, MetricType.Untyped, MetricType.Untyped], samples.Select(s => s.Type));
    }

    [Fact]
    public void MoreSamplesThanTheLimitRefuseTheBodyAsOverTheLimit()
    {
        var text = string.Concat(Enumerable.Range(0, 11).Select(i => $"s{i} {i}\n"));

        var (_, error) = Exposition.Parse(text, sampleLimit: 10);

        Assert.NotNull(error);
        Assert.True(error.SampleLimit);
        Assert.Equal(11, error.Line);
        Assert.Null(Exposition.Parse(text, sampleLimit: 11).Error);
    }

    [Fact]
    public void ABodyThatIsNotUtf8IsRefusedAtTheLineOfTheBadByte()
    {
        byte[] body = [.. "ok 1\nalso 2\nbad{a=\""u8, 0xC3, 0x28, .. "\"} 1\n"u8];

        var (_, error) = Exposition.Parse(body);

        Assert.Equal((3, "not UTF-8"), (error!.Line, error.Reason));
    }

    [Fact]
    public void MoreThanTheMaximumOfLabelsOnOneSampleIsRefused()
    {
        var labels = string.Join(',', Enumerable.Range(0, ExpositionParser.MaxLabels + 1).Select(i => $"l{i}=\"v\""));

        var (_, error) = Exposition.Parse($"foo{{{labels}}} 1\n");

        Assert.Contains("more than", error!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ArbitraryBytesNeverCrashTheParserAndEveryRangeStaysInsideTheBody()
    {
        var property = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), body => HoldsInvariants(body));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(3000), property);
    }

    // Pieces of the format, so random bodies reach deep into the parser instead of failing at the first byte.
    private static readonly string[] Fragments =
    [
        "foo", "_bucket", "_total", "{", "}", "\"", "\\", "\\n", "\\\"", "=", ",", " ", "\t", "\n", "\r", "#", "# TYPE ", "# HELP ", "# UNIT ",
        "# EOF", "counter", "histogram", "summary", "gauge", "le=\"+Inf\"", "a=\"b\"", "1", "-1", "1e3", "+Inf", "NaN", ".", "1395066363000",
        "1520879607.789", " # {", "ü", "\u2713", "\0", ":", "\"my.metric\"",
    ];

    [Fact]
    public void ExpositionShapedNoiseNeverCrashesTheParserAndEveryRangeStaysInsideTheBody()
    {
        var bodies = Gen.ArrayOf(Gen.Elements(Fragments)).Select(parts => Encoding.UTF8.GetBytes(string.Concat(parts)));
        var property = Prop.ForAll(bodies.ToArbitrary(), body => HoldsInvariants(body));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(5000), property);
    }

    [Fact]
    public void ParsingALargeBodyAllocatesNothingOnceItsBuffersHaveGrown()
    {
        var body = Encoding.UTF8.GetBytes("# TYPE m counter\n" + string.Concat(Enumerable.Range(0, 10_000).Select(i => $"m{{host=\"h{i % 50}\",if=\"eth{i}\"}} {i}.5 1700000000000\n")));
        using var parsed = new ParsedExposition();
        Assert.Null(ExpositionParser.Parse(body, ExpositionFormat.PrometheusText, 100_000, parsed));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = ExpositionParser.Parse(body, ExpositionFormat.PrometheusText, 100_000, parsed);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Null(error);
        Assert.Equal(10_000, parsed.SampleCount);
        Assert.True(allocated < 1024, $"{allocated} bytes allocated for 10,000 samples");
    }

    private static bool HoldsInvariants(byte[]? body)
    {
        body ??= [];
        foreach (var format in (ExpositionFormat[])[ExpositionFormat.PrometheusText, ExpositionFormat.OpenMetrics])
        {
            using var parsed = new ParsedExposition();
            var error = ExpositionParser.Parse(body, format, 1000, parsed);
            if (error is not null)
            {
                if (string.IsNullOrEmpty(error.Reason)) return false;
                continue;
            }
            foreach (var s in parsed.Samples)
            {
                foreach (var range in (BodyRange[])[s.Name, s.Labels, s.Series])
                    if (range.Start < 0 || range.Length < 0 || range.Start + range.Length > body.Length) return false;
                if (s.Name.Length == 0) return false;
            }
            // Labels the parser accepted can always be walked and unescaped.
            _ = Exposition.Read(body, parsed);
        }
        return true;
    }
}
