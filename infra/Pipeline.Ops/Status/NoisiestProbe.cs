using System.Globalization;
using System.Text.Json;

namespace Pipeline.Ops.Status;

/// <summary>The heaviest keys of one dimension in the current window, as the top-k API answers them.</summary>
internal sealed record NoisiestDimension(string Dimension, string? WindowStart, string? State, double Events, IReadOnlyList<NoisiestEntry> Top);

internal sealed record NoisiestEntry(string Key, double Count, double Error);

/// <summary>The "noisiest now" panel: each dimension's top keys, or why there are none.</summary>
internal sealed record NoisiestStatus(string Window, bool Up, string? Error, IReadOnlyList<NoisiestDimension> Dimensions);

/// <summary>
/// Asks the top-k aggregator's query API (<c>GET /topk?dimension=…&amp;window=…&amp;k=…</c>) for the panel's
/// dimensions. Answers are kept for a moment, so many open pages cost the aggregator one query per
/// dimension and window per interval.
/// </summary>
internal sealed class NoisiestProbe(HttpClient http, Uri? topk, TimeProvider time, TimeSpan keep)
{
    public static readonly IReadOnlyList<string> Dimensions = ["host", "app", "source_ip", "template"];
    public static readonly IReadOnlyList<string> Windows = ["1m", "1h"];
    private readonly Dictionary<string, (DateTimeOffset At, NoisiestStatus Status)> _cache = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<NoisiestStatus> ReadAsync(string window, int k, CancellationToken cancellationToken)
    {
        if (!Windows.Contains(window)) throw new ArgumentException($"window must be one of {string.Join(", ", Windows)}", nameof(window));
        if (topk is null) return new NoisiestStatus(window, false, "no top-k aggregator is watched (start the topk worker, or pass --topk URL)", []);
        var key = $"{window}/{k}";
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_cache.TryGetValue(key, out var cached) && time.GetUtcNow() - cached.At < keep) return cached.Status;
            var status = await QueryAsync(window, k, cancellationToken);
            _cache[key] = (time.GetUtcNow(), status);
            return status;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<NoisiestStatus> QueryAsync(string window, int k, CancellationToken cancellationToken)
    {
        try
        {
            var answers = await Task.WhenAll(Dimensions.Select(d => QueryAsync(d, window, k, cancellationToken)));
            return new NoisiestStatus(window, true, null, answers);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            return new NoisiestStatus(window, false, $"the top-k aggregator at {topk} does not answer: {(ex is TaskCanceledException ? "timed out" : ex.Message)}", []);
        }
    }

    private async Task<NoisiestDimension> QueryAsync(string dimension, string window, int k, CancellationToken cancellationToken)
    {
        var uri = new Uri(topk!, string.Create(CultureInfo.InvariantCulture, $"/topk?dimension={dimension}&window={window}&k={k}"));
        using var response = await http.GetAsync(uri, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
        var root = document.RootElement;
        var top = root.TryGetProperty("top", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(e => new NoisiestEntry(
                e.GetProperty("key").GetString() ?? "", e.GetProperty("count").GetDouble(), e.TryGetProperty("error", out var err) ? err.GetDouble() : 0)).ToList()
            : [];
        return new NoisiestDimension(dimension, Text(root, "window_start"), Text(root, "state"),
            root.TryGetProperty("events", out var events) && events.ValueKind == JsonValueKind.Number ? events.GetDouble() : 0, top);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
