using System.Collections.Concurrent;
using Confluent.Kafka;
using Pipeline.Edge.Markup;
using Microsoft.Extensions.Logging;
using Pipeline.Edge.Publishing.Spool;
using Pipeline.Kafka.Producing;

namespace Pipeline.Edge.Publishing;

/// <summary>
/// Reads the spool in order and produces each record, keeping at most <see cref="SpoolOptions.DrainWindow"/>
/// unacknowledged. A record leaves the spool only when Kafka acknowledged it (or refused it for good); one that
/// failed in a way a retry may fix is produced again. Runs on a thread of its own, which sleeps while there is nothing
/// to do until it is woken (<see cref="Wake"/>: a record appended or written, a window slot freed, a retry due); only a
/// full producer queue is looked at again on a timer.
/// </summary>
internal sealed class SpoolDrainer : IDisposable
{
    private readonly IOpaqueProducer _producer;
    private readonly SpoolLog _spool;
    private readonly int _window;
    private readonly AdmissionPolicy _policy;
    private readonly PendingDeliveries _pending;
    private readonly LossLedger _ledger;
    private readonly KafkaReachability _kafka;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<SpoolPosition, DeliveryWaiter> _waiters = new();
    private readonly ConcurrentQueue<(SpoolRecord Record, SpoolPosition Position)> _retries = new();
    // Not a semaphore: SemaphoreSlim spins (yielding the core some 25 times) before each wait, which on an idle edge was
    // about 1 % of a core at 50 waits a second. An event that goes straight to sleep, and that many wakes collapse into.
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 0);
    private readonly TimeSpan _idleWait;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;
    private (SpoolRecord Record, SpoolPosition Position)? _next;
    private long _inFlight;

    /// <summary>How soon a record the producer's queue had no room for is offered again.</summary>
    internal static readonly TimeSpan QueueFullRetry = TimeSpan.FromMilliseconds(20);

    /// <summary>How long an idle drainer sleeps without being woken, at most: a safety net, nothing waits on it.</summary>
    internal static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(1);

    /// <summary><paramref name="idleWait"/> overrides <see cref="IdleWait"/> (tests make it endless, to show that waking is enough).</summary>
    public SpoolDrainer(IOpaqueProducer producer, SpoolLog spool, int window, AdmissionPolicy policy, PendingDeliveries pending,
        LossLedger ledger, KafkaReachability kafka, ILogger log, TimeSpan? idleWait = null)
    {
        (_producer, _spool, _window, _policy, _pending, _ledger, _kafka, _log) = (producer, spool, window, policy, pending, ledger, kafka, log);
        _idleWait = idleWait ?? IdleWait;
        _thread = new Thread(Run) { IsBackground = true, Name = "spool-drainer" };
    }

    /// <summary>Records produced from the spool and not yet reported.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    public void Start() => _thread.Start();

    /// <summary>Something was appended to the spool or written to its file, or a window slot freed: look again now.</summary>
    public void Wake() => _signal.Set();

    /// <summary>A request waits for the record at <paramref name="position"/> to reach Kafka.</summary>
    public void WaitFor(SpoolPosition position, DeliveryWaiter waiter)
    {
        waiter.Expect();
        _waiters[position] = waiter;
    }

    /// <summary>Stops producing; what is in flight is still settled when its report comes.</summary>
    public void Stop(TimeSpan timeout)
    {
        _stopping.Cancel();
        _signal.Set();
        if (_thread.IsAlive) _thread.Join(timeout);
    }

    public void Dispose() => Stop(TimeSpan.FromSeconds(5));

    /// <summary>What one step of the drainer did.</summary>
    internal enum StepResult { Produced, WindowFull, Empty, QueueFull }

    /// <summary>Produces the next record (a retry first), if the window and the producer's queue allow.</summary>
    internal StepResult Step()
    {
        if (InFlight >= _window) return StepResult.WindowFull;
        if (_next is null)
        {
            if (_retries.TryDequeue(out var retry)) _next = retry;
            else if (_spool.TryReadNext(out var record, out var position))
            {
                _policy.SpoolRead();
                _next = (record!, position);
            }
        }
        if (_next is not { } item) return StepResult.Empty;
        var delivery = new SpoolDelivery(this, item.Record, item.Position, _ledger.Cell(item.Record.Listener, item.Record.Route));
        var sequence = _pending.Add(delivery);
        Interlocked.Increment(ref _inFlight);
        var status = _producer.TryProduce(item.Record.Topic, item.Record.Key, item.Record.Key is not null, item.Record.Value, sequence,
            out var error, EnvelopeWriter.ReceivedAtMilliseconds(item.Record.Value));
        if (status == ProduceStatus.QueueFull)
        {
            // Kept as the next record: produced again once the producer's queue has room.
            _pending.Forget(sequence);
            Interlocked.Decrement(ref _inFlight);
            return StepResult.QueueFull;
        }
        if (status == ProduceStatus.Refused && _pending.TryTake(sequence, out _)) delivery.Delivered(error);
        _next = null;
        return StepResult.Produced;
    }

    private void Run()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var step = Step();
                if (step == StepResult.Produced) continue;
                _signal.Wait(WaitAfter(step));
                // Whatever woke it happened before this: the next step sees it; anything later sets the event again.
                _signal.Reset();
            }
            catch (Exception ex) when (!_stopping.IsCancellationRequested)
            {
                EdgeLog.DrainFailed(_log, ex);
                _stopping.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>How long to sleep after a step that produced nothing, unless woken.</summary>
    internal TimeSpan WaitAfter(StepResult step) => step == StepResult.QueueFull ? QueueFullRetry : _idleWait;

    private void Settled(SpoolRecord record, SpoolPosition position, LedgerCell cell, ErrorCode error)
    {
        Interlocked.Decrement(ref _inFlight);
        if (error == ErrorCode.NoError || KafkaReachability.IsPermanent(error))
        {
            var delivered = error == ErrorCode.NoError;
            if (delivered)
            {
                _kafka.Acknowledged();
                cell.SpoolPublished();
            }
            else
            {
                cell.SpoolDropped(DropReason.KafkaRejected);
                EdgeLog.DeliveryFailed(_log, error.ToString(), "refused by Kafka");
            }
            _spool.Acknowledge(position);
            if (_waiters.TryRemove(position, out var waiter)) waiter.Signal(delivered);
        }
        else if (!_stopping.IsCancellationRequested)
        {
            // Not delivered yet for a reason that may pass: produce it again (it is still in the spool).
            _retries.Enqueue((record, position));
        }
        _signal.Set();
    }

    /// <summary>A record read from the spool and produced; acknowledged in the spool once Kafka has it.</summary>
    private sealed class SpoolDelivery(SpoolDrainer drainer, SpoolRecord record, SpoolPosition position, LedgerCell cell) : IPendingDelivery
    {
        public void Delivered(in Delivery delivery) => Delivered(delivery.Error);

        public void Delivered(ErrorCode error) => drainer.Settled(record, position, cell, error);
    }
}
