using Microsoft.Extensions.Logging;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.TopK;

/// <summary>
/// The aggregator as a batch sink with exactly-once effect: each batch is counted into the in-memory
/// sketches of its source partitions, then everything that changed (open windows' sketches, windows that
/// closed, late counts, the partitions' clocks) and the batch's next offsets are stored in one PostgreSQL
/// transaction. On assignment a partition's checkpoint is loaded and the runtime resumes at its offset, so
/// after a crash or a rebalance nothing is counted twice or lost. When a checkpoint fails, memory may hold
/// counts the store does not: it is thrown away and reloaded from the store before the next write (the
/// runtime retries the same records). A record below a partition's stored offset is skipped, should it ever
/// come again. Writes, window closing (<see cref="CloseDueAsync"/>, on a timer) and rebalances are
/// serialised by one async lock.
/// </summary>
internal sealed class TopKSink(TopKAggregator aggregator, TopKStore store, TopKMetrics metrics, TopKOptions options, TimeProvider time, ILogger<TopKSink> log)
    : IBatchSink, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<PartitionKey> _owned = [];
    private bool _stale;
    private bool _lastWriteFailed;

    public OffsetStorage OffsetStorage => OffsetStorage.Sink;

    /// <summary>Partitions whose state this member holds (for tests).</summary>
    public IReadOnlyCollection<PartitionKey> Owned
    {
        get
        {
            lock (_owned) return _owned.ToArray();
        }
    }

    public async Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            var stored = await store.LoadAsync(partitions, claim: true, expectedEpochs: null, cancellationToken);
            var offsets = new Dictionary<PartitionKey, long>();
            var windows = 0;
            foreach (var partition in stored)
            {
                var state = aggregator.Restore(partition, now);
                windows += state.Open.Sum(o => o.Count);
                if (partition.NextOffset is { } next) offsets[partition.Key] = next;
            }
            lock (_owned) _owned.UnionWith(stored.Select(s => s.Key));
            _lastWriteFailed = false;
            TopKLog.Loaded(log, string.Join(",", partitions), windows, string.Join(",", offsets.Select(o => $"{o.Key}@{o.Value}")));
            return offsets;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // The runtime has written (checkpointed) or abandoned the batch in hand: the store holds all that counts.
            foreach (var partition in partitions) aggregator.Drop(partition);
            lock (_owned) _owned.ExceptWith(partitions);
            // A write that failed for these is abandoned by the runtime, not retried.
            _lastWriteFailed = false;
            TopKLog.Dropped(log, string.Join(",", partitions));
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_stale) await ReloadAsync(cancellationToken);
            var now = time.GetUtcNow();
            var stats = new ApplyStats(aggregator.Granularities.Count);
            HashSet<PartitionKey> owned;
            lock (_owned) owned = [.. _owned];
            foreach (var record in batch.Records)
            {
                // A partition this member was fenced off from is counted by its new owner.
                if (!owned.Contains(record.PartitionKey)) continue;
                if (aggregator.Apply(record.PartitionKey, record.Offset, record.Value, now, stats)) continue;
                // Part of the batch is counted in memory only: reload before the runtime writes the rest.
                _stale = true;
                metrics.Poison.Inc();
                throw new PoisonRecordException(record, "not a v1 envelope with an id and a received_at");
            }
            aggregator.Advance(batch.NextOffsets);
            _lastWriteFailed = true;
            await CheckpointAsync(now, cancellationToken);
            _lastWriteFailed = false;
            metrics.Add(stats);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Closes on the wall clock the due windows of idle partitions and stores that; returns the windows closed.
    /// Skipped while writes fail: records waiting in the runtime's retry are not "no records".
    /// </summary>
    public async Task<int> CloseDueAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_lastWriteFailed) return 0;
            if (_stale) await ReloadAsync(cancellationToken);
            var closed = aggregator.CloseIdle(time.GetUtcNow(), options.IdleTimeout);
            await CheckpointAsync(time.GetUtcNow(), cancellationToken);
            var (windows, entries) = aggregator.Size();
            metrics.OpenWindows.Set(windows);
            metrics.TrackedKeys.Set(entries);
            if (closed > 0) TopKLog.Closed(log, closed);
            return closed;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task CheckpointAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var checkpoint = aggregator.TakeCheckpoint(now);
        if (checkpoint.IsEmpty) return;
        IReadOnlySet<PartitionKey> fenced;
        try
        {
            fenced = await store.CheckpointAsync(checkpoint, cancellationToken);
        }
        catch (Exception ex)
        {
            _stale = true;
            metrics.CheckpointFailures.Inc();
            TopKLog.CheckpointFailed(log, ex);
            throw;
        }
        aggregator.Checkpointed();
        metrics.Checkpoints.Inc();
        metrics.CheckpointBytes.Inc(checkpoint.Partials.Sum(p => (long)p.Sketch.Length));
        metrics.WindowsClosed.Inc(checkpoint.Partials.Where(p => p.Closed && !fenced.Contains(p.Partition))
            .Select(p => (p.Partition, p.GranularitySeconds, p.WindowStart)).Distinct().Count());
        if (fenced.Count > 0) Forget(fenced);
    }

    /// <summary>Throws memory away and loads the owned partitions' checkpoints again (only those still ours).</summary>
    private async Task ReloadAsync(CancellationToken cancellationToken)
    {
        PartitionKey[] owned;
        lock (_owned) owned = _owned.ToArray();
        var epochs = owned.Select(aggregator.Find).Where(s => s is not null).ToDictionary(s => s!.Key, s => s!.Epoch);
        aggregator.DropAll();
        var stored = await store.LoadAsync(owned, claim: false, epochs, cancellationToken);
        var now = time.GetUtcNow();
        foreach (var partition in stored) aggregator.Restore(partition, now);
        var lost = owned.Except(stored.Select(s => s.Key)).ToHashSet();
        if (lost.Count > 0) Forget(lost);
        _stale = false;
    }

    private void Forget(IReadOnlySet<PartitionKey> partitions)
    {
        foreach (var partition in partitions) aggregator.Drop(partition);
        lock (_owned) _owned.ExceptWith(partitions);
        metrics.Fenced.Inc(partitions.Count);
        TopKLog.Fenced(log, string.Join(",", partitions));
    }

    public void Dispose() => _gate.Dispose();
}
