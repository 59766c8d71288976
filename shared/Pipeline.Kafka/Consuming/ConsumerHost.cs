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
    public static readonly IReadOnlyDictionary<string, string> CommonSwitches = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--group"] = "Consumer:Group",
        ["--topics"] = "Consumer:Topics",
        ["--from"] = "Consumer:From",
        ["--batch-size"] = "Consumer:BatchSize",
        ["--batch-wait"] = "Consumer:BatchMaxWait",
        ["--batch-linger"] = "Consumer:BatchLinger",
        ["--kafka"] = "Kafka:BootstrapServers",
        ["--http"] = "Http:Bind",
        ["--admin"] = "Admin:Bind",
        ["--stop-at"] = "Consumer:StopAt",
        ["--max-rate"] = "Consumer:MaxRate",
        ["--instance-id"] = "Consumer:InstanceId",
    };

    /// <summary>
    /// Builds and runs the host until shutdown; a configuration error ends it with one clear line and
    /// exit code 2. <paramref name="map"/> adds the executable's own endpoints (e.g. a query API).
    /// </summary>
    public static Task<int> RunAsync(string program, string[] args, ConsumerDefaults defaults, Action<WebApplicationBuilder> addSink,
        IReadOnlyDictionary<string, string>? extraSwitches = null, Action<WebApplication>? map = null) =>
        StartupErrors.RunAsync(program, async () =>
        {
            var app = Build(args, defaults with { Worker = program }, addSink, extraSwitches, map);
            await app.RunAsync();
            return 0;
        });

    /// <summary>
    /// Builds the host. <paramref name="defaults"/> are the executable's own defaults (group, HTTP port);
    /// <paramref name="addSink"/> registers an <see cref="IBatchSink"/> and anything it needs; <paramref name="map"/>
    /// adds read endpoints (e.g. a query API), which then need a read token when bound beyond loopback.
    /// </summary>
    public static WebApplication Build(string[] args, ConsumerDefaults defaults, Action<WebApplicationBuilder> addSink,
        IReadOnlyDictionary<string, string>? extraSwitches = null, Action<WebApplication>? map = null)
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
        var switches = new Dictionary<string, string>(CommonSwitches, StringComparer.Ordinal);
        foreach (var (key, value) in extraSwitches ?? new Dictionary<string, string>()) switches[key] = value;
        builder.Configuration.AddCommandLine(args, switches);
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
