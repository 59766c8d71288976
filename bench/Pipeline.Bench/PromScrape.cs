using System.Globalization;

namespace Pipeline.Bench;

/// <summary>
/// Reading a bench process's Prometheus text exposition over HTTP: the scrape itself (empty while the process is
/// still starting), a counter's sum over matching series, and a consumer group's write histograms.
/// </summary>
internal static class PromScrape
{
    public static async Task<string> ScrapeAsync(HttpClient http, int port)
    {
        try
        {
            return await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        }
        catch (HttpRequestException)
        {
            // Still starting: nothing written yet.
            return "";
        }
    }

    /// <summary>The sum of every series of <paramref name="name"/> whose labels include <paramref name="match"/>.</summary>
    public static double Sum(string text, string name, params (string Label, string Value)[] match) =>
        text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && match.All(m => l.Contains($"{m.Label}=\"{m.Value}\"", StringComparison.Ordinal)))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>A worker's freshness, sink write duration and batch size histograms from one scrape.</summary>
    public static (PromHistogram Freshness, PromHistogram Writes, PromHistogram Batches) ConsumerHistograms(string scrape, string group) =>
        (PromHistogram.Parse(scrape, "consumer_freshness_seconds", ("group", group)),
         PromHistogram.Parse(scrape, "consumer_write_duration_seconds", ("group", group)),
         PromHistogram.Parse(scrape, "consumer_write_batch_records", ("group", group)));
}
