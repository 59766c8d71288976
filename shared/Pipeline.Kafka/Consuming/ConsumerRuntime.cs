using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Hosting;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// Runs one consumer group member for one sink: a blocking poll loop on its own thread that batches records
/// (<see cref="BatchInHand"/>), has the sink write them (<see cref="WriteCoordinator"/>: one write in flight,
/// pause and capped backoff while the sink fails, refused records to <c>dlq.&lt;group&gt;</c>), and only then
/// records progress — committed to Kafka (<see cref="KafkaCommitSchedule"/>) and shown as lag
/// (<see cref="LagMonitor"/>). Partitions moving are handled by <see cref="RebalanceHandler"/>: on revoke the
/// records in hand are finished within the drain timeout or abandoned (to be read again from the stored
/// position); on loss they are discarded. On shutdown the records in hand are finished, offsets committed, and
/// the group left. A bounded run (<see cref="BoundedRun"/>) reads each named partition up to its end offset,
/// writes what it read, leaves the group and completes <see cref="Finished"/>.
/// </summary>
public sealed class ConsumerRuntime : BackgroundService
{
    /// <summary>How soon an exactly-once sink's writes reach Kafka's committed offsets (see <see cref="KafkaCommitSchedule"/>).</summary>
    internal static readonly TimeSpan KafkaCommitInterval = TimeSpan.FromSeconds(1);

    // Under the rate cap, the loop waits in steps this short so that flushing and rebalance callbacks are not held up.
    private static readonly TimeSpan RateStep = TimeSpan.FromMilliseconds(50);

    private readonly ConsumerOptions _options;
    private readonly KafkaOptions _kafka;
    private readonly IBatchSink _sink;
    private readonly IConsumerFactory _clients;
    private readonly TimeProvider _time;
    private readonly ILogger<ConsumerRuntime> _log;
    private readonly HealthState _health;
    private readonly ConsumerMetrics _metrics;
    private readonly BatchInHand _batch;
    private readonly LagMonitor _lag;
    private readonly BoundedRun _bounded;
    private readonly StartPositions _starts;
    private readonly KafkaCommitSchedule _commits;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WriteCoordinator? _writer;
    private RebalanceHandler? _rebalances;
    private IConsumer<byte[]?, byte[]>? _consumer;
    private IDeadLetters? _deadLetters;
    private bool _boundedRunDone;
    private CancellationToken _stopping;

    public ConsumerRuntime(ConsumerOptions options, KafkaOptions kafka, IBatchSink sink, IMeterFactory meters,
        HealthState health, TimeProvider time, ILogger<ConsumerRuntime> log)
        : this(options, kafka, sink, meters, health, time, log, KafkaClients.Instance)
    {
    }

    internal ConsumerRuntime(ConsumerOptions options, KafkaOptions kafka, IBatchSink sink, IMeterFactory meters,
        HealthState health, TimeProvider time, ILogger<ConsumerRuntime> log, IConsumerFactory clients)
    {
        options.Validate();
        _options = options;
        _kafka = kafka;
        _sink = sink;
        _clients = clients;
        _time = time;
        _log = log;
        _health = health;
        _metrics = new ConsumerMetrics(meters, options.Group, RefreshGauges);
        _batch = new BatchInHand(options);
        _lag = new LagMonitor(_metrics, time);
        _bounded = new BoundedRun(options, time, log);
        _starts = new StartPositions(options, sink, time, log);
        _commits = new KafkaCommitSchedule(time, sink.OffsetStorage == OffsetStorage.Kafka ? TimeSpan.Zero : KafkaCommitInterval);
    }

    /// <summary>
    /// Completes when a bounded run (<see cref="ConsumerOptions.StopAt"/>) has read and written every named
    /// partition up to its end and left the group; never completes for an unbounded run.
    /// </summary>
    public Task Finished => _finished.Task;

    /// <summary>Partitions this member holds now (for tests and /healthz).</summary>
    public IReadOnlyCollection<PartitionKey> Assignment => _lag.Partitions;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        var consumer = Open(stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested && !_boundedRunDone) Step();
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            ConsumerLog.LoopFailed(_log, ex, _options.Group);
            throw;
        }
        finally
        {
            Close(consumer);
        }
    }

    /// <summary>Builds the clients and subscribes (the poll thread's start; tests drive <see cref="Step"/> after it).</summary>
    internal IConsumer<byte[]?, byte[]> Open(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        _health.Report("sink", true);
        _deadLetters = _clients.CreateDeadLetters(_kafka, _options.Group);
        _writer = new WriteCoordinator(_options, _sink, _batch, _lag, _commits, _deadLetters, _metrics, _health, _time, _log);
        _rebalances = new RebalanceHandler(_options, _sink, _batch, _writer, _starts, _bounded, _lag, _commits, _metrics, _time, _log) { Stopping = stoppingToken };
        var consumer = _clients.CreateConsumer(_options.ToConfig(_kafka, "consumer-" + _options.Group), new ConsumerCallbacks(
            _rebalances.OnAssigned, _rebalances.OnRevoked, _rebalances.OnLost,
            (_, e) => ConsumerLog.KafkaError(_log, _options.Group, e.Code.ToString(), e.Reason)));
        _consumer = consumer;
        _writer.Consumer = consumer;
        ConsumerLog.Starting(_log, _options.Group, _options.Topics, _options.From, _options.BatchSize, _options.BatchMaxWait);
        var classic = _options.GroupProtocol == GroupMembership.Classic;
        ConsumerLog.Membership(_log, _options.Group, GroupMembership.InstanceId(_options) ?? "without a static identity", _options.GroupProtocol,
            classic ? $"{_options.SessionTimeout.TotalSeconds:0.###} s" : "set by the broker", classic ? $"{GroupMembership.Heartbeat(_options).TotalSeconds:0.###} s" : "set by the broker");
        consumer.Subscribe(_options.TopicList);
        return consumer;
    }

    /// <summary>Finishes the records in hand, commits, leaves the group and closes the clients.</summary>
    internal void Close(IConsumer<byte[]?, byte[]> consumer)
    {
        _rebalances!.Drain(consumer, "shutdown", leaving: null);
        _writer!.TakeStored();
        _writer.CommitPending();
        // A rebalance in progress holds the leave back until it completes, which takes at most about a session.
        GroupMembership.LeaveBeforeClose(consumer, _options, _time, _options.SessionTimeout);
        consumer.Close();
        consumer.Dispose();
        _deadLetters!.Dispose();
        ConsumerLog.Stopped(_log, _options.Group);
        if (_boundedRunDone) _finished.TrySetResult();
    }

    /// <summary>One turn of the poll loop: account for the write in flight, write what is due, read one record.</summary>
    internal void Step()
    {
        var consumer = _consumer!;
        var writer = _writer!;
        if (_rebalances!.AssignedWhilePaused)
        {
            // Partitions added (incrementally) while the sink is failing join the pause: nothing piles up.
            consumer.Pause(consumer.Assignment);
            _rebalances.AssignedWhilePaused = false;
        }
        if (writer.InFlight.IsCompleted) writer.FinishInFlight(TimeSpan.Zero);
        // Also when no batch comes: the last write before the stream went quiet reaches Kafka too, and so does what a
        // sink that stores later stored on its own timer.
        writer.TakeStored();
        if (_commits.IsDue) writer.CommitPending();
        if (_starts.RetryDue) LoadStartPositions(consumer, writer);

        if (_bounded.AllReached && FinishBoundedRun(writer)) return;

        if (writer.Outage.Paused)
        {
            if (writer.Outage.RetryDue) writer.Flush(Resumable, _stopping);
            if (writer.Outage.WatermarksDue()) _lag.QueryWatermarks(consumer);
        }
        else if (_batch.IsDue(_time.GetUtcNow(), writer.InFlight.Active) || (_batch.Count > 0 && writer.OverlapSuspended) || writer.Isolation.HasDeadLettered)
        {
            // One write at a time: a batch that is due waits here for the one in flight (the backpressure).
            writer.FinishInFlight(Timeout.InfiniteTimeSpan);
            if (!writer.OverlapSuspended && !writer.Isolation.HasDeadLettered && _starts.Awaiting.Count == 0) writer.StartWrite();
            else writer.Flush(Resumable, _stopping);
        }

        var wait = _bounded.UntilNextRead();
        if (wait > TimeSpan.Zero)
        {
            WaitOnClock(wait < RateStep ? wait : RateStep);
            return;
        }
        Read(consumer, writer);
    }

    private void Read(IConsumer<byte[]?, byte[]> consumer, WriteCoordinator writer)
    {
        ConsumeResult<byte[]?, byte[]>? result;
        try
        {
            result = consumer.Consume(_batch.PollTimeout(_time.GetUtcNow(), writer.InFlight.Active, writer.Outage.Paused));
        }
        catch (ConsumeException ex)
        {
            // e.g. a topic that does not exist yet: report and keep polling.
            ConsumerLog.KafkaError(_log, _options.Group, ex.Error.Code.ToString(), ex.Error.Reason);
            return;
        }
        if (result?.Message is null)
        {
            _batch.NothingWaiting();
            _bounded.CheckPositions(consumer, _starts.Awaiting, _batch);
            return;
        }
        var record = new ConsumedRecord(result.Topic, result.Partition.Value, result.Offset.Value, result.Message.Key,
            result.Message.Value ?? [], new DateTimeOffset(result.Message.Timestamp.UtcDateTime, TimeSpan.Zero));
        // Partitions whose start position is not known yet are read again from it once it is.
        if (_starts.Awaiting.Contains(record.PartitionKey) || !_bounded.Take(consumer, record)) return;
        _batch.Add(record, _time.GetUtcNow());
        _lag.Pending(record);
    }

    private void LoadStartPositions(IConsumer<byte[]?, byte[]> consumer, WriteCoordinator writer)
    {
        writer.FinishInFlight(Timeout.InfiniteTimeSpan);
        if (_starts.Retry(consumer, resume: !writer.Outage.Paused, _stopping) is not { } found) return;
        foreach (var (key, offset) in found)
        {
            _lag.Started(key, offset);
            _bounded.Starts(key, offset);
        }
    }

    /// <summary>Every named partition is at its end: write what is in hand; true once all of it is durable.</summary>
    private bool FinishBoundedRun(WriteCoordinator writer)
    {
        var pending = _batch.Count > 0 || writer.Isolation.HasDeadLettered;
        if (pending && (!writer.Outage.Paused || writer.Outage.RetryDue)) writer.Flush(Resumable, _stopping);
        if (_batch.Count > 0 || writer.Isolation.HasDeadLettered || writer.Outage.Paused) return false;
        ConsumerLog.BoundedRunDone(_log, _options.Group, _bounded.Partitions);
        _boundedRunDone = true;
        return true;
    }

    /// <summary>After an outage, partitions resume unless they still wait for their start or a bounded run finished them.</summary>
    private bool Resumable(PartitionKey key) => !_starts.Awaiting.Contains(key) && !_bounded.Reached(key);

    private void WaitOnClock(TimeSpan wait)
    {
        try
        {
            Task.Delay(wait, _time, _stopping).Wait(_stopping);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the loop ends.
        }
        catch (AggregateException)
        {
            // Cancelled while waiting: the loop ends.
        }
    }

    private void RefreshGauges()
    {
        // Read from the scrape thread: counts of what the poll thread owns, good enough for a gauge.
        _metrics.InHand.Set(_batch.Count + (_writer?.InFlight.Records ?? 0));
        _lag.Refresh(_consumer);
    }
}
