using Pipeline.Core.Metrics;

namespace Pipeline.UnitTests.Core;

public sealed class MetricsRegistryTests
{
    [Fact]
    public void CountersAndGaugesRenderInThePrometheusTextFormat()
    {
        var registry = new MetricsRegistry();
        registry.Counter("things_total", "Things.", ("kind", "a\"b")).Inc(3);
        registry.Gauge("level", "Level.").Set(1.5);

        var text = registry.Render();

        Assert.Contains("# HELP things_total Things.\n# TYPE things_total counter\nthings_total{kind=\"a\\\"b\"} 3\n", text);
        Assert.Contains("# TYPE level gauge\nlevel 1.5\n", text);
    }

    [Fact]
    public void TheSameNameAndLabelsGiveTheSameCounter()
    {
        var registry = new MetricsRegistry();
        registry.Counter("c_total", "C.", ("x", "1")).Inc();
        registry.Counter("c_total", "C.", ("x", "1")).Inc();
        Assert.Equal(2, registry.Read("c_total", ("x", "1")));
        Assert.Equal(2, registry.Sum("c_total"));
    }

    [Fact]
    public void RefreshersRunBeforeEachScrape()
    {
        var registry = new MetricsRegistry();
        var gauge = registry.Gauge("g", "G.");
        var n = 0;
        registry.BeforeScrape(() => gauge.Set(++n));
        registry.Render();
        Assert.Contains("g 2\n", registry.Render());
    }
}
