using System.Globalization;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>A scrape of a /metrics endpoint: series (name with labels) to values.</summary>
internal sealed class MetricsText
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _series = [];

    public static async Task<MetricsText> ScrapeAsync(PipelineProcess process) => Parse(await process.GetAsync("/metrics"));

    /// <summary>
    /// A scrape once the worker's <c>consumer_records_total{outcome="written"}</c> for <paramref name="group"/> reached
    /// <paramref name="records"/>: the counter moves just after a write's transaction commits, so a test that saw the
    /// commit waits for it before holding it to an exact count.
    /// </summary>
    public static Task<MetricsText> WhenWrittenAsync(PipelineProcess process, string group, long records, TimeSpan patience) =>
        Eventually.Until(() => ScrapeAsync(process), m => m.Sum("consumer_records_total", ("group", group), ("outcome", "written")) >= records,
            patience, $"the worker counted {records} records written");

    public static MetricsText Parse(string text)
    {
        var metrics = new MetricsText();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var space = line.LastIndexOf(' ');
            var series = line[..space];
            var value = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            var brace = series.IndexOf('{');
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            // OpenTelemetry's exporter writes an empty label set as "{}".
            if (brace >= 0 && series.Length > brace + 2)
            {
                foreach (var pair in series[(brace + 1)..^1].Split("\","))
                {
                    var eq = pair.IndexOf('=');
                    labels[pair[..eq]] = pair[(eq + 2)..].TrimEnd('"');
                }
            }
            metrics._series.Add((brace >= 0 ? series[..brace] : series, labels, value));
        }
        return metrics;
    }

    /// <summary>Sum of a metric over every series whose labels include <paramref name="match"/>.</summary>
    public double Sum(string name, params (string Label, string Value)[] match) =>
        _series.Where(s => s.Name == name && match.All(m => s.Labels.TryGetValue(m.Label, out var v) && v == m.Value)).Sum(s => s.Value);

    public IEnumerable<Dictionary<string, string>> LabelSets(string name) => _series.Where(s => s.Name == name).Select(s => s.Labels);

    /// <summary>
    /// The edge's loss ledger for one listener and route: received + recovered must equal published +
    /// pending (memory and spool) + dropped for every reason.
    /// </summary>
    public (double Left, double Right) Ledger(string listener, string route)
    {
        (string, string)[] cell = [("listener", listener), ("route", route)];
        var left = Sum("edge_events_received_total", cell) + Sum("edge_events_recovered_total", cell);
        var right = Sum("edge_events_published_total", cell) + Sum("edge_events_pending", cell) + Sum("edge_events_dropped_total", cell);
        return (left, right);
    }
}
