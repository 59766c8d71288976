using Microsoft.Extensions.Logging;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.TopK;

/// <summary>
/// The aggregator as a batch sink with exactly-once effect: each batch is counted into the in-memory
/// sketches of its source partitions; then, once <see cref="TopKOptions.CheckpointInterval"/> has passed since the
/// last checkpoint (checked with each batch and each close tick, and at once when the close tick closes windows
/// or partitions are let go), everything that changed since the last checkpoint (open
/// windows' sketches, windows that closed, late counts, the partitions' clocks) and the partitions' next
/// offsets are stored in one PostgreSQL transaction. Memory always holds exactly the effect of each partition's
/// records below its next offset; the store holds the same for the offsets it stores. So on assignment a
/// partition's checkpoint is loaded and the runtime resumes at its offset: after a crash or a rebalance the
/// batches counted since the last checkpoint are read and counted again, never twice or lost.
/// <para>
/// A record below a partition's next offset was counted already and is skipped: that is how a batch retried
/// after a failed checkpoint, or the part of a batch before a refused record, is not counted twice — memory is
/// kept, and the next checkpoint stores what the failed one did not. A checkpoint whose commit failed without an
/// answer may have been stored: before the next one, the server is asked what became of that transaction, and
/// what it carried that must not be added twice (late counts) is taken out of what is pending. Writes, window
/// closing (<see cref="CloseDueAsync"/>, on a timer) and rebalances are serialised by one async lock.
/// </para>
/// </summary>
internal sealed class TopKSink(TopKAggregator aggregator, TopKStore store, TopKMetrics metrics, TopKOptions options, TimeProvider time, ILogger<TopKSink> log)
    : IDeferredStorageSink, IDisposable
{
    private static readonly IReadOnlyDictionary<PartitionKey, long> NothingStored = new Dictionary<PartitionKey, long>();
    private static readonly IReadOnlySet<PartitionKey> NoneFenced = new HashSet<PartitionKey>();

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<PartitionKey> _owned = [];
    private bool _lastWriteFailed;
    private DateTimeOffset _lastCheckpoint = DateTimeOffset.MinValue;
    // A failed checkpoint is tried again with the next write, whatever the interval.
    private bool _checkpointDue;
    // A checkpoint whose commit got no answer: its transaction, and what it carried.
    private (ulong Transaction, Checkpoint Carried)? _inDoubt;

    public OffsetStorage OffsetStorage => OffsetStorage.Sink;

    /// <summary>Per partition held, the next offset the store holds (replaced, never changed, under the gate).</summary>
    public IReadOnlyDictionary<PartitionKey, long> StoredPositions { get; private set; } = NothingStored;

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
            NoteStored(offsets, gone: partitions.Where(p => !offsets.ContainsKey(p)));
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
            // The runtime has counted or abandoned the batch in hand: what is counted is stored before the partitions
            // go (whoever gets them resumes from the store). If that fails they are read again from the last checkpoint.
            try
            {
                await CheckpointAsync(time.GetUtcNow(), cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                TopKLog.CheckpointFailed(log, ex);
            }
            foreach (var partition in partitions) aggregator.Drop(partition);
            lock (_owned) _owned.ExceptWith(partitions);
            // Their stored positions stay reported: the runtime hands Kafka the last of them before letting them go.
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
            var now = time.GetUtcNow();
            var stats = new ApplyStats(aggregator.Granularities.Count);
            HashSet<PartitionKey> owned;
            lock (_owned) owned = [.. _owned];
            foreach (var record in batch.Records)
            {
                // A partition this member was fenced off from is counted by its new owner.
                if (!owned.Contains(record.PartitionKey)) continue;
                if (aggregator.Apply(record.PartitionKey, record.Offset, record.Value, now, stats)) continue;
                // The records before it are counted (their partitions' next offsets moved past them): when the
                // runtime writes them again around the dead-lettered one, they are skipped.
                metrics.Add(stats);
                metrics.Poison.Inc();
                throw new PoisonRecordException(record, "not a v1 envelope with an id and a received_at");
            }
            aggregator.Advance(batch.NextOffsets);
            metrics.Add(stats);
            if (!_checkpointDue && now - _lastCheckpoint < options.CheckpointInterval) return;
            _lastWriteFailed = true;
            await CheckpointAsync(now, cancellationToken);
            _lastWriteFailed = false;
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
            var now = time.GetUtcNow();
            var closed = aggregator.CloseIdle(now, options.IdleTimeout);
            // Windows closed on the wall clock are stored at once; batches counted since the last checkpoint once the
            // interval has passed (a stream that stops is stored within an interval and a tick).
            if (closed > 0 || _checkpointDue || now - _lastCheckpoint >= options.CheckpointInterval) await CheckpointAsync(now, cancellationToken);
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

    /// <summary>Stores everything pending (after settling a checkpoint whose commit got no answer); throws when it cannot.</summary>
    private async Task CheckpointAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_inDoubt is { } doubt)
        {
            // Until its outcome is known, what it carried cannot be told apart from what is still pending.
            var committed = await store.CommittedAsync(doubt.Transaction, cancellationToken)
                ?? throw new InvalidOperationException($"the outcome of checkpoint transaction {doubt.Transaction} is not known yet");
            if (committed)
            {
                aggregator.Stored(doubt.Carried);
                NoteStored(doubt.Carried, fenced: NoneFenced);
            }
            _inDoubt = null;
        }
        var checkpoint = aggregator.TakeCheckpoint(now);
        if (!checkpoint.IsEmpty)
        {
            IReadOnlySet<PartitionKey> fenced;
            try
            {
                fenced = await store.CheckpointAsync(checkpoint, cancellationToken);
            }
            catch (Exception ex)
            {
                if (ex is CheckpointInDoubtException doubtful) _inDoubt = (doubtful.Transaction, checkpoint);
                _checkpointDue = true;
                metrics.CheckpointFailures.Inc();
                TopKLog.CheckpointFailed(log, ex);
                throw;
            }
            aggregator.Checkpointed();
            NoteStored(checkpoint, fenced);
            metrics.Checkpoints.Inc();
            metrics.CheckpointBytes.Inc(checkpoint.Partials.Sum(p => (long)p.Sketch.Length));
            metrics.WindowsClosed.Inc(checkpoint.Partials.Where(p => p.Closed && !fenced.Contains(p.Partition))
                .Select(p => (p.Partition, p.GranularitySeconds, p.WindowStart)).Distinct().Count());
            if (fenced.Count > 0) Forget(fenced);
        }
        _lastCheckpoint = now;
        _checkpointDue = false;
    }

    /// <summary>The next offsets a stored checkpoint carried, but for partitions another member fenced this one off from.</summary>
    private void NoteStored(Checkpoint checkpoint, IReadOnlySet<PartitionKey> fenced)
    {
        var offsets = new Dictionary<PartitionKey, long>();
        foreach (var row in checkpoint.Progress)
            if (!fenced.Contains(row.Partition) && (!offsets.TryGetValue(row.Partition, out var known) || known < row.NextOffset))
                offsets[row.Partition] = row.NextOffset;
        NoteStored(offsets, gone: fenced);
    }

    private void NoteStored(IReadOnlyDictionary<PartitionKey, long> offsets, IEnumerable<PartitionKey> gone)
    {
        var next = new Dictionary<PartitionKey, long>(StoredPositions);
        foreach (var (key, offset) in offsets)
            if (!next.TryGetValue(key, out var known) || known < offset) next[key] = offset;
        foreach (var key in gone) next.Remove(key);
        StoredPositions = next;
    }

    private void Forget(IReadOnlySet<PartitionKey> partitions)
    {
        foreach (var partition in partitions) aggregator.Drop(partition);
        lock (_owned) _owned.ExceptWith(partitions);
        NoteStored(NothingStored, gone: partitions);
        metrics.Fenced.Inc(partitions.Count);
        TopKLog.Fenced(log, string.Join(",", partitions));
    }

    public void Dispose() => _gate.Dispose();
}
