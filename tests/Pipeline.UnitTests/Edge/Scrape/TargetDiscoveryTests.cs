using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Testing;
using Pipeline.Edge.Sources.Scrape;

namespace Pipeline.UnitTests.Edge.Scrape;

public sealed class TargetDiscoveryTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("scrape-discovery-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task AnEditedTargetFileIsReadAgainABrokenEditKeepsTheLastGoodTargetsAndARemovedFileTakesItsTargets()
    {
        var path = Path.Combine(_directory.FullName, "nodes.json");
        await File.WriteAllTextAsync(path, """[{ "targets": ["127.0.0.1:9100"] }]""");
        var options = new ScrapeOptions { Files = [new ScrapeFileOptions { Path = Path.Combine(_directory.FullName, "*.json"), Job = "node" }] };
        using var registry = new InProcessMetrics();
        using var discovery = new TargetDiscovery(options, new ScrapeTargetFactory(options, "edge", new Dictionary<string, string>()), new ScrapeMetrics(registry),
            TimeProvider.System, NullLogger.Instance);
        var seen = new BlockingCollection<IReadOnlyList<ScrapeTarget>>();
        using var stop = new CancellationTokenSource();
        var running = discovery.RunAsync(found => { seen.Add(found); return Task.CompletedTask; }, stop.Token);

        Assert.Equal(["127.0.0.1:9100"], Next(seen).Select(t => t.Instance));

        await File.WriteAllTextAsync(path, """[{ "targets": ["127.0.0.1:9100", "127.0.0.1:9200"], "labels": { "env": "prod" } }]""");
        Assert.Equal(["127.0.0.1:9100", "127.0.0.1:9200"], Until(seen, l => l.Count == 2).Select(t => t.Instance));

        await File.WriteAllTextAsync(path, """[{ "targets": ["127.0.0.1:9100" """);
        await WaitAsync(() => registry.Sum("edge_scrape_file_errors_total") > 0);
        Assert.Equal(2, discovery.ReadAll().Count);

        await File.WriteAllTextAsync(Path.Combine(_directory.FullName, "more.json"), """[{ "targets": ["127.0.0.1:9300"] }]""");
        Until(seen, l => l.Count == 3);
        File.Delete(path);
        Assert.Equal(["127.0.0.1:9300"], Until(seen, l => l.Count == 1).Select(t => t.Instance));

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    private static IReadOnlyList<ScrapeTarget> Next(BlockingCollection<IReadOnlyList<ScrapeTarget>> seen) =>
        seen.TryTake(out var found, TimeSpan.FromSeconds(20)) ? found : throw new TimeoutException("no targets reported");

    private static IReadOnlyList<ScrapeTarget> Until(BlockingCollection<IReadOnlyList<ScrapeTarget>> seen, Func<IReadOnlyList<ScrapeTarget>, bool> done)
    {
        while (true)
        {
            var found = Next(seen);
            if (done(found)) return found;
        }
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            await Task.Delay(50);
        }
    }
}
