using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Hosting;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Routing;
using Pipeline.Edge.Sources;
using Pipeline.Edge.Sources.Http;
using Pipeline.Edge.Sources.Http.Otlp;
using Pipeline.Edge.Sources.Scrape;
using Pipeline.Edge.Sources.Syslog;
using Pipeline.Kafka;

namespace Pipeline.Edge;

/// <summary>Builds the edge service: listeners, the ingest path, the publisher and the HTTP endpoints.</summary>
internal static class EdgeHost
{
    public const string Summary = "The edge: receives syslog (UDP, TCP, TLS), JSON events (HTTP, WebSocket) and OTLP logs, marks them up, " +
        "routes, samples and publishes them to Kafka. `pipeline-edge parse` reads syslog lines on stdin and writes one envelope per line on stdout.";

    /// <summary>Friendly command-line switches; any setting can also be given as <c>--Section:Key=value</c>.</summary>
    public static readonly IReadOnlyList<CommandLineSwitch> Switches =
    [
        new("--kafka", "Kafka:BootstrapServers", "Kafka bootstrap servers, host:port[,host:port…]"),
        new("--syslog-udp", "Edge:Listeners:syslog-udp:Bind", "Address:port of syslog over UDP", "127.0.0.1:5514"),
        new("--syslog-tcp", "Edge:Listeners:syslog-tcp:Bind", "Address:port of syslog over TCP", "127.0.0.1:5514"),
        new("--http", "Edge:Listeners:http:Bind", "Address:port of HTTP ingest (/v1/events, /v1/stream), and of /metrics and /healthz without --admin", "127.0.0.1:8080"),
        new("--otlp", "Edge:Listeners:otlp:Bind", "Address:port of OTLP/HTTP logs; giving it turns the listener on", "off (127.0.0.1:4318 when on)"),
        new("--admin", "Admin:Bind", "Address:port (or a port, on loopback) serving /metrics and /healthz apart", "off: served on --http"),
        new("--name", "Edge:Name", "This edge's name in every envelope", "the host name"),
        new("--spool", "Edge:Spool:Directory", "Folder of the disk spool", "spool"),
    ];

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        // Secret files (PIPELINE_SECRETS_DIR) over the environment; the command line over both.
        builder.Configuration.AddSecretFiles();
        builder.Configuration.AddCommandLine(args, ExecutableCommandLine.Mappings(Switches));
        // --otlp ADDRESS also turns the OTLP listener on (it is off unless asked for: 4318 may be taken on a shared host).
        if (args.Contains("--otlp")) builder.Configuration.AddInMemoryCollection([new("Edge:Listeners:otlp:Enabled", "true")]);
        builder.AddPipelineDefaults(shutdownTimeout: TimeSpan.FromSeconds(30));

        var edge = builder.Configuration.GetSection(EdgeOptions.Section).Get<EdgeOptions>() ?? new EdgeOptions();
        edge.Validate();
        var kafka = builder.Configuration.GetSection(KafkaOptions.Section).Get<KafkaOptions>() ?? new KafkaOptions();
        builder.Services.AddSingleton(edge);
        builder.Services.AddSingleton(kafka);

        var http = HttpListeners(edge);
        var admin = AdminOptions.Read(builder.Configuration,
            edge.Listeners.Values.Where(l => l.Enabled && l.Protocol != ListenerProtocol.Udp).Select(l => IPEndPoint.Parse(l.Bind).Port));
        builder.Services.AddSingleton(http);
        builder.WebHost.ConfigureKestrel(k =>
        {
            foreach (var listener in http.Listeners)
                k.Listen(listener.Bind, l =>
                {
                    if (listener.Tls is { } tls) l.UseListenerTls(tls, listener.Http.Name);
                });
            if (admin is not null) k.Listen(admin);
            // With neither an HTTP listener nor an admin listener, /metrics and /healthz still answer on the default address.
            else if (http.Listeners.Count == 0) k.Listen(IPEndPoint.Parse("127.0.0.1:8080"));
            k.Limits.MaxRequestBodySize = null;
            // Slow senders: headers, idle keep-alive connections and request bodies each have a deadline.
            k.Limits.RequestHeadersTimeout = edge.Http.RequestHeadersTimeout;
            k.Limits.KeepAliveTimeout = edge.Http.KeepAliveTimeout;
            k.Limits.MinRequestBodyDataRate = edge.Http.MinRequestBodyBytesPerSecond > 0
                ? new MinDataRate(edge.Http.MinRequestBodyBytesPerSecond, edge.Http.MinRequestBodyGracePeriod) : null;
        });
        builder.Services.AddSingleton(new IngestAuthenticator(edge.Http));
        SenderRateLimiter.AddSenderLimits(builder.Services, edge.Http.RateLimits);

        builder.Services.AddSingleton(edge.NewRouter());
        builder.Services.AddSingleton<EdgeMetrics>();
        builder.Services.AddSingleton<LossLedger>();
        builder.Services.AddSingleton<ITimeZoneResolver>(new SourceTimeZoneTable(edge.TimeZones));
        builder.Services.AddSingleton(sp => new EdgePublisher(kafka, edge.Producer, edge.Spool, edge.Memory, "edge-" + edge.Name,
            sp.GetRequiredService<LossLedger>(), sp.GetRequiredService<EdgeMetrics>(), sp.GetRequiredService<HealthState>(),
            sp.GetRequiredService<ILogger<EdgePublisher>>(), sp.GetRequiredService<TimeProvider>()));
        // Registered first so that it stops last: listeners stop taking events before the producer drains.
        builder.Services.AddHostedService<PublisherDrain>();
        builder.Services.AddSingleton<SyslogIngest>();
        builder.Services.AddSingleton<JsonEventIngest>();
        builder.Services.AddSingleton<OtlpLogIngest>();
        builder.Services.AddSingleton<OtlpMetrics>();
        if (edge.Scrape.Enabled) AddScraping(builder.Services, edge);

        foreach (var (name, listener) in edge.Listeners.Where(l => l.Value.Enabled))
        {
            var markup = new ListenerMarkup(name, TransportName(listener.Protocol), edge.Name, MergeTags(edge.Tags, listener.Tags), listener.Tenant, listener.Buffer);
            switch (listener.Protocol)
            {
                case ListenerProtocol.Udp:
                    builder.Services.AddSingleton<IHostedService>(sp => new UdpSyslogListener(markup, listener,
                        sp.GetRequiredService<SyslogIngest>(), sp.GetRequiredService<EdgeMetrics>(),
                        sp.GetRequiredService<ILoggerFactory>().CreateLogger<UdpSyslogListener>()));
                    break;
                case ListenerProtocol.Tcp or ListenerProtocol.Tls:
                    builder.Services.AddSingleton<IHostedService>(sp => new TcpSyslogListener(markup, listener,
                        sp.GetRequiredService<SyslogIngest>(), sp.GetRequiredService<EdgeMetrics>(),
                        sp.GetRequiredService<ILoggerFactory>().CreateLogger<TcpSyslogListener>()));
                    break;
            }
        }

        var app = builder.Build();
        // Before the limiter: a request on the wrong listener costs its sender nothing.
        app.UseEndpointScopes(admin);
        if (SenderRateLimiter.AnyEnabled(edge.Http.RateLimits)) app.UseRateLimiter();
        app.MapObservability();
        if (http.Listeners.Count > 0)
        {
            app.MapIngest(http);
            app.MapOtlp(http);
        }
        return app;
    }

    /// <summary>Every enabled HTTP listener with its markup for each way events arrive on it (NDJSON, WebSocket, OTLP).</summary>
    private static HttpListenerSet HttpListeners(EdgeOptions edge) =>
        new(edge.Listeners.Where(l => l.Value.Enabled && l.Value.Protocol == ListenerProtocol.Http).Select(l =>
        {
            var (name, listener) = (l.Key, l.Value);
            var tags = MergeTags(edge.Tags, listener.Tags);
            ListenerMarkup Markup(string transport) => new(name, transport, edge.Name, tags, listener.Tenant, listener.Buffer);
            return new HttpListenerMarkup(IPEndPoint.Parse(listener.Bind), Markup("http"), Markup("websocket"), Markup("otlp"), ListenerTls.For(listener));
        }).ToList());

    /// <summary>The scrape source: targets from configuration and files, one loop each.</summary>
    private static void AddScraping(IServiceCollection services, EdgeOptions edge)
    {
        services.AddSingleton(edge.Scrape);
        services.AddSingleton(new ScrapeTargetFactory(edge.Scrape, edge.Name, edge.Tags));
        services.AddSingleton<ScrapeMetrics>();
        services.AddSingleton(sp => new ScrapeFetcher(ScrapeFetcher.CreateClient(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ScrapeIngest>();
        services.AddSingleton(sp => new TargetDiscovery(edge.Scrape, sp.GetRequiredService<ScrapeTargetFactory>(), sp.GetRequiredService<ScrapeMetrics>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<TargetDiscovery>()));
        services.AddSingleton<ScrapeManager>();
        services.AddHostedService(sp => sp.GetRequiredService<ScrapeManager>());
    }

    private static string TransportName(ListenerProtocol protocol) => protocol switch
    {
        ListenerProtocol.Udp => "udp",
        ListenerProtocol.Tcp => "tcp",
        ListenerProtocol.Tls => "tls",
        _ => "http",
    };

    private static Dictionary<string, string> MergeTags(Dictionary<string, string> edgeTags, Dictionary<string, string> listenerTags)
    {
        var merged = new Dictionary<string, string>(edgeTags, StringComparer.Ordinal);
        foreach (var (key, value) in listenerTags) merged[key] = value;
        return merged;
    }
}

/// <summary>On shutdown, after the listeners stopped, gives Kafka the time left to acknowledge what is in flight.</summary>
internal sealed class PublisherDrain(EdgePublisher publisher, EdgeOptions options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        publisher.Shutdown(options.ShutdownFlushTimeout);
        return Task.CompletedTask;
    }
}
