using System.Net;
using System.Text.Json;

namespace Pipeline.Ops.Status;

/// <summary>A process the status reader watches: the edge or a consumer worker, by its admin URL (<c>/metrics</c>, <c>/healthz</c>).</summary>
internal sealed record ProcessTarget(string Name, string Role, Uri Url, string? Group)
{
    public const string EdgeRole = "edge";
    public const string WorkerRole = "worker";
}

/// <summary>What one read of a process found; <see cref="Metrics"/> is null when the process did not answer.</summary>
internal sealed record ProcessReading(ProcessTarget Target, DateTimeOffset At, MetricsScrape? Metrics, bool Healthy, string? Detail)
{
    public bool Up => Metrics is not null;
}

/// <summary>
/// Reads a process's <c>/metrics</c> and <c>/healthz</c> at once, each bounded by the client's timeout, so a
/// process that hangs is reported as down within one interval instead of stalling every other reading.
/// </summary>
internal sealed class ProcessProbe(HttpClient http, TimeProvider time)
{
    public async Task<ProcessReading> ReadAsync(ProcessTarget target, CancellationToken cancellationToken)
    {
        var metrics = ScrapeAsync(target, cancellationToken);
        var health = HealthAsync(target, cancellationToken);
        var (scrape, scrapeError) = await metrics;
        var (healthy, detail) = await health;
        return new ProcessReading(target, time.GetUtcNow(), scrape, scrape is not null && healthy, scrape is null ? scrapeError : detail);
    }

    private async Task<(MetricsScrape?, string?)> ScrapeAsync(ProcessTarget target, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(target.Url, "/metrics"), cancellationToken);
            if (!response.IsSuccessStatusCode) return (null, $"/metrics answered {(int)response.StatusCode}");
            return (MetricsScrape.Parse(await response.Content.ReadAsStringAsync(cancellationToken)), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (null, ex is TaskCanceledException ? $"no answer within {http.Timeout.TotalSeconds:0.#} s" : Reason(ex));
        }
    }

    /// <summary>200 is healthy; otherwise the components that say they are not, with their detail.</summary>
    private async Task<(bool, string?)> HealthAsync(ProcessTarget target, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(target.Url, "/healthz"), cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK) return (true, null);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return (false, UnhealthyComponents(body) ?? $"/healthz answered {(int)response.StatusCode}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (false, "/healthz did not answer");
        }
    }

    private static string? UnhealthyComponents(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("components", out var components) || components.ValueKind != JsonValueKind.Object) return null;
            var failing = components.EnumerateObject()
                .Where(c => c.Value.TryGetProperty("healthy", out var h) && h.ValueKind == JsonValueKind.False)
                .Select(c => c.Value.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? $"{c.Name}: {d.GetString()}" : c.Name)
                .ToList();
            return failing.Count == 0 ? null : string.Join("; ", failing);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Reason(Exception ex) => ex.InnerException?.Message ?? ex.Message;
}
