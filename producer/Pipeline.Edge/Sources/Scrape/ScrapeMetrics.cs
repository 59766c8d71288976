using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
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
/// last duration and sample count, totals, errors by reason; and target-file errors. Each target keeps its own
/// figures; the instruments read every tracked target once per collection, so a target taken away leaves no
/// series behind.
/// </summary>
internal sealed class ScrapeMetrics
{
    private static readonly ScrapeFailure[] Failures = Enum.GetValues<ScrapeFailure>();
    private readonly ConcurrentDictionary<string, TargetHealth> _targets = new(StringComparer.Ordinal);
    private readonly CounterFamily _fileErrors;

    public ScrapeMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(EdgeMetrics.MeterName);
        var round = new SnapshotRound<IReadOnlyList<TargetReading>>(Read);
        Gauge(meter, round, "edge_scrape_up", "1 when the target's last scrape succeeded, else 0.", s => s.Up ? 1 : 0);
        Gauge(meter, round, "edge_scrape_last_success_timestamp_seconds", "Unix time of the target's last successful scrape (0: none yet).", s => s.LastSuccess);
        Gauge(meter, round, "edge_scrape_duration_seconds", "How long the target's last scrape took: fetch, parse and hand-over.", s => s.Duration);
        Gauge(meter, round, "edge_scrape_samples", "Samples in the target's last successful scrape.", s => s.Samples);
        Counter(meter, round, "edge_scrape_samples_total", "Samples taken from the target.", s => s.SamplesTotal);
        Counter(meter, round, "edge_scrape_bytes_total", "Body bytes read from the target (after decompression).", s => s.BytesTotal);
        Counter(meter, round, "edge_scrape_scrapes_total", "Scrapes of the target, whatever their outcome.", s => s.Scrapes);
        var errors = round.Join();
        meter.CreateObservableCounter("edge_scrape_errors_total", () => errors().SelectMany(r => Failures.Select(failure =>
            new Measurement<long>(r.Snapshot.Errors[(int)failure], [.. r.Tags, new("reason", ReasonLabel(failure))]))),
            description: "Failed scrapes, by reason.");
        var targets = round.Join();
        meter.CreateObservableGauge("edge_scrape_targets", () =>
        {
            var now = targets();
            var files = now.Count(r => r.Source == "file");
            return new[]
            {
                new Measurement<long>(now.Count - files, new KeyValuePair<string, object?>("source", "static")),
                new Measurement<long>(files, new KeyValuePair<string, object?>("source", "file")),
            };
        }, description: "Targets being scraped, by where they were named.");
        _fileErrors = new CounterFamily(meter, "edge_scrape_file_errors_total", "Target files that could not be read (their last good targets are kept).");
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
    public void Forget(ScrapeTarget target) => _targets.TryRemove(target.Key, out _);

    public void DiscoveryFailed(string path) => _fileErrors.For(("file", path)).Inc();

    private IReadOnlyList<TargetReading> Read() => _targets.Values.Select(h => new TargetReading(
        [new("job", h.Target.Job), new("instance", h.Target.Instance)], h.Target.Source, h.Snapshot())).ToList();

    private static void Gauge(Meter meter, SnapshotRound<IReadOnlyList<TargetReading>> round, string name, string description, Func<HealthSnapshot, double> value)
    {
        var reading = round.Join();
        meter.CreateObservableGauge(name, () => reading().Select(r => new Measurement<double>(value(r.Snapshot), r.Tags)), description: description);
    }

    private static void Counter(Meter meter, SnapshotRound<IReadOnlyList<TargetReading>> round, string name, string description, Func<HealthSnapshot, long> value)
    {
        var reading = round.Join();
        meter.CreateObservableCounter(name, () => reading().Select(r => new Measurement<long>(value(r.Snapshot), r.Tags)), description: description);
    }

    private sealed record TargetReading(KeyValuePair<string, object?>[] Tags, string Source, HealthSnapshot Snapshot);
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
