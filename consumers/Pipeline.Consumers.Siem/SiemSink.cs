using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Detection;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.Siem;

/// <summary>
/// The security team's sink: each batch is normalised to ECS and classified (every record on its own, on every
/// core: <see cref="BatchNormaliser"/>), run through the detection rules in order, and appended to the
/// tamper-evident archive together with any alerts, then committed in one
/// step with the batch's offsets and the detection state (<see cref="ArchiveWriter.Commit"/>). The archive
/// is the source of truth for where to resume (<see cref="OffsetStorage.Sink"/>): exactly-once effect.
/// Forwarding to SIEMs and publishing alerts happen elsewhere, from the archive, so they never hold a
/// batch up. Nothing is dropped: a record that is not an envelope is archived raw.
/// </summary>
internal sealed class SiemSink : IBatchSink, IDisposable
{
    private readonly ArchiveWriter _archive;
    private readonly DetectionEngine _detection;
    private readonly TimeProvider _time;
    private readonly SiemMetrics _metrics;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly BatchNormaliser _batch;
    // A segment that became due with a batch's commit is sealed (re-read, checked, manifest written) while the
    // runtime reads the next batch; whatever touches the archive next waits for that seal first, and fails as it
    // failed, so a seal still happens wholly between two batches.
    private Task? _sealing;

    public SiemSink(ArchiveWriter archive, EcsNormaliser normaliser, DetectionEngine detection, TimeProvider time, SiemMetrics metrics, ILogger<SiemSink> log)
    {
        _archive = archive;
        _batch = new BatchNormaliser(normaliser, detection);
        _detection = detection;
        _time = time;
        _metrics = metrics;
        _log = log;
        _detection.Restore(archive.DetectionState);
        _metrics.DetectionGroups.Set(_detection.Groups);
    }

    public OffsetStorage OffsetStorage => OffsetStorage.Sink;

    public Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var offsets = _archive.Offsets;
            IReadOnlyDictionary<PartitionKey, long> stored = partitions.Where(offsets.ContainsKey).ToDictionary(p => p, p => offsets[p]);
            return Task.FromResult(stored);
        }
    }

    public Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            FinishSealing();
            Write(batch);
            if (_archive.RollDue) _sealing = Task.Run(() => _archive.RollIfDue());
        }
        return Task.CompletedTask;
    }

    /// <summary>Waits for a seal started after the last commit; throws what it threw (once: the next call seals again itself).</summary>
    private void FinishSealing()
    {
        var sealing = _sealing;
        if (sealing is null) return;
        _sealing = null;
        sealing.GetAwaiter().GetResult();
    }

    private void Write(SinkBatch batch)
    {
        _archive.RollIfDue();
        var ingested = _time.GetUtcNow();
        var offsets = _archive.Offsets;
        var classified = new Dictionary<string, int>(StringComparer.Ordinal);
        var unclassified = 0;
        var unreadable = 0;
        var skipped = 0;
        List<Alert>? alerts = null;
        try
        {
            // Each record on its own (on every core), taken in order as runs of them are ready: chain, counts, detection.
            using var normalised = _batch.Start(batch, offsets, ingested);
            for (var index = 0; index < batch.Records.Count; index++)
            {
                ref readonly var n = ref normalised.Await(index);
                if (n.Skipped)
                {
                    skipped++;
                    continue;
                }
                _archive.StageEvent(batch.Records[index], _batch.Json(n));
                if (n.Unreadable) unreadable++;
                else if (n.EventTime is { } eventTime) batch.NoteEventTime(index, eventTime);
                if (n.Rule is not { } rule)
                {
                    unclassified++;
                    continue;
                }
                classified[rule.Name] = classified.GetValueOrDefault(rule.Name) + 1;
                if (n.Observation is not { } observation) continue;
                foreach (var alert in _detection.Observe(observation))
                {
                    _archive.StageAlert(AlertDocument.Of(alert, ingested));
                    (alerts ??= []).Add(alert);
                }
            }
            _detection.Prune();
            _archive.Commit(batch.NextOffsets, _detection.HasRules ? _detection.Snapshot() : null);
        }
        catch
        {
            // Nothing of this batch is committed: the detection state goes back to the committed one too.
            _archive.Abort();
            _detection.Restore(_archive.DetectionState);
            throw;
        }

        foreach (var (rule, count) in classified) _metrics.Classified(rule).Inc(count);
        _metrics.Unclassified.Inc(unclassified);
        _metrics.Unreadable.Inc(unreadable);
        _metrics.Skipped.Inc(skipped);
        _metrics.DetectionGroups.Set(_detection.Groups);
        foreach (var alert in alerts ?? [])
        {
            _metrics.Alerts(alert.Rule.Name).Inc();
            SiemLog.AlertFired(_log, alert.Id, alert.Rule.Name, alert.Key, alert.Evidence.Count);
        }
    }

    /// <summary>Seals the open segment when it is due even if no batch comes (called every few seconds).</summary>
    public void RollIfDue()
    {
        lock (_gate)
        {
            FinishSealing();
            _archive.RollIfDue();
        }
    }

    /// <summary>Lets a seal in progress finish before the archive is closed.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            try
            {
                FinishSealing();
            }
            catch (Exception ex)
            {
                // The next start finds the segment unsealed (or half sealed) and completes or refuses it there.
                SiemLog.RollFailed(_log, ex);
            }
        }
    }
}

/// <summary>Rolls an idle segment by age: batches check too, but a quiet stream would keep one open for ever.</summary>
internal sealed class SegmentRoller(SiemSink sink, ArchiveOptions options, TimeProvider time, ILogger<SegmentRoller> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromTicks(Math.Clamp(options.SegmentMaxAge.Ticks / 4, TimeSpan.TicksPerSecond, 30 * TimeSpan.TicksPerSecond));
        using var timer = new PeriodicTimer(every, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                sink.RollIfDue();
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                SiemLog.RollFailed(log, ex);
            }
        }
    }
}
