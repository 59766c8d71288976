using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Hosting;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// Runs one consumer group member for one sink: a blocking poll loop on its own thread that batches
/// records, has the sink write them, and only then records progress. A batch is written once it is full, once
/// its first record is <see cref="ConsumerOptions.BatchMaxWait"/> old, or, when no write is in flight, as soon
/// as nothing more is waiting to be read (for <see cref="ConsumerOptions.BatchLinger"/>): a group that keeps up
/// writes each record within moments of its arrival, and one that is behind (or under load while a write is in
/// flight) gathers large batches by itself. While the sink fails, every assigned partition is paused and the
/// write is retried with capped exponential backoff, so memory stays bounded and nothing is skipped. Records
/// the sink refuses are isolated (by splitting the batch when the sink cannot say which) and sent to
/// <c>dlq.&lt;group&gt;</c>. On revoke the batch in hand is finished within the drain timeout or abandoned
/// (to be read again from the stored position);
/// on loss it is discarded. On shutdown the batch is finished, offsets recorded, and the group left.
/// A bounded run (<see cref="ConsumerOptions.StopAt"/>) reads each named partition up to its end offset,
/// writes what it read, leaves the group and completes <see cref="Finished"/>; <see cref="ConsumerOptions.MaxRate"/>
/// caps how fast records are read.
/// </summary>
public sealed class ConsumerRuntime : BackgroundService
{
    /// <summary>How soon an exactly-once sink's writes reach Kafka's committed offsets (see <see cref="KafkaCommitSchedule"/>).</summary>
    internal static readonly TimeSpan KafkaCommitInterval = TimeSpan.FromSeconds(1);

    private readonly ConsumerOptions _options;
    private readonly KafkaOptions _kafka;
    private readonly IBatchSink _sink;
    private readonly TimeProvider _time;
    private readonly ILogger<ConsumerRuntime> _log;
    private readonly HealthState _health;
    private readonly ConsumerMetrics _metrics;
    private readonly Backoff _backoff;

    private readonly List<ConsumedRecord> _batch = [];
    private readonly Dictionary<PartitionKey, long> _deadLetteredNext = [];
    private readonly KafkaCommitSchedule _commits;
    private readonly HashSet<PartitionKey> _awaitingOffsets = [];
    private readonly ConcurrentDictionary<PartitionKey, PartitionProgress> _progress = new();
    private readonly IReadOnlyDictionary<PartitionKey, long> _stopAt;
    private readonly HashSet<PartitionKey> _reachedStop = [];
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeSpan _readInterval;
    private DateTimeOffset _nextReadAt;
    private bool _boundedRunDone;
    private DateTimeOffset _batchStartedAt;
    private DateTimeOffset _retryAt;
    private DateTimeOffset _offsetsRetryAt;
    private DateTimeOffset _watermarksAt;
    private bool _paused;
    private bool _assignedWhilePaused;
    private InFlight? _inFlight;
    private bool _overlapSuspended;
    // The last poll found nothing waiting: the batch in hand is all there is for now.
    private bool _drained;
    private DateTimeOffset _lastRecordAt;
    private IConsumer<byte[]?, byte[]>? _consumer;
    private DeadLetterPublisher? _deadLetters;
    private CancellationToken _stopping;

    public ConsumerRuntime(ConsumerOptions options, KafkaOptions kafka, IBatchSink sink, IMeterFactory meters,
        HealthState health, TimeProvider time, ILogger<ConsumerRuntime> log)
    {
        options.Validate();
        _options = options;
        _kafka = kafka;
        _sink = sink;
        _time = time;
        _log = log;
        _health = health;
        _backoff = new Backoff(options.RetryInitialBackoff, options.RetryMaxBackoff);
        _metrics = new ConsumerMetrics(meters, options.Group, RefreshLag);
        _stopAt = options.StopOffsets;
        _readInterval = options.MaxRate > 0 ? TimeSpan.FromSeconds(1 / options.MaxRate) : TimeSpan.Zero;
        _commits = new KafkaCommitSchedule(time, sink.OffsetStorage == OffsetStorage.Kafka ? TimeSpan.Zero : KafkaCommitInterval);
    }

    /// <summary>
    /// Completes when a bounded run (<see cref="ConsumerOptions.StopAt"/>) has read and written every named
    /// partition up to its end and left the group; never completes for an unbounded run.
    /// </summary>
    public Task Finished => _finished.Task;

    /// <summary>Partitions this member holds now (for tests and /healthz).</summary>
    public IReadOnlyCollection<PartitionKey> Assignment => _progress.Keys.ToArray();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        _health.Report("sink", true);
        _deadLetters = new DeadLetterPublisher(_kafka, _options.Group);
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(_options.ToConfig(_kafka, "consumer-" + _options.Group))
            .SetPartitionsAssignedHandler(OnAssigned)
            .SetPartitionsRevokedHandler(OnRevoked)
            .SetPartitionsLostHandler(OnLost)
            .SetErrorHandler((_, e) => ConsumerLog.KafkaError(_log, _options.Group, e.Code.ToString(), e.Reason))
            .Build();
        _consumer = consumer;
        ConsumerLog.Starting(_log, _options.Group, _options.Topics, _options.From, _options.BatchSize, _options.BatchMaxWait);
        var classic = _options.GroupProtocol == GroupMembership.Classic;
        ConsumerLog.Membership(_log, _options.Group, GroupMembership.InstanceId(_options) ?? "without a static identity", _options.GroupProtocol,
            classic ? $"{_options.SessionTimeout.TotalSeconds:0.###} s" : "set by the broker", classic ? $"{GroupMembership.Heartbeat(_options).TotalSeconds:0.###} s" : "set by the broker");
        consumer.Subscribe(_options.TopicList);
        try
        {
            while (!stoppingToken.IsCancellationRequested && !_boundedRunDone) Step(consumer);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            ConsumerLog.LoopFailed(_log, ex, _options.Group);
            throw;
        }
        finally
        {
            Drain(consumer, "shutdown", leaving: null);
            CommitPending(consumer);
            // A rebalance in progress holds the leave back until it completes, which takes at most about a session.
            GroupMembership.LeaveBeforeClose(consumer, _options, _time, _options.SessionTimeout);
            consumer.Close();
            _deadLetters.Dispose();
            ConsumerLog.Stopped(_log, _options.Group);
            if (_boundedRunDone) _finished.TrySetResult();
        }
    }

    private void Step(IConsumer<byte[]?, byte[]> consumer)
    {
        var now = _time.GetUtcNow();
        if (_assignedWhilePaused)
        {
            // Partitions added (incrementally) while the sink is failing join the pause: nothing piles up.
            consumer.Pause(consumer.Assignment);
            _assignedWhilePaused = false;
        }
        if (_inFlight is { Task.IsCompleted: true }) FinishInFlight(consumer, TimeSpan.Zero);
        // Also when no batch comes: the last write before the stream went quiet reaches Kafka too.
        if (_commits.IsDue) CommitPending(consumer);
        if (_awaitingOffsets.Count > 0 && now >= _offsetsRetryAt) LoadAwaitedOffsets(consumer);

        if (_stopAt.Count > 0 && _reachedStop.Count >= _stopAt.Count && FinishBoundedRun(consumer)) return;

        if (_paused)
        {
            if (now >= _retryAt) TryFlush(consumer);
            if (_paused && now >= _watermarksAt) QueryWatermarks(consumer, now);
        }
        else if (_batch.Count >= _options.BatchSize
            || (_batch.Count > 0 && (now - _batchStartedAt >= _options.BatchMaxWait || _overlapSuspended || Lingered(now)))
            || _deadLetteredNext.Count > 0)
        {
            // One write at a time: a batch that is due waits here for the one in flight (the backpressure).
            FinishInFlight(consumer, Timeout.InfiniteTimeSpan);
            if (!_overlapSuspended && _deadLetteredNext.Count == 0 && _awaitingOffsets.Count == 0) StartWrite();
            else TryFlush(consumer);
        }

        if (_readInterval > TimeSpan.Zero && now < _nextReadAt)
        {
            // Over the rate: wait in short steps so that flushing and rebalance callbacks are not held up.
            Thread.Sleep(Min(_nextReadAt - now, TimeSpan.FromMilliseconds(50)));
            return;
        }

        ConsumeResult<byte[]?, byte[]>? result;
        try
        {
            result = consumer.Consume(PollTimeout(now));
        }
        catch (ConsumeException ex)
        {
            // e.g. a topic that does not exist yet: report and keep polling.
            ConsumerLog.KafkaError(_log, _options.Group, ex.Error.Code.ToString(), ex.Error.Reason);
            return;
        }
        if (result?.Message is null)
        {
            _drained = true;
            if (_stopAt.Count > 0) CheckPositions(consumer);
            return;
        }

        var record = new ConsumedRecord(result.Topic, result.Partition.Value, result.Offset.Value, result.Message.Key,
            result.Message.Value ?? [], new DateTimeOffset(result.Message.Timestamp.UtcDateTime, TimeSpan.Zero));
        var key = record.PartitionKey;
        // Partitions whose start position is not known yet are read again from it once it is.
        if (_awaitingOffsets.Contains(key)) return;
        if (_stopAt.Count > 0 && (!_stopAt.TryGetValue(key, out var stop) || record.Offset >= stop))
        {
            ReachedStop(consumer, key);
            return;
        }
        _drained = false;
        _lastRecordAt = _time.GetUtcNow();
        if (_batch.Count == 0) _batchStartedAt = _lastRecordAt;
        _batch.Add(record);
        _progress.GetOrAdd(key, static _ => new PartitionProgress()).Pending(record);
        if (_readInterval > TimeSpan.Zero) _nextReadAt = (_nextReadAt > now ? _nextReadAt : now) + _readInterval;
        if (_stopAt.TryGetValue(key, out var end) && record.Offset + 1 >= end) ReachedStop(consumer, key);
    }

    /// <summary>A bounded run's partition is read up to its end: stop fetching it.</summary>
    private void ReachedStop(IConsumer<byte[]?, byte[]> consumer, PartitionKey key)
    {
        consumer.Pause([new TopicPartition(key.Topic, key.Partition)]);
        if (_reachedStop.Add(key)) ConsumerLog.ReachedStop(_log, _options.Group, key.ToString(), _stopAt.GetValueOrDefault(key));
    }

    /// <summary>
    /// A partition can end on offsets no record is delivered for (an empty range, transaction markers);
    /// its position then says it is done.
    /// </summary>
    private void CheckPositions(IConsumer<byte[]?, byte[]> consumer)
    {
        foreach (var tp in consumer.Assignment)
        {
            var key = Key(tp);
            if (_reachedStop.Contains(key) || _awaitingOffsets.Contains(key)) continue;
            if (!_stopAt.TryGetValue(key, out var stop))
            {
                ReachedStop(consumer, key);
                continue;
            }
            Offset position;
            try
            {
                position = consumer.Position(tp);
            }
            catch (KafkaException)
            {
                continue;
            }
            if (position != Offset.Unset && position.Value >= stop && !_batch.Exists(r => r.PartitionKey == key)) ReachedStop(consumer, key);
        }
    }

    /// <summary>Every named partition is at its end: write what is in hand; true once all of it is durable.</summary>
    private bool FinishBoundedRun(IConsumer<byte[]?, byte[]> consumer)
    {
        if (!_stopAt.Keys.All(_reachedStop.Contains)) return false;
        if ((_batch.Count > 0 || _deadLetteredNext.Count > 0) && (!_paused || _time.GetUtcNow() >= _retryAt)) TryFlush(consumer);
        if (_batch.Count > 0 || _deadLetteredNext.Count > 0 || _paused) return false;
        ConsumerLog.BoundedRunDone(_log, _options.Group, _stopAt.Count);
        _boundedRunDone = true;
        return true;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>No write in flight, nothing waiting to be read, and no record for <see cref="ConsumerOptions.BatchLinger"/>: write what is in hand.</summary>
    private bool Lingered(DateTimeOffset now) => _inFlight is null && _drained && now - _lastRecordAt >= _options.BatchLinger;

    private TimeSpan PollTimeout(DateTimeOffset now)
    {
        // With a write in flight, come back soon to account for it once it is done.
        var timeout = TimeSpan.FromMilliseconds(_inFlight is null ? 100 : 10);
        if (_batch.Count > 0 && !_paused)
        {
            // A batch waits this long for more records once none are waiting; then it is written.
            var untilDue = Min(_batchStartedAt + _options.BatchMaxWait, _inFlight is null ? _lastRecordAt + _options.BatchLinger : DateTimeOffset.MaxValue) - now;
            if (untilDue < timeout) timeout = untilDue < TimeSpan.Zero ? TimeSpan.Zero : untilDue;
        }
        return timeout;
    }

    /// <summary>
    /// Hands the batch to the sink on the thread pool and returns: the poll thread reads and batches the next
    /// records while this one is written, so reading from Kafka and decoding overlap with the store's work.
    /// Only the plain case goes this way (no dead-letter progress to record, no partition waiting for its
    /// stored offset, the previous write succeeded); everything else takes the synchronous path of
    /// <see cref="TryFlush"/>, which isolates poison records and backs off.
    /// </summary>
    private void StartWrite()
    {
        var records = _batch.ToArray();
        _batch.Clear();
        var batch = new SinkBatch(records, NextOffsets(records));
        // Not cancelled on shutdown: the drain waits for it (up to the drain timeout) rather than have it
        // stopped halfway and written again.
        _inFlight = new InFlight(batch, Task.Run(() => WriteAsync(batch, CancellationToken.None), CancellationToken.None));
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the write in flight, then accounts for it: written (progress,
    /// metrics, commit), or failed, in which case its records go back to the front of the batch and the next
    /// attempt takes the synchronous path. False when it is still running.
    /// </summary>
    private bool FinishInFlight(IConsumer<byte[]?, byte[]> consumer, TimeSpan timeout)
    {
        if (_inFlight is not { } inFlight) return true;
        try
        {
            if (!inFlight.Task.Wait(timeout)) return false;
        }
        catch (AggregateException)
        {
            // Looked at below.
        }
        _inFlight = null;
        if (inFlight.Task.IsCompletedSuccessfully)
        {
            Completed(consumer, inFlight.Batch.Records.Count, inFlight.Batch.NextOffsets);
            _health.Report("sink", true);
        }
        else
        {
            _batch.InsertRange(0, inFlight.Batch.Records);
            _overlapSuspended = true;
        }
        return true;
    }

    /// <summary>Lets go of a write in flight whose outcome no longer matters here (lost partitions, a drain that ran out of time).</summary>
    private void DropInFlight(TimeSpan timeout)
    {
        if (_inFlight is not { } inFlight) return;
        _inFlight = null;
        try
        {
            inFlight.Task.Wait(timeout);
        }
        catch (AggregateException)
        {
            // Its failure changes nothing now.
        }
        if (!inFlight.Task.IsCompleted) _ = inFlight.Task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    private void TryFlush(IConsumer<byte[]?, byte[]> consumer)
    {
        FinishInFlight(consumer, Timeout.InfiniteTimeSpan);
        try
        {
            DeliverBatch(consumer, _stopping);
            _overlapSuspended = false;
            if (_paused)
            {
                consumer.Resume(consumer.Assignment.Where(tp => !_awaitingOffsets.Contains(Key(tp)) && !_reachedStop.Contains(Key(tp))));
                _paused = false;
                ConsumerLog.WriteRecovered(_log, _options.Group, _backoff.Attempts);
                _metrics.Paused.Set(0);
            }
            _backoff.Reset();
            _health.Report("sink", true);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            var delay = _backoff.NextDelay();
            _retryAt = _time.GetUtcNow() + delay;
            _metrics.Retries.Inc();
            if (!_paused)
            {
                consumer.Pause(consumer.Assignment);
                _paused = true;
                _metrics.Paused.Set(1);
            }
            _health.Report("sink", false, ex.Message);
            ConsumerLog.WriteFailed(_log, ex, _options.Group, _backoff.Attempts, delay);
        }
    }

    /// <summary>Writes the batch in hand, isolating poison records; removes what is done even when a later part fails.</summary>
    private void DeliverBatch(IConsumer<byte[]?, byte[]> consumer, CancellationToken cancellationToken)
    {
        var records = _batch.ToArray();
        var completed = 0;
        try
        {
            Deliver(consumer, records, 0, records.Length, ref completed, cancellationToken);
            if (_deadLetteredNext.Count > 0) Write(consumer, [], cancellationToken);
        }
        finally
        {
            _batch.RemoveRange(0, completed);
            if (_batch.Count > 0) _batchStartedAt = _time.GetUtcNow();
        }
    }

    private void Deliver(IConsumer<byte[]?, byte[]> consumer, ConsumedRecord[] records, int start, int count, ref int completed, CancellationToken cancellationToken)
    {
        if (count == 0) return;
        try
        {
            Write(consumer, new ArraySegment<ConsumedRecord>(records, start, count), cancellationToken);
            completed = start + count;
        }
        catch (PoisonRecordException poison)
        {
            var at = Array.FindIndex(records, start, count, r => r.PartitionKey == poison.Record.PartitionKey && r.Offset == poison.Record.Offset);
            if (at < 0) throw new InvalidOperationException("the sink named a poison record that is not in the batch", poison);
            Deliver(consumer, records, start, at - start, ref completed, cancellationToken);
            DeadLetter(records[at], poison.Reason, cancellationToken);
            completed = at + 1;
            Deliver(consumer, records, at + 1, start + count - at - 1, ref completed, cancellationToken);
        }
        catch (PoisonBatchException poison)
        {
            if (count == 1)
            {
                DeadLetter(records[start], poison.Reason, cancellationToken);
                completed = start + 1;
                return;
            }
            var half = count / 2;
            Deliver(consumer, records, start, half, ref completed, cancellationToken);
            Deliver(consumer, records, start + half, count - half, ref completed, cancellationToken);
        }
    }

    private void Write(IConsumer<byte[]?, byte[]> consumer, IReadOnlyList<ConsumedRecord> records, CancellationToken cancellationToken)
    {
        var next = NextOffsets(records);
        WriteAsync(new SinkBatch(records, next), cancellationToken).GetAwaiter().GetResult();
        _deadLetteredNext.Clear();
        Completed(consumer, records.Count, next);
    }

    /// <summary>The sink's write, timed: freshness is taken the moment the write returns, when the records are durable.</summary>
    private async Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        await _sink.WriteAsync(batch, cancellationToken);
        _metrics.WriteSucceeded(batch, _time.GetElapsedTime(started), _time.GetUtcNow());
    }

    /// <summary>Per partition, the offset after the last record (or dead-lettered record) of the batch.</summary>
    private Dictionary<PartitionKey, long> NextOffsets(IReadOnlyList<ConsumedRecord> records)
    {
        var next = new Dictionary<PartitionKey, long>(_deadLetteredNext);
        foreach (var r in records)
        {
            var key = r.PartitionKey;
            if (!next.TryGetValue(key, out var seen) || seen <= r.Offset) next[key] = r.Offset + 1;
        }
        return next;
    }

    private void Completed(IConsumer<byte[]?, byte[]> consumer, int records, IReadOnlyDictionary<PartitionKey, long> next)
    {
        _metrics.Written.Inc(records);
        if (records > 0) _metrics.Batches.Inc();
        foreach (var (key, offset) in next)
            if (_progress.TryGetValue(key, out var progress)) progress.Written(offset, _batch, key);
        Commit(consumer, next);
    }

    private void DeadLetter(ConsumedRecord record, string reason, CancellationToken cancellationToken)
    {
        _deadLetters!.Publish(record, reason, cancellationToken);
        var key = record.PartitionKey;
        if (!_deadLetteredNext.TryGetValue(key, out var seen) || seen <= record.Offset) _deadLetteredNext[key] = record.Offset + 1;
        _metrics.DeadLettered.Inc();
        ConsumerLog.DeadLettered(_log, _options.Group, record.Topic, record.Partition, record.Offset, _deadLetters.Topic, reason);
    }

    /// <summary>
    /// Hands the written positions to Kafka's schedule: at-least-once sinks commit after every write (the commit
    /// is their progress); exactly-once sinks stored them already and commit within a second (see
    /// <see cref="KafkaCommitSchedule"/>), so Kafka's own lag tools stay truthful.
    /// </summary>
    private void Commit(IConsumer<byte[]?, byte[]> consumer, IReadOnlyDictionary<PartitionKey, long> next)
    {
        _commits.Written(next);
        if (_commits.IsDue) CommitPending(consumer);
    }

    /// <summary>Commits every written position Kafka has not taken yet (on schedule, and at once on revoke and shutdown).</summary>
    private void CommitPending(IConsumer<byte[]?, byte[]> consumer)
    {
        var taken = _commits.Take();
        if (taken.Count == 0) return;
        try
        {
            consumer.Commit(taken.Select(n => new TopicPartitionOffset(n.Key.Topic, n.Key.Partition, n.Value)));
            _commits.Committed(taken);
        }
        catch (KafkaException ex)
        {
            // Kept for the next attempt, unless the partitions go first (see Forget).
            _commits.Failed();
            ConsumerLog.CommitFailed(_log, _options.Group, ex.Error.Reason);
        }
    }

    private IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]> consumer, List<TopicPartition> partitions)
    {
        ConsumerLog.Assigned(_log, _options.Group, string.Join(",", partitions));
        _metrics.Rebalances("assigned").Inc();
        var keys = partitions.Select(Key).ToList();
        foreach (var key in keys) _progress.TryAdd(key, new PartitionProgress());
        _assignedWhilePaused = _paused;
        // The sink is called by one thread at a time.
        FinishInFlight(consumer, Timeout.InfiniteTimeSpan);
        IReadOnlyDictionary<PartitionKey, long> stored;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
            timeout.CancelAfter(_options.DrainTimeout);
            stored = _sink.OnAssignedAsync(keys, timeout.Token).GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            if (_sink.OffsetStorage == OffsetStorage.Sink)
            {
                ConsumerLog.OffsetsUnavailable(_log, ex, _options.Group, string.Join(",", partitions));
                _awaitingOffsets.UnionWith(keys);
                _offsetsRetryAt = _time.GetUtcNow();
            }
            stored = new Dictionary<PartitionKey, long>();
        }
        foreach (var (key, offset) in stored)
            if (_progress.TryGetValue(key, out var progress)) progress.Start(offset);
        if (_stopAt.Count > 0) NoteStartsAtStop(consumer, partitions, stored);
        return partitions.Select(tp => stored.TryGetValue(Key(tp), out var offset)
            ? new TopicPartitionOffset(tp, new Offset(offset))
            : new TopicPartitionOffset(tp, Offset.Unset));
    }

    /// <summary>
    /// A bounded run's partitions that start at or past their end (or are not named) have nothing to
    /// read; no record will come to say so, so the start position does.
    /// </summary>
    private void NoteStartsAtStop(IConsumer<byte[]?, byte[]> consumer, List<TopicPartition> partitions, IReadOnlyDictionary<PartitionKey, long> stored)
    {
        var unknown = new List<TopicPartition>();
        foreach (var tp in partitions)
        {
            var key = Key(tp);
            if (!_stopAt.TryGetValue(key, out var stop)) _reachedStop.Add(key);
            else if (stored.TryGetValue(key, out var start)) { if (start >= stop) _reachedStop.Add(key); }
            else if (!_awaitingOffsets.Contains(key)) unknown.Add(tp);
        }
        if (unknown.Count == 0) return;
        try
        {
            var committed = consumer.Committed(unknown, _options.DrainTimeout).ToDictionary(c => Key(c.TopicPartition), c => c.Offset);
            foreach (var tp in unknown)
            {
                var key = Key(tp);
                long start;
                if (committed.TryGetValue(key, out var c) && c != Offset.Unset) start = c.Value;
                else
                {
                    var marks = consumer.QueryWatermarkOffsets(tp, _options.DrainTimeout);
                    start = _options.AutoOffsetReset == AutoOffsetReset.Earliest ? marks.Low.Value : marks.High.Value;
                }
                if (start >= _stopAt[key]) _reachedStop.Add(key);
            }
        }
        catch (KafkaException ex)
        {
            // Not fatal: a partition with records left is still found done by its records or position.
            ConsumerLog.KafkaError(_log, _options.Group, ex.Error.Code.ToString(), ex.Error.Reason);
        }
    }

    /// <summary>Retries reading the stored start of partitions whose sink was down at assignment, then seeks there.</summary>
    private void LoadAwaitedOffsets(IConsumer<byte[]?, byte[]> consumer)
    {
        FinishInFlight(consumer, Timeout.InfiniteTimeSpan);
        var keys = _awaitingOffsets.ToList();
        var partitions = keys.Select(k => new TopicPartition(k.Topic, k.Partition)).ToList();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
            timeout.CancelAfter(_options.DrainTimeout);
            var stored = _sink.OnAssignedAsync(keys, timeout.Token).GetAwaiter().GetResult();
            var committed = consumer.Committed(partitions, TimeSpan.FromSeconds(5)).ToDictionary(c => Key(c.TopicPartition), c => c.Offset);
            foreach (var tp in partitions)
            {
                var key = Key(tp);
                var offset = stored.TryGetValue(key, out var s) ? new Offset(s)
                    : committed.TryGetValue(key, out var c) && c != Offset.Unset ? c
                    : _options.AutoOffsetReset == AutoOffsetReset.Earliest ? Offset.Beginning : Offset.End;
                consumer.Seek(new TopicPartitionOffset(tp, offset));
                if (offset.Value >= 0 && _progress.TryGetValue(key, out var progress)) progress.Start(offset.Value);
                if (offset.Value >= 0 && _stopAt.TryGetValue(key, out var stop) && offset.Value >= stop) _reachedStop.Add(key);
            }
            _awaitingOffsets.Clear();
            // Paused while waiting (below); while the sink is failing they stay paused with the rest and
            // resume with them.
            if (!_paused) consumer.Resume(partitions);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            ConsumerLog.OffsetsUnavailable(_log, ex, _options.Group, string.Join(",", partitions));
            _offsetsRetryAt = _time.GetUtcNow() + _backoff.NextDelay();
            // Their records would only be read to be dropped (they are read again from the stored offset):
            // stop fetching them until that offset is known.
            consumer.Pause(partitions);
        }
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]> consumer, List<TopicPartitionOffset> partitions)
    {
        ConsumerLog.Revoked(_log, _options.Group, string.Join(",", partitions.Select(p => p.TopicPartition)));
        _metrics.Rebalances("revoked").Inc();
        var keys = partitions.Select(p => Key(p.TopicPartition)).ToHashSet();
        Drain(consumer, "revoke", keys);
        CommitPending(consumer);
        Forget(consumer, keys);
    }

    private void OnLost(IConsumer<byte[]?, byte[]> consumer, List<TopicPartitionOffset> partitions)
    {
        ConsumerLog.Lost(_log, _options.Group, string.Join(",", partitions.Select(p => p.TopicPartition)));
        _metrics.Rebalances("lost").Inc();
        // Another member may own these already: writing or committing now could go behind its back.
        var keys = partitions.Select(p => Key(p.TopicPartition)).ToHashSet();
        // A write in flight may still land (an exactly-once sink keeps rows and offsets together either way);
        // its progress is not recorded here, and the sink is not called again before it ends.
        DropInFlight(_options.DrainTimeout);
        var discarded = _batch.RemoveAll(r => keys.Contains(r.PartitionKey));
        if (discarded > 0) _metrics.Abandoned("lost").Inc(discarded);
        foreach (var key in keys)
        {
            _deadLetteredNext.Remove(key);
        }
        Forget(consumer, keys);
    }

    /// <summary>
    /// Finishes the batch in hand within the drain timeout, or abandons it to be read again: partitions
    /// leaving (<paramref name="leaving"/>; null on shutdown) from the stored position by whoever gets
    /// them, partitions staying (an incremental revoke) by seeking back to their first abandoned record.
    /// </summary>
    private void Drain(IConsumer<byte[]?, byte[]> consumer, string why, HashSet<PartitionKey>? leaving)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        List<ConsumedRecord> abandoned;
        var inFlight = _inFlight;
        if (!FinishInFlight(consumer, _options.DrainTimeout))
        {
            // Its outcome is unknown: read everything in hand again from the stored position.
            DropInFlight(TimeSpan.Zero);
            abandoned = [.. inFlight!.Batch.Records, .. _batch];
        }
        else
        {
            if (_batch.Count == 0 && _deadLetteredNext.Count == 0) return;
            using var timeout = new CancellationTokenSource(_options.DrainTimeout - clock.Elapsed is { } left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
            try
            {
                DeliverBatch(consumer, timeout.Token);
                return;
            }
            catch (Exception)
            {
                abandoned = [.. _batch];
            }
        }
        ConsumerLog.Abandoned(_log, _options.Group, abandoned.Count);
        _metrics.Abandoned(why).Inc(abandoned.Count);
        if (leaving is not null)
        {
            foreach (var first in abandoned.Where(r => !leaving.Contains(r.PartitionKey)).GroupBy(r => r.PartitionKey).Select(g => g.MinBy(r => r.Offset)!))
                consumer.Seek(new TopicPartitionOffset(first.Topic, first.Partition, first.Offset));
        }
        _batch.Clear();
        _deadLetteredNext.Clear();
    }

    private void Forget(IConsumer<byte[]?, byte[]> consumer, HashSet<PartitionKey> keys)
    {
        // A pause is kept by the client across assignments: a partition paused while the sink failed would
        // stay paused if it came back to this member, with nothing left to resume it.
        if (_paused)
        {
            try
            {
                consumer.Resume(keys.Select(k => new TopicPartition(k.Topic, k.Partition)));
            }
            catch (KafkaException ex)
            {
                ConsumerLog.KafkaError(_log, _options.Group, ex.Error.Code.ToString(), ex.Error.Reason);
            }
        }
        try
        {
            _sink.OnRevokedAsync(keys, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            ConsumerLog.LoopFailed(_log, ex, _options.Group);
        }
        foreach (var key in keys)
        {
            _progress.TryRemove(key, out _);
            _awaitingOffsets.Remove(key);
        }
        _commits.Forget(keys);
        _metrics.ClearLag();
        if (_progress.IsEmpty)
        {
            _paused = false;
            _metrics.Paused.Set(0);
            _backoff.Reset();
        }
    }

    private void RefreshLag()
    {
        // Read from the scrape thread: a count of a list the poll thread owns, good enough for a gauge.
        _metrics.InHand.Set(_batch.Count + (_inFlight?.Batch.Records.Count ?? 0));
        _metrics.Assigned.Set(_progress.Count);
        var consumer = _consumer;
        if (consumer is null) return;
        var now = _time.GetUtcNow();
        foreach (var (key, progress) in _progress)
        {
            WatermarkOffsets marks;
            try
            {
                marks = consumer.GetWatermarkOffsets(new TopicPartition(key.Topic, key.Partition));
            }
            catch (Exception)
            {
                continue;
            }
            var high = Math.Max(marks.High == Offset.Unset ? -1 : marks.High.Value, progress.QueriedHigh);
            // A held partition that has never held a record has no position to start from, and nothing to read:
            // it is shown, at 0, so every partition a member holds has a series.
            var next = progress.NextToWrite < 0 && marks.Low != Offset.Unset && marks.Low.Value == high ? high : progress.NextToWrite;
            if (high < 0 || next < 0) continue;
            var lag = Math.Max(0, high - next);
            _metrics.LagMessages(key).Set(lag);
            _metrics.LagSeconds(key).Set(lag == 0 ? 0 : progress.OldestUnwrittenAge(now).TotalSeconds);
        }
    }

    /// <summary>
    /// Paused partitions are not fetched, so the client's cached end offsets stop moving while the stream
    /// goes on; ask the brokers now and then, so lag in messages keeps growing on /metrics during an outage.
    /// The poll thread has nothing else to do meanwhile.
    /// </summary>
    private void QueryWatermarks(IConsumer<byte[]?, byte[]> consumer, DateTimeOffset now)
    {
        _watermarksAt = now + TimeSpan.FromSeconds(5);
        foreach (var (key, progress) in _progress)
        {
            try
            {
                var marks = consumer.QueryWatermarkOffsets(new TopicPartition(key.Topic, key.Partition), TimeSpan.FromMilliseconds(500));
                if (marks.High != Offset.Unset) progress.Queried(marks.High.Value);
            }
            catch (KafkaException)
            {
                // Kafka is away too: the cached figure stays until the next round.
                return;
            }
        }
    }

    /// <summary>A batch being written by the sink while the poll thread goes on reading.</summary>
    private sealed record InFlight(SinkBatch Batch, Task Task);

    private static PartitionKey Key(TopicPartition tp) => new(tp.Topic, tp.Partition.Value);

    /// <summary>Where one partition stands, for the lag gauges (written by the poll thread, read by scrapes).</summary>
    private sealed class PartitionProgress
    {
        private long _nextToWrite = -1;
        private long _oldestPendingTicks;
        private long _lastWrittenTicks;
        private long _queriedHigh = -1;

        public long NextToWrite => Interlocked.Read(ref _nextToWrite);

        /// <summary>The end offset last asked of the brokers (-1: never asked).</summary>
        public long QueriedHigh => Interlocked.Read(ref _queriedHigh);

        public void Queried(long high) => Interlocked.Exchange(ref _queriedHigh, high);

        public void Start(long offset) => Interlocked.Exchange(ref _nextToWrite, offset);

        public void Pending(ConsumedRecord record)
        {
            if (Interlocked.Read(ref _nextToWrite) < 0) Interlocked.Exchange(ref _nextToWrite, record.Offset);
            if (Interlocked.Read(ref _oldestPendingTicks) == 0) Interlocked.Exchange(ref _oldestPendingTicks, record.Timestamp.UtcTicks);
        }

        public void Written(long next, List<ConsumedRecord> batch, PartitionKey key)
        {
            Interlocked.Exchange(ref _nextToWrite, next);
            var oldest = batch.Find(r => r.PartitionKey == key && r.Offset >= next);
            Interlocked.Exchange(ref _oldestPendingTicks, oldest?.Timestamp.UtcTicks ?? 0);
            Interlocked.Exchange(ref _lastWrittenTicks, DateTimeOffset.UtcNow.UtcTicks);
        }

        /// <summary>
        /// Now minus the receive time of the oldest record not yet written. When that record is not fetched
        /// yet, the time since the last write is used: the oldest unwritten record cannot be older.
        /// </summary>
        public TimeSpan OldestUnwrittenAge(DateTimeOffset now)
        {
            var pending = Interlocked.Read(ref _oldestPendingTicks);
            var reference = pending != 0 ? pending : Interlocked.Read(ref _lastWrittenTicks);
            return reference == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Max(0, now.UtcTicks - reference));
        }
    }
}
