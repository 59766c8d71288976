using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Pipeline.Core.Metrics;

namespace Pipeline.Core.Hosting;

/// <summary>
/// <c>GET /metrics</c> (Prometheus text, by OpenTelemetry's exporter) and <c>GET /healthz</c>, served by every process:
/// admin endpoints (<see cref="AdminEndpoint"/>), on the admin listener when there is one.
/// </summary>
public static class ObservabilityEndpoints
{
    /// <summary>Maps both endpoints; the health state comes from the service provider.</summary>
    public static IEndpointRouteBuilder MapObservability(this IEndpointRouteBuilder endpoints)
    {
        var health = endpoints.ServiceProvider.GetRequiredService<HealthState>();
        // Made now so that its instruments exist from the first scrape.
        endpoints.ServiceProvider.GetRequiredService<ProcessMetrics>();

        // Scrapes and health checks are not the traffic http_server_request_duration_seconds is about.
        endpoints.MapPrometheusScrapingEndpoint("/metrics").DisableHttpMetrics().WithMetadata(AdminEndpoint.Instance);
        endpoints.MapGet("/healthz", () =>
        {
            var components = health.Snapshot().ToDictionary(
                c => c.Key, c => new { healthy = c.Value.Healthy, detail = c.Value.Detail });
            return Results.Json(new { healthy = health.IsHealthy, components },
                statusCode: health.IsHealthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).DisableHttpMetrics().WithMetadata(AdminEndpoint.Instance);
        return endpoints;
    }
}
