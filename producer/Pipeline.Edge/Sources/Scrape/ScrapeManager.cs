using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pipeline.Edge.Sources.Scrape;

/// <summary>
/// Runs one <see cref="ScrapeLoop"/> per target: the configured ones, and those the target files name now.
/// When the files change, only the difference moves — a target that stays keeps its loop, its schedule and
/// its memory of counter values; one that goes is stopped and its series leave /metrics.
/// </summary>
internal sealed class ScrapeManager(
    ScrapeOptions options, ScrapeTargetFactory factory, TargetDiscovery discovery, ScrapeFetcher fetcher, ScrapeIngest ingest,
    ScrapeMetrics metrics, TimeProvider time, EdgeOptions edge, ILogger<ScrapeManager> log) : BackgroundService
{
    private readonly IReadOnlyList<ScrapeTarget> _static = [.. options.Targets.Select(factory.FromOptions)];
    private readonly Dictionary<string, ScrapeLoop> _loops = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The targets being scraped now (for tests).</summary>
    public IReadOnlyList<ScrapeTarget> Targets
    {
        get
        {
            _gate.Wait();
            try
            {
                return [.. _loops.Values.Select(l => l.Target)];
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await ApplyAsync([]);
        if (options.Files.Count == 0) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await discovery.RunAsync(ApplyAsync, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                ScrapeLog.DiscoveryFailed(log, ex);
                await Task.Delay(options.FileRefreshInterval, time, stoppingToken);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await Task.WhenAll(_loops.Values.Select(l => l.DisposeAsync().AsTask()));
            _loops.Clear();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Makes the running loops those of the static targets plus <paramref name="discovered"/>.</summary>
    private async Task ApplyAsync(IReadOnlyList<ScrapeTarget> discovered)
    {
        var wanted = new Dictionary<string, ScrapeTarget>(StringComparer.Ordinal);
        foreach (var target in _static.Concat(discovered)) wanted.TryAdd(target.Key, target);
        await _gate.WaitAsync();
        try
        {
            var gone = _loops.Where(l => !wanted.ContainsKey(l.Key)).ToList();
            foreach (var (key, loop) in gone)
            {
                _loops.Remove(key);
                await loop.DisposeAsync();
                metrics.Forget(loop.Target);
            }
            var added = 0;
            foreach (var (key, target) in wanted)
            {
                if (_loops.ContainsKey(key)) continue;
                var loop = new ScrapeLoop(target, fetcher, ingest, metrics.Track(target), time, log, edge.Name);
                _loops[key] = loop;
                loop.Start();
                added++;
            }
            if (added > 0 || gone.Count > 0) ScrapeLog.TargetsChanged(log, _loops.Count, added, gone.Count);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override void Dispose()
    {
        discovery.Dispose();
        _gate.Dispose();
        base.Dispose();
    }
}
