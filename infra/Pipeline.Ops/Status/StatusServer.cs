using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Hosting;
using Pipeline.Core.Security;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Tail;

namespace Pipeline.Ops.Status;

/// <summary>
/// The status page's web server: the page and its assets (embedded in this binary, nothing fetched from
/// elsewhere), <c>/api/status</c> (the latest snapshot and recent history), <c>/api/noisiest</c> (the top-k
/// panel), <c>/api/tail</c> (the live tail, server-sent events) and its own <c>/healthz</c>. Bound beyond loopback it
/// needs a read token (<c>PIPELINE_STATUS_TOKEN</c>), which a browser asks for as a password (HTTP Basic, any user name).
/// </summary>
internal sealed class StatusServer : IAsyncDisposable
{
    private static readonly Dictionary<string, string> Assets = new(StringComparer.Ordinal)
    {
        ["/"] = "index.html",
        ["/status.css"] = "status.css",
        ["/status.js"] = "status.js",
        ["/favicon.svg"] = "favicon.svg",
    };

    private readonly WebApplication _app;

    private StatusServer(WebApplication app) => _app = app;

    /// <summary>The address it listens on (with the port the system chose, when asked for port 0).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The environment variable holding the page's read token.</summary>
    public const string TokenVariable = "PIPELINE_STATUS_TOKEN";

    public static async Task<StatusServer> StartAsync(string bind, StatusSampler sampler, NoisiestProbe noisiest, TailFeed tail, KafkaConnection kafka,
        IReadOnlyList<string> tailTopics, string? readToken, CancellationToken cancellationToken)
    {
        if (!IPEndPoint.TryParse(bind, out var endpoint)) throw new UsageException($"--http '{bind}' is not address:port (e.g. 127.0.0.1:9100)");
        ReadAccess reads;
        try
        {
            // The page shows events themselves (the live tail): beyond loopback, only for those with the token.
            reads = ReadAccess.For(endpoint, string.IsNullOrEmpty(readToken) ? [] : [new AccessToken { Token = readToken }], TokenVariable, TokenVariable);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(endpoint));
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
        });
        var web = builder.Build();
        web.UseEndpointScopes(admin: null, reads);
        // The first answer would otherwise pay for building the serializer's view of every type (most of a second on a
        // busy machine): pay it now, before anyone waits.
        JsonSerializer.Serialize(new { snapshot = sampler.Latest, history = sampler.History.View() },
            web.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions);
        MapAssets(web);
        web.MapGet("/api/status", () => Results.Json(new { snapshot = sampler.Latest, history = sampler.History.View() }));
        web.MapGet("/api/noisiest", async (string? window, int? k, CancellationToken token) =>
            window is not null && !NoisiestProbe.Windows.Contains(window)
                ? Results.Json(new { error = $"window must be one of {string.Join(", ", NoisiestProbe.Windows)}" }, statusCode: 400)
                : Results.Json(await noisiest.ReadAsync(window ?? "1m", Math.Clamp(k ?? 10, 1, 50), token)));
        web.MapGet("/api/tail", (string? topics, string? host, string? app, string? severity, string? text, string? regex, HttpContext context, CancellationToken token) =>
        {
            TailFilter filter;
            IReadOnlyList<Confluent.Kafka.TopicPartition> partitions;
            try
            {
                filter = TailFilter.Create(host, app, severity, text, regex);
                using var cluster = new ClusterView(kafka);
                partitions = cluster.Partitions(topics is null ? tailTopics : CommonOptions.SplitList(topics));
            }
            catch (UsageException ex)
            {
                return Results.Json(new { error = ex.Message.Replace("--", "", StringComparison.Ordinal) }, statusCode: 400);
            }
            if (tail.TryClaim() is not { } claim) return Results.Json(new { error = "too many live tails are open; close one" }, statusCode: 503);
            context.Response.RegisterForDispose(claim);
            return TypedResults.ServerSentEvents(tail.StreamAsync(partitions, filter, token));
        });
        web.MapGet("/healthz", () => Results.Json(new { healthy = true })).WithMetadata(AdminEndpoint.Instance);
        await web.StartAsync(cancellationToken);
        var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new StatusServer(web) { Address = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)) };
    }

    /// <summary>
    /// Serves the embedded assets with an ETag, so a reload costs a 304. They are a few kilobytes of plain
    /// HTML, CSS and JavaScript, read once from this assembly.
    /// </summary>
    private static void MapAssets(WebApplication app)
    {
        foreach (var (path, file) in Assets)
        {
            var body = Read(file);
            var etag = "\"" + Convert.ToHexString(SHA256.HashData(body))[..16] + "\"";
            var type = Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            app.MapGet(path, (HttpContext context) =>
            {
                context.Response.Headers.ETag = etag;
                context.Response.Headers.CacheControl = "no-cache";
                if (context.Request.Headers.IfNoneMatch == etag) return Results.StatusCode(StatusCodes.Status304NotModified);
                return Results.Bytes(body, type);
            });
        }
    }

    private static byte[] Read(string file)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Pipeline.Ops.Status.Assets." + file)
            ?? throw new InvalidOperationException($"the status page asset {file} is not embedded in this build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
