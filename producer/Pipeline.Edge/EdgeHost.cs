using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Hosting;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Routing;
using Pipeline.Edge.Sources.Http;
using Pipeline.Edge.Sources.Syslog;
using Pipeline.Kafka;

namespace Pipeline.Edge;

/// <summary>Builds the edge service: listeners, the ingest path, the publisher and the HTTP endpoints.</summary>
internal static class EdgeHost
{
    /// <summary>Friendly command-line switches; any setting can also be given as <c>--Section:Key=value</c>.</summary>
    public static readonly Dictionary<string, string> Switches = new(StringComparer.Ordinal)
    {
        ["--kafka"] = "Kafka:BootstrapServers",
        ["--syslog-udp"] = "Edge:Listeners:syslog-udp:Bind",
        ["--syslog-tcp"] = "Edge:Listeners:syslog-tcp:Bind",
        ["--http"] = "Edge:Listeners:http:Bind",
        ["--name"] = "Edge:Name",
        ["--spool"] = "Edge:Spool:Directory",
    };

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddCommandLine(args, Switches);
        builder.AddPipelineDefaults(shutdownTimeout: TimeSpan.FromSeconds(30));

        var edge = builder.Configuration.GetSection(EdgeOptions.Section).Get<EdgeOptions>() ?? new EdgeOptions();
        edge.Validate();
        var kafka = builder.Configuration.GetSection(KafkaOptions.Section).Get<KafkaOptions>() ?? new KafkaOptions();
        builder.Services.AddSingleton(edge);
        builder.Services.AddSingleton(kafka);

        var http = edge.Listeners.FirstOrDefault(l => l.Value.Enabled && l.Value.Protocol == ListenerProtocol.Http);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPEndPoint.Parse(http.Value?.Bind ?? "127.0.0.1:8080"));
            k.Limits.MaxRequestBodySize = null;
        });

        builder.Services.AddSingleton(new Router(edge.Routes));
        builder.Services.AddSingleton<EdgeMetrics>();
        builder.Services.AddSingleton<LossLedger>();
        builder.Services.AddSingleton<ITimeZoneResolver>(new SourceTimeZoneTable(edge.TimeZones));
        builder.Services.AddSingleton(sp => new EdgePublisher(kafka, edge.Producer, edge.Spool, edge.Memory, "edge-" + edge.Name,
            sp.GetRequiredService<LossLedger>(), sp.GetRequiredService<EdgeMetrics>(), sp.GetRequiredService<HealthState>(),
            sp.GetRequiredService<ILogger<EdgePublisher>>()));
        // Registered first so that it stops last: listeners stop taking events before the producer drains.
        builder.Services.AddHostedService<PublisherDrain>();
        builder.Services.AddSingleton<SyslogIngest>();
        builder.Services.AddSingleton<JsonEventIngest>();

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
        app.MapObservability();
        if (http.Value is { } httpListener)
        {
            var tags = MergeTags(edge.Tags, httpListener.Tags);
            app.MapIngest(new ListenerMarkup(http.Key, "http", edge.Name, tags, httpListener.Tenant, httpListener.Buffer),
                new ListenerMarkup(http.Key, "websocket", edge.Name, tags, httpListener.Tenant, httpListener.Buffer));
        }
        return app;
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
