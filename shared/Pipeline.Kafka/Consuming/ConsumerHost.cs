using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Core.Hosting;
using Pipeline.Core.Security;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// What every consumer executable shares: configuration from appsettings.json, environment and command
/// line (<c>--group</c>, <c>--topics</c>, <c>--from</c>, <c>--batch-size</c>, <c>--batch-wait</c>, <c>--batch-linger</c>,
/// <c>--kafka</c>, <c>--http</c>, <c>--admin</c>, <c>--instance-id</c>, and for bounded replays <c>--stop-at</c>, <c>--max-rate</c>),
/// the member's identity in its group, the runtime, and <c>/metrics</c> + <c>/healthz</c> (on the admin listener when
/// <c>Admin:Bind</c> is set). A consumer only adds its sink, and perhaps read endpoints: those need a token from
/// <c>Http:ReadTokens</c> when any is configured, and always when <c>Http:Bind</c> is beyond loopback.
/// </summary>
public static class ConsumerHost
{
    private static readonly ConsumerOptions Defaults = new();

    /// <summary>The options every consumer takes (its own come after them in <c>--help</c>).</summary>
    public static readonly IReadOnlyList<CommandLineSwitch> CommonSwitches =
    [
        new("--kafka", "Kafka:BootstrapServers", "Kafka bootstrap servers, host:port[,host:port…]"),
        new("--group", "Consumer:Group", "Consumer group id: a new id reads the whole stream on its own", "the executable's group"),
        new("--topics", "Consumer:Topics", "Topics to read, comma-separated", Defaults.Topics),
        new("--from", "Consumer:From", "Where a new group starts: earliest or latest", Defaults.From),
        new("--batch-size", "Consumer:BatchSize", "Records per sink write, at most", Defaults.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("--batch-wait", "Consumer:BatchMaxWait", "How long a record may wait in a batch, at most", Defaults.BatchMaxWait.ToString()),
        new("--batch-linger", "Consumer:BatchLinger", "How long an idle stream's batch waits for more", Defaults.BatchLinger.ToString()),
        new("--http", "Http:Bind", "Address:port of /metrics, /healthz and the read endpoints", "the executable's port on 127.0.0.1"),
        new("--admin", "Admin:Bind", "Address:port (or a port, on loopback) serving /metrics and /healthz apart", "off: served on --http"),
        new("--instance-id", "Consumer:InstanceId", "The member's stable identity in its group", "worker name and --http port"),
        new("--stop-at", "Consumer:StopAt", "A bounded run: topic:partition=offset,… to read up to, then exit"),
        new("--max-rate", "Consumer:MaxRate", "Records per second, at most (0: no limit)", "0"),
    ];

    /// <summary>
    /// Builds and runs the host until shutdown; a configuration error ends it with one clear line and
    /// exit code 2. <paramref name="map"/> adds the executable's own endpoints (e.g. a query API).
    /// </summary>
    public static async Task<int> RunAsync(string program, string[] args, ConsumerDefaults defaults, Action<WebApplicationBuilder> addSink,
        IReadOnlyList<CommandLineSwitch>? extraSwitches = null, Action<WebApplication>? map = null)
    {
        if (ExecutableCommandLine.Check(program, defaults.Summary, args, [.. CommonSwitches, .. extraSwitches ?? []], Console.Out, Console.Error) is { } exit)
            return exit;
        return await StartupErrors.RunAsync(program, async () =>
        {
            var app = Build(args, defaults with { Worker = program }, addSink, extraSwitches, map);
            await app.RunAsync();
            return 0;
        });
    }

    /// <summary>
    /// Builds the host. <paramref name="defaults"/> are the executable's own defaults (group, HTTP port);
    /// <paramref name="addSink"/> registers an <see cref="IBatchSink"/> and anything it needs; <paramref name="map"/>
    /// adds read endpoints (e.g. a query API), which then need a read token when bound beyond loopback.
    /// </summary>
    public static WebApplication Build(string[] args, ConsumerDefaults defaults, Action<WebApplicationBuilder> addSink,
        IReadOnlyList<CommandLineSwitch>? extraSwitches = null, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Consumer:Group"] = defaults.Group,
            ["Http:Bind"] = defaults.HttpBind,
        });
        // Re-add the later sources so the defaults above stay lowest in precedence.
        builder.Configuration.AddJsonFile("appsettings.json", optional: true);
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddSecretFiles();
        builder.Configuration.AddCommandLine(args, ExecutableCommandLine.Mappings([.. CommonSwitches, .. extraSwitches ?? []]));
        builder.AddPipelineDefaults(shutdownTimeout: TimeSpan.FromSeconds(30));

        var consumer = builder.Configuration.GetSection(ConsumerOptions.Section).Get<ConsumerOptions>() ?? new ConsumerOptions();
        consumer.Validate();
        var kafka = builder.Configuration.GetSection(KafkaOptions.Section).Get<KafkaOptions>() ?? new KafkaOptions();
        builder.Services.AddSingleton(consumer);
        builder.Services.AddSingleton(kafka);
        var bind = builder.Configuration["Http:Bind"] ?? defaults.HttpBind;
        if (!IPEndPoint.TryParse(bind, out var endpoint)) throw new ArgumentException($"--http '{bind}' is not an address:port");
        var admin = AdminOptions.Read(builder.Configuration, [endpoint.Port]);
        // Read endpoints beyond loopback without a token would answer anyone: such a start is refused.
        var reads = map is null ? null : ReadAccess.For(endpoint, builder.Configuration.GetSection("Http:ReadTokens").Get<List<AccessToken>>() ?? [], "Http:ReadTokens");
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(endpoint);
            if (admin is not null) k.Listen(admin);
        });
        // Held while the host lives: a second worker of the group on this host with the same identity is refused.
        var claim = GroupMembership.Establish(consumer, defaults.Worker, endpoint);
        if (claim is not null) builder.Services.AddSingleton(_ => new MembershipClaim(claim));

        addSink(builder);
        builder.Services.AddSingleton<ConsumerRuntime>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ConsumerRuntime>());
        // A bounded run (a replay) ends the process once the runtime has read and written up to its end offsets.
        if (consumer.StopOffsets.Count > 0)
            builder.Services.AddHostedService(sp => new StopWhenFinished(sp.GetRequiredService<ConsumerRuntime>(), sp.GetRequiredService<IHostApplicationLifetime>()));

        var app = builder.Build();
        // Created now so that the host owns it (and releases it when disposed).
        if (claim is not null) app.Services.GetRequiredService<MembershipClaim>();
        app.UseEndpointScopes(admin, reads);
        app.MapObservability();
        map?.Invoke(app);
        return app;
    }
}

/// <summary>An executable's own defaults: its group id and where it serves /metrics.</summary>
public sealed record ConsumerDefaults(string Group, string HttpBind)
{
    /// <summary>The worker's name (e.g. <c>pipeline-noc</c>), part of its default identity in the group.</summary>
    public string Worker { get; init; } = "pipeline-worker";

    /// <summary>What the executable does, in a sentence: the first line of its <c>--help</c>.</summary>
    public string Summary { get; init; } = "A consumer group member of the telemetry pipeline.";
}

/// <summary>The host-wide claim on the member's identity, released when the host is disposed.</summary>
internal sealed class MembershipClaim(IDisposable claim) : IDisposable
{
    public void Dispose() => claim.Dispose();
}

/// <summary>Stops the host when a bounded run is done, so the process exits 0 after its last write.</summary>
internal sealed class StopWhenFinished(ConsumerRuntime runtime, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await runtime.Finished.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        lifetime.StopApplication();
    }
}
