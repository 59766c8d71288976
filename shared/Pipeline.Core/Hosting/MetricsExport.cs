using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Pipeline.Core.Metrics;

namespace Pipeline.Core.Hosting;

/// <summary>Where metrics go besides <c>/metrics</c> (section <c>Metrics</c>).</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>
    /// OTLP endpoint metrics are pushed to, e.g. <c>http://collector:4318</c> (HTTP/protobuf; <c>/v1/metrics</c> is
    /// added when no path is given) or <c>http://collector:4317</c> with <see cref="OtlpProtocol"/> <c>grpc</c>.
    /// Default empty: taken from <c>OTEL_EXPORTER_OTLP_METRICS_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
    /// when set, else nothing is pushed.
    /// </summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary><c>http/protobuf</c> (default) or <c>grpc</c>.</summary>
    public string OtlpProtocol { get; set; } = "http/protobuf";

    /// <summary>How often metrics are pushed over OTLP. Default 15 s.</summary>
    public TimeSpan OtlpInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The endpoint in use, or null when metrics are not pushed.</summary>
    public Uri? ResolvedOtlpEndpoint()
    {
        var text = FirstSet(OtlpEndpoint, Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
            Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        if (text is null) return null;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"Metrics:OtlpEndpoint '{text}' is not an http(s) URL");
        if (Protocol == OtlpExportProtocol.HttpProtobuf && uri.AbsolutePath is "/" or "") uri = new Uri(uri, "/v1/metrics");
        return uri;
    }

    internal OtlpExportProtocol Protocol => OtlpProtocol.ToLowerInvariant() switch
    {
        "http/protobuf" or "http" => OtlpExportProtocol.HttpProtobuf,
        "grpc" => OtlpExportProtocol.Grpc,
        _ => throw new ArgumentException($"Metrics:OtlpProtocol must be http/protobuf or grpc, not '{OtlpProtocol}'"),
    };

    public void Validate()
    {
        _ = Protocol;
        _ = ResolvedOtlpEndpoint();
        if (OtlpInterval < TimeSpan.FromSeconds(1)) throw new ArgumentException("Metrics:OtlpInterval must be at least 1 s");
    }

    private static string? FirstSet(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
}

/// <summary>
/// Sets up the export of every process's instruments: the pipeline's own meters, ASP.NET Core's
/// <c>http.server.request.duration</c>, and the process figures; Prometheus text on <c>/metrics</c>, and OTLP when configured.
/// </summary>
public static class MetricsExport
{
    /// <summary>The meters exported: every <c>Pipeline.*</c> meter and ASP.NET Core's request metrics.</summary>
    public static readonly string[] Meters = ["Pipeline.*", "Microsoft.AspNetCore.Hosting"];

    public static IHostApplicationBuilder AddPipelineMetrics(this IHostApplicationBuilder builder, string serviceName)
    {
        var options = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        options.Validate();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ProcessMetrics>();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithMetrics(m => m.AddMeter(Meters).AddPrometheusExporter(p =>
            {
                // The names and labels stay those of the earlier hand-written exposition: no otel_scope_* labels.
                p.ScopeInfoEnabled = false;
                // Every scrape is a fresh collection (they are cheap), so a check right after an event sees it.
                p.ScrapeResponseCacheDurationMilliseconds = 0;
            }));
        if (options.ResolvedOtlpEndpoint() is { } endpoint)
            builder.Services.AddHostedService(_ => new OtlpMetricsPush(serviceName, endpoint, options));
        return builder;
    }
}

/// <summary>
/// Pushes metrics over OTLP from a MeterProvider of its own: a provider's readers share its instruments'
/// aggregates, so a push collecting while a scrape is being written could mix two readings of the loss
/// ledger; apart, each collection reads one (see <see cref="SnapshotRound{T}"/>).
/// </summary>
internal sealed class OtlpMetricsPush(string serviceName, Uri endpoint, MetricsOptions options) : IHostedService, IDisposable
{
    private MeterProvider? _provider;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _provider = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(r => r.AddService(serviceName))
            .AddMeter(MetricsExport.Meters)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = endpoint;
                exporter.Protocol = options.Protocol;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.OtlpInterval.TotalMilliseconds;
                reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
            })
            .Build();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // The last figures (e.g. what was drained at shutdown) are pushed before the process ends.
        _provider?.ForceFlush(5000);
        return Task.CompletedTask;
    }

    public void Dispose() => _provider?.Dispose();
}
