using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Client;
using Pipeline.Client.Logging;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Client;

/// <summary>
/// A small ASP.NET Core application that logs through Pipeline.Client, driven with steady requests while the edge
/// is stopped and started again: the application keeps answering, and every entry arrives once by id.
/// </summary>
public sealed class ClientOutageTests(ITestOutputHelper output)
{
    private sealed class ShopApp(WebApplication app, int port) : IAsyncDisposable
    {
        public ConcurrentBag<(string Phase, double Microseconds)> LogCalls { get; } = [];
        public string Phase { get; set; } = "edge up";
        public PipelineClient Client => app.Services.GetRequiredService<PipelineClient>();
        public string Url => $"http://127.0.0.1:{port}";

        public static async Task<ShopApp> StartAsync(string edgeUrl, PipelineTransport transport, int queueCapacity = 10_000)
        {
            var port = FreePort.Next();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            builder.Logging.ClearProviders();
            builder.Logging.AddPipeline(o =>
            {
                o.Endpoint = new Uri(edgeUrl);
                o.Transport = transport;
                o.App = "shop";
                o.QueueCapacity = queueCapacity;
                o.RetryMaxDelay = TimeSpan.FromSeconds(1);
                o.ShutdownTimeout = TimeSpan.FromSeconds(10);
            });
            // Only the application's own entries: the test counts them one by one.
            builder.Logging.AddFilter<PipelineLoggerProvider>((category, _) => category == "Shop");
            var app = builder.Build();
            var shop = new ShopApp(app, port);
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Shop");
            app.MapGet("/orders/{n:int}", (int n) =>
            {
                var started = Stopwatch.GetTimestamp();
                ShopLog.Handled(logger, n);
                shop.LogCalls.Add((shop.Phase, Stopwatch.GetElapsedTime(started).TotalMicroseconds));
                return Results.Ok();
            });
            await app.StartAsync();
            return shop;
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Requests one after another, about <paramref name="perSecond"/> a second, for <paramref name="duration"/>; each must succeed.</summary>
    private static async Task<List<double>> DriveAsync(HttpClient http, ShopApp shop, Func<int> next, TimeSpan duration, int perSecond)
    {
        var latencies = new List<double>();
        var clock = Stopwatch.StartNew();
        var sent = 0;
        while (clock.Elapsed < duration)
        {
            var due = TimeSpan.FromSeconds((double)sent / perSecond);
            if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
            var started = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync($"{shop.Url}/orders/{next()}");
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            response.EnsureSuccessStatusCode();
            sent++;
        }
        return latencies;
    }

    private static string Percentiles(IEnumerable<double> values, string unit)
    {
        var sorted = values.Order().ToList();
        double At(double p) => sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
        return $"n={sorted.Count} p50={At(0.5):F1}{unit} p99={At(0.99):F1}{unit} max={sorted[^1]:F1}{unit}";
    }

    [Theory]
    [InlineData(PipelineTransport.WebSocket)]
    [InlineData(PipelineTransport.Http)]
    public async Task WithTheEdgeStoppedForTenSecondsTheApplicationKeepsAnsweringAndEveryBufferedEntryArrivesOnceById(PipelineTransport transport)
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        await using var shop = await ShopApp.StartAsync(edge.HttpUrl, transport);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var n = 0;
        int Next() => Interlocked.Increment(ref n);

        var up = await DriveAsync(http, shop, Next, TimeSpan.FromSeconds(3), perSecond: 50);
        Assert.True(await shop.Client.FlushAsync(TimeSpan.FromSeconds(30)), "delivered while the edge is up");

        await edge.Process.StopAsync();
        shop.Phase = "edge down";
        var down = await DriveAsync(http, shop, Next, TimeSpan.FromSeconds(10), perSecond: 50);
        // Every request during the outage was answered, and its entry is waiting in the client, not lost.
        Assert.True(shop.Client.Pending >= down.Count / 2, $"pending {shop.Client.Pending} after {down.Count} requests with the edge down");

        var restarted = await pipeline.StartEdgeAsync(spool: edge.Spool, syslogPort: edge.SyslogPort, httpPort: edge.HttpPort);
        shop.Phase = "edge back";
        var back = await DriveAsync(http, shop, Next, TimeSpan.FromSeconds(2), perSecond: 50);
        Assert.True(await shop.Client.FlushAsync(TimeSpan.FromSeconds(60)), "everything buffered delivered after the edge returned");

        var total = up.Count + down.Count + back.Count;
        // "Stored" is the edge's word that it accepted an entry; Kafka has it a moment later.
        var records = await Eventually.Until(() => Task.FromResult(TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, "events", 6)), r => r >= total,
            TimeSpan.FromSeconds(30), $"{total} records in Kafka");
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", (int)records, TimeSpan.FromSeconds(60));
        var idsByRequest = events.GroupBy(e => e.Payload!.Value.GetProperty("fields").GetProperty("N").GetInt32())
            .ToDictionary(g => g.Key, g => g.Select(e => e.Id).Distinct().ToList());
        Assert.Equal(Enumerable.Range(1, total), idsByRequest.Keys.Order());
        Assert.All(idsByRequest, r => Assert.Single(r.Value));
        var stats = shop.Client.Stats;
        Assert.Equal(0, stats.DroppedTotal);
        // A copy stored twice is one the client sent again after losing the edge's answer: it has the same id.
        Assert.InRange(events.Count - total, 0, stats.Resent);

        output.WriteLine($"{transport}: {total} requests, {events.Count} records in Kafka, {stats.Resent} resent, {restarted.HttpUrl}");
        foreach (var phase in new[] { "edge up", "edge down", "edge back" })
            output.WriteLine($"log call, {phase}: {Percentiles(shop.LogCalls.Where(c => c.Phase == phase).Select(c => c.Microseconds), "µs")}");
        output.WriteLine($"request, edge up: {Percentiles(up, "ms")}; edge down: {Percentiles(down, "ms")}; edge back: {Percentiles(back, "ms")}");
    }

    [Fact]
    public async Task WithATinyQueueAndTheEdgeStoppedDropsAreCountedRequestsStillSucceedAndWhatWasKeptArrives()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        await edge.Process.StopAsync();
        await using var shop = await ShopApp.StartAsync(edge.HttpUrl, PipelineTransport.WebSocket, queueCapacity: 20);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var n = 0;

        var answered = await DriveAsync(http, shop, () => Interlocked.Increment(ref n), TimeSpan.FromSeconds(3), perSecond: 100);

        var stats = shop.Client.Stats;
        Assert.Equal(answered.Count, stats.Queued + stats.Dropped[DropReason.QueueFull]);
        Assert.InRange(stats.Queued, 20, 20 + 500);
        Assert.True(stats.Dropped[DropReason.QueueFull] > 0);

        await pipeline.StartEdgeAsync(spool: edge.Spool, syslogPort: edge.SyslogPort, httpPort: edge.HttpPort);
        Assert.True(await shop.Client.FlushAsync(TimeSpan.FromSeconds(60)));
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", (int)stats.Queued, TimeSpan.FromSeconds(30));
        Assert.Equal(stats.Queued, events.Select(e => e.Id).Distinct().Count());
    }
}
