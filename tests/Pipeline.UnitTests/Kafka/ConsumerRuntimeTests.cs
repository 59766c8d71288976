using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Hosting;
using Pipeline.Kafka;
using Pipeline.Kafka.Consuming;
using Pipeline.Testing;
using Pipeline.UnitTests.Support;

namespace Pipeline.UnitTests.Kafka;

/// <summary>
/// The consumer runtime's timing and outage handling, driven step by step on a fake clock with a consumer in
/// memory: nothing here sleeps, and every figure is exact.
/// </summary>
public sealed class ConsumerRuntimeTests : IDisposable
{
    private static readonly TopicPartition P0 = new("syslog", 0);
    private static readonly TopicPartition P1 = new("syslog", 1);

    private readonly TimerCountingTime _time = new();
    private readonly FakeClients _clients = new();
    private readonly InProcessMetrics _metrics = new();
    private readonly ScriptedSink _sink;
    private ConsumerRuntime? _runtime;

    public ConsumerRuntimeTests() => _sink = new ScriptedSink(_time);

    private FakeConsumer Consumer => _clients.Consumer!;

    [Fact]
    public void ABatchIsCutAtItsSize()
    {
        Start(o => o.BatchSize = 3);
        Consumer.Append("syslog", 0, 7, _time.GetUtcNow());

        StepUntil(() => Consumer.Delivered == 7 && _sink.Writes.Count == 2);
        Assert.Equal([3, 3], _sink.Writes.Select(w => w.Records.Count));
        Assert.Equal([0L, 1, 2], _sink.Writes[0].Records.Select(r => r.Offset));
        Assert.Equal(3, _sink.Writes[0].NextOffsets[new PartitionKey("syslog", 0)]);

        // The seventh waits for more, up to its batch's age.
        Step(10);
        Assert.Equal(2, _sink.Writes.Count);
        Assert.Equal(6, Consumer.CommittedOffsets[P0]);
    }

    [Fact]
    public void ABatchIsWrittenWhenItsFirstRecordReachesTheMaximumWaitAndNotBefore()
    {
        Start(o =>
        {
            o.BatchMaxWait = TimeSpan.FromSeconds(2);
            o.BatchLinger = TimeSpan.FromHours(1);
        });
        Consumer.Append("syslog", 0, 2, _time.GetUtcNow());
        StepUntil(() => Consumer.Delivered == 2);
        _time.Advance(TimeSpan.FromMilliseconds(1999));
        Step(10);
        Assert.Empty(_sink.Writes);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        StepUntil(() => _sink.Writes.Count == 1);
        Assert.Equal(2, _sink.Writes[0].Records.Count);
    }

    [Fact]
    public void WhenNothingMoreIsWaitingTheBatchInHandIsWrittenAfterTheLinger()
    {
        Start(o =>
        {
            o.BatchMaxWait = TimeSpan.FromHours(1);
            o.BatchLinger = TimeSpan.FromMilliseconds(5);
        });
        Consumer.Append("syslog", 0, 4, _time.GetUtcNow());
        StepUntil(() => Consumer.Delivered == 4);
        Step(3);
        Assert.Empty(_sink.Writes);

        _time.Advance(TimeSpan.FromMilliseconds(5));
        StepUntil(() => _sink.Writes.Count == 1);
        Assert.Equal(4, _sink.Writes[0].Records.Count);
    }

    [Fact]
    public void WhileTheSinkFailsEveryPartitionIsPausedAndRetriedWithABackoffThatDoublesUpToItsCapAndThenResumed()
    {
        Start(o =>
        {
            o.BatchSize = 1;
            o.RetryInitialBackoff = TimeSpan.FromSeconds(1);
            o.RetryMaxBackoff = TimeSpan.FromSeconds(4);
        }, P0, P1);
        _sink.FailNext(5);
        Consumer.Append("syslog", 0, 1, _time.GetUtcNow());

        // The overlapped write fails, then the first synchronous one: the pause begins.
        StepUntil(() => _sink.Attempts.Count == 2 && Consumer.PausedPartitions.Count == 2);
        Assert.Equal(1, _metrics.Sum("consumer_partitions_paused"));
        foreach (var wait in new[] { 1, 2, 4, 4 })
        {
            var attempts = _sink.Attempts.Count;
            _time.Advance(TimeSpan.FromSeconds(wait) - TimeSpan.FromMilliseconds(1));
            Step(5);
            Assert.Equal(attempts, _sink.Attempts.Count);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            StepUntil(() => _sink.Attempts.Count == attempts + 1);
        }

        Assert.Single(_sink.Writes);
        Assert.Empty(Consumer.PausedPartitions);
        Assert.Equal(0, _metrics.Sum("consumer_partitions_paused"));
        // The synchronous attempts that failed (the overlapped one only sent the batch down the synchronous path).
        Assert.Equal(4, _metrics.Sum("consumer_write_retries_total"));
        var start = _sink.Attempts[1];
        Assert.Equal([1.0, 3, 7, 11], _sink.Attempts.Skip(2).Select(a => (a - start).TotalSeconds));
    }

    [Fact]
    public async Task OnRevokeAWriteThatOutlastsTheDrainTimeoutIsAbandonedAfterItAndNothingOfItIsCommitted()
    {
        Start(o =>
        {
            o.BatchSize = 3;
            o.DrainTimeout = TimeSpan.FromSeconds(2);
        });
        var hang = _sink.HangNext();
        Consumer.Append("syslog", 0, 3, _time.GetUtcNow());
        StepUntil(() => _sink.Attempts.Count == 1);

        Consumer.RevokeOnNextPoll(P0);
        var timers = _time.TimersCreated;
        var revoking = Task.Run(() => _runtime!.Step());
        // The drain waits on the runtime's clock: once it does, a moment short of the timeout keeps it waiting.
        Eventually(() => _time.TimersCreated > timers);
        _time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(revoking.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await revoking.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(3, _metrics.Sum("consumer_records_abandoned_total", ("reason", "revoke")));
        Assert.False(Consumer.CommittedOffsets.ContainsKey(P0));
        Assert.Equal([new PartitionKey("syslog", 0)], _sink.Revoked);
        Assert.Empty(_runtime!.Assignment);
        hang.SetResult();
    }

    [Fact]
    public void OnRevokeTheRecordsInHandAreWrittenAndCommittedBeforeThePartitionGoes()
    {
        Start(o => o.BatchMaxWait = TimeSpan.FromHours(1), P0, P1);
        Consumer.Append("syslog", 0, 2, _time.GetUtcNow());
        Consumer.Append("syslog", 1, 2, _time.GetUtcNow());
        StepUntil(() => Consumer.Delivered == 4);
        Assert.Empty(_sink.Writes);

        Consumer.RevokeOnNextPoll(P0);
        Step(1);
        Assert.Equal(4, _sink.Writes.Single().Records.Count);
        Assert.Equal(2, Consumer.CommittedOffsets[P0]);
        Assert.Equal(0, _metrics.Sum("consumer_records_abandoned_total"));
        Assert.Equal([new PartitionKey("syslog", 1)], _runtime!.Assignment);
    }

    [Fact]
    public void ForASinkThatStoresLaterKafkaIsToldOnlyWhatItReportsStoredAndOnRevokeWhatItStoresAsThePartitionGoes()
    {
        var sink = new DeferringSink();
        StartWith(sink, o => o.BatchSize = 3, P0, P1);
        Consumer.Append("syslog", 0, 6, _time.GetUtcNow());
        StepUntil(() => sink.Written.GetValueOrDefault(new PartitionKey("syslog", 0)) == 6);
        _time.Advance(ConsumerRuntime.KafkaCommitInterval);
        Step(3);
        // Written (counted in memory) but not stored: Kafka must not run ahead of where the group would resume.
        Assert.False(Consumer.CommittedOffsets.ContainsKey(P0));

        sink.StoreNow();
        Step(1);
        Assert.Equal(6, Consumer.CommittedOffsets[P0]);

        Consumer.Append("syslog", 0, 3, _time.GetUtcNow());
        Consumer.Append("syslog", 1, 3, _time.GetUtcNow());
        StepUntil(() => sink.Written.GetValueOrDefault(new PartitionKey("syslog", 1)) == 3 && sink.Written[new PartitionKey("syslog", 0)] == 9);
        _time.Advance(ConsumerRuntime.KafkaCommitInterval);
        Step(3);
        Assert.Equal(6, Consumer.CommittedOffsets[P0]);
        Assert.False(Consumer.CommittedOffsets.ContainsKey(P1));

        // The revoke stores what the sink holds for the partition going, and that reaches Kafka before it goes.
        Consumer.RevokeOnNextPoll(P0);
        Step(1);
        Assert.Equal(9, Consumer.CommittedOffsets[P0]);
        Assert.False(Consumer.CommittedOffsets.ContainsKey(P1));
        Assert.Equal([new PartitionKey("syslog", 1)], _runtime!.Assignment);

        // Later stores still name the partition that went; Kafka hears only of the one held.
        Consumer.CommittedOffsets.Remove(P0);
        sink.StoreNow();
        _time.Advance(ConsumerRuntime.KafkaCommitInterval);
        Step(2);
        Assert.Equal(3, Consumer.CommittedOffsets[P1]);
        Assert.False(Consumer.CommittedOffsets.ContainsKey(P0));
    }

    public void Dispose()
    {
        // A write held back by a test that failed would hold the shutdown's drain (on a clock nobody moves).
        _sink.ReleaseAll();
        if (_runtime is not null && Consumer is { } consumer) _runtime.Close(consumer);
        _runtime?.Dispose();
        _metrics.Dispose();
    }

    private void Start(Action<ConsumerOptions> configure, params TopicPartition[] partitions) => StartWith(_sink, configure, partitions);

    private void StartWith(IBatchSink sink, Action<ConsumerOptions> configure, params TopicPartition[] partitions)
    {
        var options = new ConsumerOptions
        {
            Group = "unit",
            Topics = "syslog",
            BatchSize = 1000,
            BatchMaxWait = TimeSpan.FromHours(1),
            BatchLinger = TimeSpan.FromHours(1),
            StaticMembership = false,
        };
        configure(options);
        _runtime = new ConsumerRuntime(options, new KafkaOptions { BootstrapServers = "127.0.0.1:9" }, sink, _metrics, new HealthState(), _time,
            NullLogger<ConsumerRuntime>.Instance, _clients);
        _runtime.Open(CancellationToken.None);
        Consumer.AssignOnNextPoll(partitions.Length == 0 ? [P0] : partitions);
    }

    private void Step(int times)
    {
        for (var i = 0; i < times; i++) _runtime!.Step();
    }

    /// <summary>Steps the loop until <paramref name="condition"/> holds (writes run on the thread pool), within a deadline.</summary>
    private void StepUntil(Func<bool> condition) => Eventually(() =>
    {
        _runtime!.Step();
        return condition();
    });

    private static void Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            Thread.Yield();
        }
    }

    /// <summary>A fake clock that counts the timers made on it, so a test knows when the code under test is waiting.</summary>
    private sealed class TimerCountingTime() : FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero))
    {
        private int _timers;

        public int TimersCreated => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            // Counted once made: a test that sees the count may move the clock, and the timer must already be due from now.
            var timer = base.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _timers);
            return timer;
        }
    }

    /// <summary>A sink told what to do with its next writes: fail, hang until released, or succeed (the default).</summary>
    private sealed class ScriptedSink(TimeProvider time) : IBatchSink
    {
        private readonly object _lock = new();
        private int _failures;
        private TaskCompletionSource? _hang;
        private TaskCompletionSource? _held;

        public OffsetStorage OffsetStorage => OffsetStorage.Kafka;

        /// <summary>When each write was tried, on the fake clock.</summary>
        public List<DateTimeOffset> Attempts { get; } = [];

        public List<SinkBatch> Writes { get; } = [];

        public List<PartitionKey> Revoked { get; } = [];

        public void FailNext(int count) => _failures = count;

        public TaskCompletionSource HangNext() => _hang = _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void ReleaseAll() => _held?.TrySetResult();

        public Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<PartitionKey, long>>(new Dictionary<PartitionKey, long>());

        public async Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
        {
            TaskCompletionSource? hang;
            lock (_lock)
            {
                Attempts.Add(time.GetUtcNow());
                hang = _hang;
                _hang = null;
                if (_failures > 0)
                {
                    _failures--;
                    throw new InvalidOperationException("the store is down");
                }
            }
            if (hang is not null) await hang.Task;
            lock (_lock) Writes.Add(batch);
        }

        public Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken)
        {
            Revoked.AddRange(partitions);
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// A sink that keeps what it writes in memory and stores positions only when told (or as partitions go), as a
    /// sink with a checkpoint interval does.
    /// </summary>
    private sealed class DeferringSink : IDeferredStorageSink
    {
        private readonly object _lock = new();
        private readonly Dictionary<PartitionKey, long> _written = [];

        public OffsetStorage OffsetStorage => OffsetStorage.Sink;

        public IReadOnlyDictionary<PartitionKey, long> StoredPositions { get; private set; } = new Dictionary<PartitionKey, long>();

        public Dictionary<PartitionKey, long> Written
        {
            get
            {
                lock (_lock) return new(_written);
            }
        }

        public void StoreNow() => Store(_ => true);

        public Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<PartitionKey, long>>(new Dictionary<PartitionKey, long>());

        public Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
        {
            lock (_lock)
                foreach (var (key, next) in batch.NextOffsets) _written[key] = next;
            return Task.CompletedTask;
        }

        public Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken)
        {
            // Still reported afterwards, as a real sink may: the runtime must take only partitions it holds.
            Store(partitions.Contains);
            return Task.CompletedTask;
        }

        private void Store(Func<PartitionKey, bool> which)
        {
            var stored = new Dictionary<PartitionKey, long>(StoredPositions);
            lock (_lock)
                foreach (var (key, next) in _written)
                    if (which(key)) stored[key] = next;
            StoredPositions = stored;
        }
    }
}
