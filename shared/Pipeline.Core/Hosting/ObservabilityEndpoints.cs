using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Metrics;

namespace Pipeline.Core.Hosting;

/// <summary><c>GET /metrics</c> (Prometheus text) and <c>GET /healthz</c>, served by every process.</summary>
public static class ObservabilityEndpoints
{
    /// <summary>Maps both endpoints; the registry and health state come from the service provider.</summary>
    public static IEndpointRouteBuilder MapObservability(this IEndpointRouteBuilder endpoints)
    {
        var registry = endpoints.ServiceProvider.GetRequiredService<MetricsRegistry>();
        var health = endpoints.ServiceProvider.GetRequiredService<HealthState>();
        AddProcessMetrics(registry);

        endpoints.MapGet("/metrics", () =>
            Results.Text(registry.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        endpoints.MapGet("/healthz", () =>
        {
            var components = health.Snapshot().ToDictionary(
                c => c.Key, c => new { healthy = c.Value.Healthy, detail = c.Value.Detail });
            return Results.Json(new { healthy = health.IsHealthy, components },
                statusCode: health.IsHealthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return endpoints;
    }

    private static void AddProcessMetrics(MetricsRegistry registry)
    {
        var rss = registry.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        var cpu = registry.Gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.");
        var managed = registry.Gauge("dotnet_gc_heap_bytes", "Bytes in the managed heap after the last collection.");
        registry.BeforeScrape(() =>
        {
            using var self = Process.GetCurrentProcess();
            rss.Set(self.WorkingSet64);
            cpu.Set(self.TotalProcessorTime.TotalSeconds);
            managed.Set(GC.GetGCMemoryInfo().HeapSizeBytes);
        });
    }
}
