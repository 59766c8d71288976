using Microsoft.Extensions.Logging;

namespace Pipeline.Edge.Sources.Scrape;

/// <summary>
/// File-based discovery: reads the configured target files, and reads them again when they change (a
/// file-system notice, or every <see cref="ScrapeOptions.FileRefreshInterval"/> in case one was missed), so
/// operators add and remove targets without a restart. A file that cannot be read keeps the targets it last
/// gave (logged and counted), so a half-written edit never stops scraping; a file that is removed takes its
/// targets with it.
/// </summary>
internal sealed class TargetDiscovery(ScrapeOptions options, ScrapeTargetFactory factory, ScrapeMetrics metrics, TimeProvider time, ILogger log)
    : IDisposable
{
    // Editors write a file in steps (truncate, write, rename): wait for the steps to settle before reading.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(200);

    private readonly SemaphoreSlim _changed = new(0);
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Dictionary<string, IReadOnlyList<ScrapeTarget>> _lastGood = new(StringComparer.Ordinal);

    /// <summary>
    /// Reads every file now; then, until cancelled, again on each change, calling <paramref name="changed"/> with all targets
    /// found. Cancelled, it throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task RunAsync(Func<IReadOnlyList<ScrapeTarget>, Task> changed, CancellationToken cancellationToken)
    {
        Watch();
        await changed(ReadAll());
        while (!cancellationToken.IsCancellationRequested)
        {
            using (var refresh = new CancellationTokenSource(options.FileRefreshInterval, time))
            using (var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, refresh.Token))
            {
                try
                {
                    await _changed.WaitAsync(either.Token);
                    await Task.Delay(Settle, time, cancellationToken);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The refresh interval passed without a notice: read anyway.
                }
            }
            while (_changed.CurrentCount > 0) await _changed.WaitAsync(cancellationToken);
            await changed(ReadAll());
        }
        // Ends the same way wherever the cancellation found it (waiting, or between two reads).
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Every target of every file, as of now.</summary>
    public IReadOnlyList<ScrapeTarget> ReadAll()
    {
        var all = new List<ScrapeTarget>();
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in options.Files)
        {
            foreach (var path in TargetFile.Expand(file.Path))
            {
                present.Add(path);
                try
                {
                    _lastGood[path] = TargetFile.Read(path, file, factory);
                }
                catch (FormatException ex)
                {
                    metrics.DiscoveryFailed(path);
                    ScrapeLog.TargetFileFailed(log, ex.Message);
                }
                if (_lastGood.TryGetValue(path, out var targets)) all.AddRange(targets);
            }
        }
        foreach (var gone in _lastGood.Keys.Where(p => !present.Contains(p)).ToList()) _lastGood.Remove(gone);
        return all;
    }

    private void Watch()
    {
        if (_watchers.Count > 0) return;
        foreach (var directory in options.Files.Select(f => Path.GetFullPath(Path.GetDirectoryName(f.Path) is { Length: > 0 } d ? d : ".")).Distinct())
        {
            if (!Directory.Exists(directory)) continue;
            var watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            watcher.Changed += (_, _) => Signal();
            watcher.Created += (_, _) => Signal();
            watcher.Deleted += (_, _) => Signal();
            watcher.Renamed += (_, _) => Signal();
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }
    }

    private void Signal()
    {
        if (_changed.CurrentCount == 0) _changed.Release();
    }

    public void Dispose()
    {
        foreach (var watcher in _watchers) watcher.Dispose();
        _changed.Dispose();
    }
}
