using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Consumers.TopK.Windows;

namespace Pipeline.Consumers.TopK;

/// <summary>
/// <c>GET /topk?dimension=host&amp;window=1m&amp;k=10[&amp;at=2025-01-01T12:00:00Z]</c>: the heavy hitters of the
/// window holding <c>at</c> (default now: the current window), merged from every partition's stored partial,
/// so every member of the group gives the same answer. The current window is as of the partitions' last
/// checkpoint (at most one batch behind). <c>GET /topk/windows?dimension=host&amp;window=1m&amp;limit=60</c>
/// lists the windows stored, newest first.
/// </summary>
internal static class TopKQuery
{
    public const int DefaultK = 10;

    public static IEndpointRouteBuilder MapTopK(this IEndpointRouteBuilder endpoints)
    {
        var store = endpoints.ServiceProvider.GetRequiredService<StoredWindows>();
        var options = endpoints.ServiceProvider.GetRequiredService<TopKOptions>();
        var metrics = endpoints.ServiceProvider.GetRequiredService<TopKMetrics>();
        var time = endpoints.ServiceProvider.GetRequiredService<TimeProvider>();
        var dimensions = options.DimensionList.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        var granularities = options.Granularities;

        endpoints.MapGet("/topk", async (HttpRequest request, CancellationToken cancellationToken) =>
        {
            var query = request.Query;
            if (!TryParse(query, dimensions, granularities, options, out var dimension, out var granularity, out var error)
                || !TryInt(query["k"], DefaultK, 1, options.Capacity, "k", out var k, ref error))
            {
                metrics.BadQueries.Inc();
                return Results.Json(new TopKError(error!), TopKJson.Default.TopKError, statusCode: StatusCodes.Status400BadRequest);
            }
            var at = time.GetUtcNow();
            if (query["at"].ToString() is { Length: > 0 } text
                && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at))
            {
                metrics.BadQueries.Inc();
                return Results.Json(new TopKError($"at '{text}' is not an RFC 3339 time"), TopKJson.Default.TopKError, statusCode: StatusCodes.Status400BadRequest);
            }
            var start = granularity.Start(at);
            var (parts, late) = await store.ReadWindowAsync(granularity.Seconds, start, dimension, closedOnly: false, cancellationToken);
            metrics.Queries.Inc();
            return Results.Json(TopKResult.Build(store.Group, dimension, granularity, start, parts, late, k), TopKJson.Default.TopKResult);
        });

        endpoints.MapGet("/topk/windows", async (HttpRequest request, CancellationToken cancellationToken) =>
        {
            var query = request.Query;
            if (!TryParse(query, dimensions, granularities, options, out var dimension, out var granularity, out var error)
                || !TryInt(query["limit"], 60, 1, 10_000, "limit", out var limit, ref error))
            {
                metrics.BadQueries.Inc();
                return Results.Json(new TopKError(error!), TopKJson.Default.TopKError, statusCode: StatusCodes.Status400BadRequest);
            }
            var starts = await store.ListWindowsAsync(granularity.Seconds, dimension, limit, cancellationToken);
            metrics.Queries.Inc();
            return Results.Json(new TopKWindowList(dimension, granularity.Label, starts), TopKJson.Default.TopKWindowList);
        });
        return endpoints;
    }

    private static bool TryParse(IQueryCollection query, HashSet<string> dimensions, IReadOnlyList<Granularity> granularities, TopKOptions options,
        out string dimension, out Granularity granularity, out string? error)
    {
        dimension = query["dimension"].ToString();
        granularity = granularities[0];
        error = null;
        if (!dimensions.Contains(dimension))
        {
            error = $"dimension must be one of: {string.Join(", ", options.DimensionList.Select(d => d.Name))}";
            return false;
        }
        var window = query["window"].ToString();
        if (window.Length == 0) return true;
        if (Granularity.TryParse(window, out var size) && granularities.FirstOrDefault(g => g.Size == size) is { Size.Ticks: > 0 } found)
        {
            granularity = found;
            return true;
        }
        error = $"window must be one of: {string.Join(", ", granularities.Select(g => g.Label))}";
        return false;
    }

    private static bool TryInt(string? text, int fallback, int min, int max, string name, out int value, ref string? error)
    {
        value = fallback;
        if (string.IsNullOrEmpty(text)) return true;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max) return true;
        error = $"{name} must be a whole number from {min} to {max}";
        return false;
    }
}
