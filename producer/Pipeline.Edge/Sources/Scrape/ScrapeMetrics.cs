using System.Collections.Concurrent;
using Pipeline.Core.Metrics;

namespace Pipeline.Edge.Sources.Scrape;

/// <summary>Why a scrape failed; each is a <c>reason</c> of <c>edge_scrape_errors_total</c>.</summary>
internal enum ScrapeFailure
{
    /// <summary>No complete answer within the target's timeout (a hanging target).</summary>
    Timeout,
    /// <summary>Refused, reset, unreachable, not HTTP (a target that is down).</summary>
    Connection,
    /// <summary>An HTTP status other than 2xx.</summary>
    HttpStatus,
    /// <summary>The body passed the target's byte limit and was cut off.</summary>
    TooLarge,
    /// <summary>The body is not the exposition format (garbage); nothing of it is published.</summary>
    Parse,
    /// <summary>More samples than the target's limit; nothing of it is published.</summary>
    SampleLimit,
    /// <summary>Buffers stayed full until the next scrape was due; the samples left were dropped (and counted in the ledger).</summary>
    BufferFull,
}

/// <summary>
/// The scrape source's own metrics, per target (<c>job</c>, <c>instance</c>), in one place: up, last success,
/// last duration and sample count, totals, errors by reason; and target-file errors. Values are kept here
/// and copied into the registry before each /metrics scrape, so a target taken away leaves no series behind.
/// </summary>
internal sealed class ScrapeMetrics
{
    private static readonly ScrapeFailure[] Failures = Enum.GetValues<ScrapeFailure>();
    private readonly MetricsRegistry _registry;
    private readonly ConcurrentDictionary<string, TargetHealth> _targets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter> _fileErrors = new(StringComparer.Ordinal);
    private readonly Gauge _static;
    private readonly Gauge _file;

    public ScrapeMetrics(MetricsRegistry registry)
    {
        _registry = registry;
        _static = registry.Gauge("edge_scrape_targets", "Targets being scraped, by where they were named.", ("source", "static"));
        _file = registry.Gauge("edge_scrape_targets", "Targets being scraped, by where they were named.", ("source", "file"));
        registry.BeforeScrape(Publish);
    }

    public static string ReasonLabel(ScrapeFailure failure) => failure switch
    {
        ScrapeFailure.Timeout => "timeout",
        ScrapeFailure.Connection => "connection",
        ScrapeFailure.HttpStatus => "http_status",
        ScrapeFailure.TooLarge => "too_large",
        ScrapeFailure.Parse => "parse",
        ScrapeFailure.SampleLimit => "sample_limit",
        _ => "buffer_full",
    };

    /// <summary>The health record of a target that starts being scraped.</summary>
    public TargetHealth Track(ScrapeTarget target) => _targets.GetOrAdd(target.Key, _ => new TargetHealth(target));

    /// <summary>A target no longer scraped: its series leave /metrics.</summary>
    public void Forget(ScrapeTarget target)
    {
        if (!_targets.TryRemove(target.Key, out _)) return;
        (string, string)[] labels = [("job", target.Job), ("instance", target.Instance)];
        foreach (var name in (string[])["edge_scrape_up", "edge_scrape_last_success_timestamp_seconds", "edge_scrape_duration_seconds",
                     "edge_scrape_samples", "edge_scrape_samples_total", "edge_scrape_bytes_total", "edge_scrape_scrapes_total"])
            _registry.Forget(name, labels);
        foreach (var failure in Failures) _registry.Forget("edge_scrape_errors_total", [.. labels, ("reason", ReasonLabel(failure))]);
    }

    public void DiscoveryFailed(string path) =>
        _fileErrors.GetOrAdd(path, p => _registry.Counter("edge_scrape_file_errors_total", "Target files that could not be read (their last good targets are kept).", ("file", p))).Inc();

    private void Publish()
    {
        var (statics, files) = (0, 0);
        foreach (var health in _targets.Values)
        {
            var target = health.Target;
            if (target.Source == "file") files++;
            else statics++;
            (string, string)[] labels = [("job", target.Job), ("instance", target.Instance)];
            var s = health.Snapshot();
            _registry.Gauge("edge_scrape_up", "1 when the target's last scrape succeeded, else 0.", labels).Set(s.Up ? 1 : 0);
            _registry.Gauge("edge_scrape_last_success_timestamp_seconds", "Unix time of the target's last successful scrape (0: none yet).", labels).Set(s.LastSuccess);
            _registry.Gauge("edge_scrape_duration_seconds", "How long the target's last scrape took: fetch, parse and hand-over.", labels).Set(s.Duration);
            _registry.Gauge("edge_scrape_samples", "Samples in the target's last successful scrape.", labels).Set(s.Samples);
            _registry.ObservedCounter("edge_scrape_samples_total", "Samples taken from the target.", labels).Set(s.SamplesTotal);
            _registry.ObservedCounter("edge_scrape_bytes_total", "Body bytes read from the target (after decompression).", labels).Set(s.BytesTotal);
            _registry.ObservedCounter("edge_scrape_scrapes_total", "Scrapes of the target, whatever their outcome.", labels).Set(s.Scrapes);
            foreach (var failure in Failures)
                _registry.ObservedCounter("edge_scrape_errors_total", "Failed scrapes, by reason.", [.. labels, ("reason", ReasonLabel(failure))])
                    .Set(s.Errors[(int)failure]);
        }
        _static.Set(statics);
        _file.Set(files);
    }
}

/// <summary>One target's scrape record; written by its scrape loop, read by /metrics.</summary>
internal sealed class TargetHealth(ScrapeTarget target)
{
    private readonly Lock _gate = new();
    private readonly long[] _errors = new long[Enum.GetValues<ScrapeFailure>().Length];
    private bool _up;
    private double _lastSuccess, _duration;
    private long _samples, _samplesTotal, _bytesTotal, _scrapes;

    public ScrapeTarget Target { get; } = target;

    public void Succeeded(DateTimeOffset at, TimeSpan duration, int samples, long bytes)
    {
        lock (_gate)
        {
            _scrapes++;
            _up = true;
            _lastSuccess = at.ToUnixTimeMilliseconds() / 1000.0;
            _duration = duration.TotalSeconds;
            _samples = samples;
            _samplesTotal += samples;
            _bytesTotal += bytes;
        }
    }

    public void Failed(ScrapeFailure failure, TimeSpan duration, long bytes)
    {
        lock (_gate)
        {
            _scrapes++;
            _up = false;
            _duration = duration.TotalSeconds;
            _bytesTotal += bytes;
            _errors[(int)failure]++;
        }
    }

    public HealthSnapshot Snapshot()
    {
        lock (_gate) return new HealthSnapshot(_up, _lastSuccess, _duration, _samples, _samplesTotal, _bytesTotal, _scrapes, [.. _errors]);
    }
}

internal sealed record HealthSnapshot(bool Up, double LastSuccess, double Duration, long Samples, long SamplesTotal, long BytesTotal, long Scrapes, long[] Errors);
