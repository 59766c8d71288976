using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Hosting;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// Has the sink write the batch in hand and records what was written. The plain case overlaps: the batch goes
/// to the thread pool (<see cref="WriteInFlight"/>) while the poll thread reads on. Everything else — dead-letter
/// positions to record, a start position still unknown, or the write before failed — takes the synchronous path,
/// which isolates refused records (<see cref="PoisonIsolation"/>), and on failure pauses every partition and
/// retries with capped backoff (<see cref="SinkOutage"/>). After a write, progress goes to the lag gauges and the
/// written positions to Kafka's commit schedule. Poll thread only.
/// </summary>
internal sealed class WriteCoordinator
{
    private readonly ConsumerOptions _options;
    private readonly IBatchSink _sink;
    private readonly BatchInHand _batch;
    private readonly LagMonitor _lag;
    private readonly KafkaCommitSchedule _commits;
    private readonly ConsumerMetrics _metrics;
    private readonly HealthState _health;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly WriteInFlight _inFlight;
    private IReadOnlyDictionary<PartitionKey, long>? _lastStored;

    public WriteCoordinator(ConsumerOptions options, IBatchSink sink, BatchInHand batch, LagMonitor lag, KafkaCommitSchedule commits,
        IDeadLetters deadLetters, ConsumerMetrics metrics, HealthState health, TimeProvider time, ILogger log)
    {
        _options = options;
        _sink = sink;
        _batch = batch;
        _lag = lag;
        _commits = commits;
        _metrics = metrics;
        _health = health;
        _time = time;
        _log = log;
        _inFlight = new WriteInFlight(time);
        Outage = new SinkOutage(options, time);
        Isolation = new PoisonIsolation(WriteAsync, (count, next) => Written(count, next), deadLetters, metrics, log, options.Group);
    }

    public SinkOutage Outage { get; }

    public PoisonIsolation Isolation { get; }

    public WriteInFlight InFlight => _inFlight;

    /// <summary>The last overlapped write failed: until a synchronous write succeeds, none overlaps.</summary>
    public bool OverlapSuspended { get; private set; }

    /// <summary>The consumer, set once it is built: written positions are committed through it.</summary>
    public IConsumer<byte[]?, byte[]>? Consumer { get; set; }

    /// <summary>Hands the whole batch in hand to the sink on the thread pool and returns.</summary>
    public void StartWrite()
    {
        var records = _batch.TakeAll();
        _inFlight.Start(new SinkBatch(records, Isolation.NextOffsets(records)), b => WriteAsync(b, CancellationToken.None));
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the write in flight, then accounts for it: written, or failed —
    /// its records go back to the front of the batch and the next attempt is synchronous. False while it runs.
    /// </summary>
    public bool FinishInFlight(TimeSpan timeout)
    {
        switch (_inFlight.Finish(timeout, out var batch))
        {
            case WriteState.Running:
                return false;
            case WriteState.Written:
                Written(batch!.Records.Count, batch.NextOffsets);
                _health.Report("sink", true);
                break;
            case WriteState.Failed:
                // Not counted as a retry yet: the synchronous attempt that follows tells a poison record (isolated,
                // dead-lettered) from a sink that is down (paused and retried).
                _batch.PutBack(batch!.Records);
                OverlapSuspended = true;
                break;
        }
        return true;
    }

    /// <summary>
    /// Writes the batch in hand now, synchronously; on success ends a pause (resuming the partitions that
    /// <paramref name="resumable"/> allows), on failure starts or extends it.
    /// </summary>
    public void Flush(Func<PartitionKey, bool> resumable, CancellationToken stopping)
    {
        var consumer = Consumer!;
        FinishInFlight(Timeout.InfiniteTimeSpan);
        try
        {
            WriteInHand(stopping);
            OverlapSuspended = false;
            var attempts = Outage.Attempts;
            if (Outage.Succeeded())
            {
                consumer.Resume(consumer.Assignment.Where(tp => resumable(new PartitionKey(tp.Topic, tp.Partition.Value))));
                ConsumerLog.WriteRecovered(_log, _options.Group, attempts);
                _metrics.Paused.Set(0);
            }
            _health.Report("sink", true);
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            var (delay, started) = Outage.Failed();
            _metrics.Retries.Inc();
            if (started)
            {
                consumer.Pause(consumer.Assignment);
                _metrics.Paused.Set(1);
            }
            _health.Report("sink", false, ex.Message);
            ConsumerLog.WriteFailed(_log, ex, _options.Group, Outage.Attempts, delay);
        }
    }

    /// <summary>Writes the batch in hand, isolating refused records; removes what is done even when a later part fails.</summary>
    public void WriteInHand(CancellationToken cancellationToken)
    {
        var records = _batch.Snapshot();
        var completed = 0;
        try
        {
            Isolation.Deliver(records, ref completed, cancellationToken);
        }
        finally
        {
            _batch.RemoveWritten(completed, _time.GetUtcNow());
        }
    }

    /// <summary>Commits every written position Kafka has not taken yet (on schedule, and at once on revoke and shutdown).</summary>
    public void CommitPending()
    {
        var taken = _commits.Take();
        if (taken.Count == 0 || Consumer is not { } consumer) return;
        try
        {
            consumer.Commit(taken.Select(n => new TopicPartitionOffset(n.Key.Topic, n.Key.Partition, n.Value)));
            _commits.Committed(taken);
        }
        catch (KafkaException ex)
        {
            // Kept for the next attempt, unless the partitions go first (see KafkaCommitSchedule.Forget).
            _commits.Failed();
            ConsumerLog.CommitFailed(_log, _options.Group, ex.Error.Reason);
        }
    }

    /// <summary>
    /// Hands Kafka's commit schedule what a sink that stores later (<see cref="IDeferredStorageSink"/>) reports stored,
    /// when that changed since last asked; nothing for other sinks (their writes' positions are stored as they return).
    /// </summary>
    public void TakeStored()
    {
        if (_sink is not IDeferredStorageSink deferred) return;
        var stored = deferred.StoredPositions;
        if (ReferenceEquals(stored, _lastStored)) return;
        _lastStored = stored;
        // Only partitions held now: a sink may still report one that went (and another member moves on from there).
        _commits.Written(stored.Where(s => _lag.Holds(s.Key)).ToDictionary());
    }

    /// <summary>
    /// A write reached <paramref name="next"/>: counted, shown on the lag gauges, and handed to Kafka's commit
    /// schedule — at-least-once sinks commit after every write (the commit is their progress); exactly-once sinks
    /// stored the positions already and commit within a second, so Kafka's own lag tools stay truthful; a sink that
    /// stores later hands over only what it has stored.
    /// </summary>
    private void Written(int records, IReadOnlyDictionary<PartitionKey, long> next)
    {
        _metrics.Written.Inc(records);
        if (records > 0) _metrics.Batches.Inc();
        _lag.Written(next, _batch);
        if (_sink is IDeferredStorageSink) TakeStored();
        else _commits.Written(next);
        if (_commits.IsDue) CommitPending();
    }

    /// <summary>The sink's write, timed: freshness is taken the moment the write returns, when the records are durable.</summary>
    private async Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        await _sink.WriteAsync(batch, cancellationToken);
        _metrics.WriteSucceeded(batch, _time.GetElapsedTime(started), _time.GetUtcNow());
    }
}
