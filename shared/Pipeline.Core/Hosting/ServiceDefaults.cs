using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pipeline.Core.Hosting;

/// <summary>What every executable of the pipeline sets up the same way.</summary>
public static class ServiceDefaults
{
    /// <summary>
    /// One-line structured console logs, metrics exported by OpenTelemetry (<see cref="MetricsExport"/>), a
    /// <see cref="HealthState"/>, the system clock as <see cref="TimeProvider"/>, and a shutdown budget long enough to drain.
    /// </summary>
    public static IHostApplicationBuilder AddPipelineDefaults(this IHostApplicationBuilder builder, TimeSpan shutdownTimeout)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.AddPipelineMetrics(System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "pipeline");
        builder.Services.AddSingleton<HealthState>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout);
        return builder;
    }
}
