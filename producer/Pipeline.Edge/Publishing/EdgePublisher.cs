using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Core;
using Pipeline.Core.Hosting;
using Pipeline.Core.Metrics;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing.Spool;
using Pipeline.Edge.Routing;
using Pipeline.Kafka;
using Pipeline.Kafka.Producing;

namespace Pipeline.Edge.Publishing;

/// <summary>What became of an event handed to the publisher.</summary>
internal enum PublishOutcome
{
    /// <summary>Accepted: in the producer's queue (memory mode) or in the spool; it will reach Kafka.</summary>
    Accepted,
    /// <summary>Dropped on purpose because buffers are filling and its route is low priority (counted as shed).</summary>
    Shed,
    /// <summary>No room: nothing was counted; the caller drops and counts (UDP), pushes back (TCP) or answers 503 (HTTP).</summary>
    Full,
    /// <summary>Refused: its envelope is larger than Kafka takes (<see cref="EnvelopeSizeLimit"/>); counted as too_large.</summary>
    TooLarge,
}

/// <summary>Memory limits of the in-memory buffer (section <c>Edge:Memory</c>).</summary>
public sealed class MemoryBufferOptions
{
    /// <summary>
    /// Events handed to the producer and not yet acknowledged, at most; beyond it events go to the spool (or a
    /// TCP sender waits). 20,000 keep 500,000 events/s flowing while Kafka takes up to 40 ms to acknowledge, and
    /// the edge, the producer's copies included, under 200 MiB resident (BENCHMARKS.md); raise it for a Kafka
    /// further away. Default 20,000.
    /// </summary>
    public int MaxEvents { get; set; } = 20_000;

    /// <summary>Bytes of such events, at most (the producer holds a copy of each as well). Default 32 MiB.</summary>
    public long MaxBytes { get; set; } = 32L << 20;
}

/// <summary>
/// Hands envelopes to Kafka; a listener never waits for an unreachable Kafka. One idempotent producer
/// (acks=all, infinite message timeout: an accepted event is never timed out) carries both paths:
/// <list type="bullet">
/// <item>memory mode: events go straight to the producer while it has fewer than
/// <see cref="MemoryBufferOptions.MaxEvents"/> unacknowledged; beyond that, or while the spool still holds
/// unsent events (so that order is kept), they are appended to the spool — except that a sender that can
/// wait (TCP, WebSocket) is held back instead while Kafka is still acknowledging;</item>
/// <item>disk mode: every event is appended to the spool (write-ahead) first.</item>
/// </list>
/// A drainer reads the spool in order and produces what it reads, at most a window at a time; a record
/// leaves the spool only when Kafka acknowledged it. When the spool fills, low-priority routes are shed
/// first, then normal ones are refused, and high-priority routes get the last room. On shutdown whatever
/// Kafka has not acknowledged is written to the spool, to be sent after the restart.
/// </summary>
internal sealed class EdgePublisher : IDisposable
{
    private static readonly KeyValuePair<string, byte[]>[] EnvelopeHeaders =
    [
        new(KafkaHeaders.Schema, "1"u8.ToArray()),
        new(KafkaHeaders.ContentType, "application/json"u8.ToArray()),
    ];

    private readonly BatchedAckProducer _producer;
    private readonly SpoolLog _spool;
    private readonly SpoolOptions _spoolOptions;
    private readonly MemoryBufferOptions _memory;
    private readonly LossLedger _ledger;
    private readonly ILogger<EdgePublisher> _log;
    private readonly HealthState _health;
    // Every message handed to the producer, by the opaque its delivery report will carry.
    private readonly ConcurrentDictionary<long, IPendingDelivery> _pending = new();
    private readonly ConcurrentDictionary<SpoolPosition, DeliveryWaiter> _spoolWaiters = new();
    private readonly ConcurrentQueue<(SpoolRecord Record, SpoolPosition Position)> _retries = new();
    private readonly SemaphoreSlim _drainSignal = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _drainer;
    private readonly Thread _syncer;
    private readonly Histogram<double> _receiveToAck;
    private readonly CounterCell _overflowOrder;
    private readonly CounterCell _overflowMemory;
    private readonly CounterCell _overflowQueue;
    private const long AcknowledgingWithin = 2000;

    private long _deliverySequence;
    // When Kafka last acknowledged something, or the memory buffer last went from empty to in use.
    private long _lastProgressAt = long.MinValue / 2;
    private long _memoryEvents;
    private long _memoryBytes;
    private long _spoolUnread;
    private long _spoolInFlight;
    private int _disposed;
    private int _kafkaDown;

    public EdgePublisher(KafkaOptions kafka, ProducerSettings settings, SpoolOptions spool, MemoryBufferOptions memory, string clientId,
        LossLedger ledger, EdgeMetrics metrics, HealthState health, ILogger<EdgePublisher> log)
    {
        _log = log;
        _health = health;
        _ledger = ledger;
        _memory = memory;
        _spoolOptions = spool;
        Limit = new EnvelopeSizeLimit(settings.MessageMaxBytes);
        _health.Report("kafka", true, "connecting");
        var config = ProducerFactory.Config(kafka, settings, clientId);
        // Accepted means it will be delivered: librdkafka keeps retrying until Kafka takes it.
        config.MessageTimeoutMs = 0;
        _producer = new BatchedAckProducer(config, EnvelopeHeaders, OnDeliveries, OnError,
            (level, line) => EdgeLog.KafkaLog(_log, level, line));

        _spool = new SpoolLog(spool);
        foreach (var ((listener, route), count) in _spool.Recovery.RecordsByCell) ledger.Cell(listener, route).Recovered(count);
        _spoolUnread = _spool.Recovery.Records;
        if (_spool.Recovery.DamagedBytes > 0)
            EdgeLog.SpoolDamaged(_log, _spool.Recovery.DamagedRegions, _spool.Recovery.DamagedBytes);
        if (_spool.Recovery.Records > 0) EdgeLog.SpoolRecovered(_log, _spool.Recovery.Records);
        metrics.ObserveBuffers(_spool, () => Interlocked.Read(ref _memoryEvents));
        _overflowOrder = metrics.SpoolOverflow.For(("reason", "spool_not_empty"));
        _overflowMemory = metrics.SpoolOverflow.For(("reason", "memory_full"));
        _overflowQueue = metrics.SpoolOverflow.For(("reason", "producer_queue_full"));
        _receiveToAck = metrics.ReceiveToAck;

        _drainer = new Thread(Drain) { IsBackground = true, Name = "spool-drainer" };
        _syncer = new Thread(SyncLoop) { IsBackground = true, Name = "spool-sync" };
        _drainer.Start();
        _syncer.Start();
    }

    /// <summary>Records appended by this run and fsynced (the disk-mode durability point).</summary>
    public long SpoolSynced => _spool.Synced;

    /// <summary>The largest envelope Kafka takes; ingest paths check it before they accept an event.</summary>
    public EnvelopeSizeLimit Limit { get; }

    /// <summary>
    /// Publishes one event; <paramref name="key"/> and <paramref name="value"/> are only read during the call.
    /// <paramref name="senderWaits"/>: the caller can hold its sender back (a TCP connection stops reading) and
    /// offer the event again; such events are not sent through the spool while Kafka is merely slower than
    /// they come (see <see cref="HoldBack"/>).
    /// </summary>
    public PublishOutcome Publish(EventRoute route, LedgerCell cell, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, BufferMode mode,
        DeliveryWaiter? waiter = null, bool senderWaits = false)
    {
        // Taken, it would only be refused by Kafka later (kafka_rejected): refused now, where the sender can be told.
        if (!Limit.Fits(hasKey ? key.Length : 0, value.Length))
        {
            cell.ReceivedAndDropped(DropReason.TooLarge);
            return PublishOutcome.TooLarge;
        }

        if (mode == BufferMode.Memory)
        {
            // Memory mode goes straight to the producer only while nothing older waits in the spool.
            if (Interlocked.Read(ref _spoolUnread) > 0) _overflowOrder.Inc();
            else if (MemoryFull(0))
            {
                if (HoldBack(senderWaits)) return PublishOutcome.Full;
                _overflowMemory.Inc();
            }
            else if (ProduceFromMemory(route.Topic, cell, key, hasKey, value, waiter)) return PublishOutcome.Accepted;
            else _overflowQueue.Inc();
        }
        return Spool(route, cell, key, hasKey, value, waiter);
    }

    /// <summary>Whether an event of this priority would be taken now (TCP waits for this; HTTP checks it before a batch).</summary>
    public bool HasRoom(RoutePriority priority, BufferMode mode, long bytes = 0, bool senderWaits = false)
    {
        if (mode == BufferMode.Memory && Interlocked.Read(ref _spoolUnread) == 0)
        {
            if (!MemoryFull(bytes)) return true;
            if (HoldBack(senderWaits)) return false;
        }
        return _spool.Bytes + bytes < _spool.MaxBytes && (double)(_spool.Bytes + bytes) / _spool.MaxBytes < Threshold(priority);
    }

    /// <summary>Waits (polling briefly) until <see cref="HasRoom"/>; TCP connections stop reading meanwhile.</summary>
    public async Task WaitForRoomAsync(RoutePriority priority, BufferMode mode, CancellationToken cancellationToken)
    {
        var delay = 1;
        while (!HasRoom(priority, mode, senderWaits: true))
        {
            await Task.Delay(delay, cancellationToken);
            delay = Math.Min(delay * 2, 100);
        }
    }

    /// <summary>
    /// Stops: gives Kafka up to <paramref name="timeout"/> to acknowledge what is in flight, then writes
    /// every unacknowledged in-memory event to the spool and closes it. Spooled records stay for the next run.
    /// </summary>
    public void Shutdown(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        var pending = _producer.Flush(timeout);
        if (pending > 0) EdgeLog.FlushIncomplete(_log, pending);
        _stopping.Cancel();
        _drainSignal.Release();
        _drainer.Join(TimeSpan.FromSeconds(5));
        _syncer.Join(TimeSpan.FromSeconds(5));
        // Purging reports every unacknowledged message as not delivered: memory events go to the spool,
        // spool records simply stay in it. Disposing waits for those reports.
        var beforePurge = _spool.Appended;
        _producer.Dispose();
        var spooled = _spool.Appended - beforePurge;
        if (spooled > 0) EdgeLog.SpooledAtShutdown(_log, (int)spooled);
        _spool.Dispose();
    }

    public void Dispose() => Shutdown(TimeSpan.FromSeconds(5));

    /// <summary>
    /// Hands one event to the producer. An event nobody waits for keeps no managed state while in flight:
    /// its opaque names its ledger cell, and should it fail, the delivery report gives back its key, value and
    /// topic to spool. One a request waits for (<c>?ack=kafka</c>) is found by sequence instead.
    /// </summary>
    private bool ProduceFromMemory(string topic, LedgerCell cell, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, DeliveryWaiter? waiter)
    {
        long opaque;
        if (waiter is null)
        {
            opaque = MemoryOpaque(cell.Id);
        }
        else
        {
            opaque = Interlocked.Increment(ref _deliverySequence);
            _pending[opaque] = new WaitedMemoryEvent(this, cell, waiter);
            waiter.Expect();
        }
        // Counted before the hand-over: the delivery report may arrive before produce returns.
        cell.ReceivedIntoMemory();
        if (Interlocked.Increment(ref _memoryEvents) == 1) Volatile.Write(ref _lastProgressAt, Environment.TickCount64);
        Interlocked.Add(ref _memoryBytes, value.Length);
        var status = _producer.TryProduce(topic, key, hasKey, value, opaque, out var error, EnvelopeWriter.ReceivedAtMilliseconds(value));
        if (status == ProduceStatus.Queued) return true;
        if (waiter is not null) _pending.TryRemove(opaque, out _);
        if (status == ProduceStatus.QueueFull)
        {
            // Not taken: undo the accounting; the caller spools it.
            cell.Retract();
            LeaveMemory(1, value.Length);
            waiter?.Unexpect();
            return false;
        }
        // Refused at once (e.g. larger than the broker allows): settled as a failed delivery.
        SettleMemory(cell, waiter, error, topic, key, hasKey, value);
        return true;
    }

    /// <summary>A memory event's delivery, other than a plain success (those are counted in runs).</summary>
    private void SettleMemory(LedgerCell cell, DeliveryWaiter? waiter, ErrorCode error, string topic, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value)
    {
        LeaveMemory(1, value.Length);
        if (error == ErrorCode.NoError)
        {
            KafkaReachable();
            cell.MemoryPublished();
            waiter?.Signal(true);
            return;
        }
        if (IsPermanent(error))
        {
            cell.MemoryDropped(DropReason.KafkaRejected);
            EdgeLog.DeliveryFailed(_log, error.ToString(), "refused by Kafka");
        }
        else if (_spool.TryAppend(new SpoolEntry(cell.Listener, cell.Route, topic, key, hasKey, value), out _))
        {
            // Purged at shutdown, or failed in a way a retry may fix: kept in the spool for the next attempt.
            cell.MemoryToSpool();
            Interlocked.Increment(ref _spoolUnread);
        }
        else
        {
            cell.MemoryDropped(DropReason.BufferFull);
        }
        waiter?.Signal(false);
    }

    private bool MemoryFull(long bytes) =>
        Interlocked.Read(ref _memoryEvents) >= _memory.MaxEvents || Interlocked.Read(ref _memoryBytes) + bytes >= _memory.MaxBytes;

    /// <summary>
    /// The memory buffer is full: should a sender that can wait be held back rather than sent through the
    /// spool? Yes while Kafka is acknowledging (it is only slower than the input: the disk would add cost and
    /// fill without helping); no once events have been waiting <see cref="AcknowledgingWithin"/> without any
    /// acknowledgement, when the spool is what keeps the sender going through the outage.
    /// </summary>
    private bool HoldBack(bool senderWaits) =>
        senderWaits && Environment.TickCount64 - Volatile.Read(ref _lastProgressAt) < AcknowledgingWithin;

    private void LeaveMemory(int events, long bytes)
    {
        Interlocked.Add(ref _memoryEvents, -events);
        Interlocked.Add(ref _memoryBytes, -bytes);
    }

    // Memory events nobody waits for carry -1 - (ledger cell id); sequences (spool records, waited events) are positive.
    private static long MemoryOpaque(int cellId) => -1L - cellId;

    private static int CellOfMemoryOpaque(long opaque) => (int)(-1L - opaque);

    private PublishOutcome Spool(EventRoute route, LedgerCell cell, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, DeliveryWaiter? waiter)
    {
        var fill = _spool.Fill;
        if (route.Priority == RoutePriority.Low && fill >= _spoolOptions.ShedLowPriorityAt)
        {
            cell.ReceivedAndDropped(DropReason.Shed);
            return PublishOutcome.Shed;
        }
        if (fill >= Threshold(route.Priority)) return PublishOutcome.Full;
        if (!_spool.TryAppend(new SpoolEntry(cell.Listener, cell.Route, route.Topic, key, hasKey, value), out var position)) return PublishOutcome.Full;
        cell.ReceivedIntoSpool();
        if (waiter is not null)
        {
            waiter.Expect();
            _spoolWaiters[position] = waiter;
        }
        Interlocked.Increment(ref _spoolUnread);
        _drainSignal.Release();
        return PublishOutcome.Accepted;
    }

    private double Threshold(RoutePriority priority) => priority switch
    {
        RoutePriority.High => 1.0,
        RoutePriority.Normal => _spoolOptions.ReserveForHighPriorityAt,
        _ => _spoolOptions.ShedLowPriorityAt,
    };

    /// <summary>Reads the spool in order and produces each record, keeping at most a window unacknowledged.</summary>
    private void Drain()
    {
        (SpoolRecord Record, SpoolPosition Position)? next = null;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                if (Interlocked.Read(ref _spoolInFlight) >= _spoolOptions.DrainWindow)
                {
                    _drainSignal.Wait(20);
                    continue;
                }
                if (next is null)
                {
                    if (_retries.TryDequeue(out var retry)) next = retry;
                    else if (_spool.TryReadNext(out var record, out var position))
                    {
                        Interlocked.Decrement(ref _spoolUnread);
                        next = (record!, position);
                    }
                }
                if (next is not { } item)
                {
                    _drainSignal.Wait(20);
                    continue;
                }
                var delivery = new SpoolDelivery(this, Interlocked.Increment(ref _deliverySequence), item.Record, item.Position,
                    _ledger.Cell(item.Record.Listener, item.Record.Route));
                _pending[delivery.Sequence] = delivery;
                Interlocked.Increment(ref _spoolInFlight);
                var status = _producer.TryProduce(item.Record.Topic, item.Record.Key, item.Record.Key is not null, item.Record.Value, delivery.Sequence,
                    out var error, EnvelopeWriter.ReceivedAtMilliseconds(item.Record.Value));
                if (status == ProduceStatus.QueueFull)
                {
                    _pending.TryRemove(delivery.Sequence, out _);
                    Interlocked.Decrement(ref _spoolInFlight);
                    _drainSignal.Wait(20);
                    continue;
                }
                if (status == ProduceStatus.Refused && _pending.TryRemove(delivery.Sequence, out _)) delivery.Delivered(error);
                next = null;
            }
            catch (Exception ex) when (!_stopping.IsCancellationRequested)
            {
                EdgeLog.DrainFailed(_log, ex);
                _stopping.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>Group commit of the spool, and a checkpoint of what Kafka acknowledged, on a timer of their own.</summary>
    private void SyncLoop()
    {
        var lastCheckpoint = Environment.TickCount64;
        while (!_stopping.Token.WaitHandle.WaitOne(_spoolOptions.FsyncInterval))
        {
            try
            {
                _spool.Sync();
                if (Environment.TickCount64 - lastCheckpoint >= 1000)
                {
                    _spool.CheckpointAcknowledged();
                    lastCheckpoint = Environment.TickCount64;
                }
            }
            catch (Exception ex)
            {
                EdgeLog.SpoolSyncFailed(_log, ex);
            }
        }
    }

    /// <summary>One batch of delivery reports, on the producer's report thread.</summary>
    private void OnDeliveries(ReadOnlySpan<Delivery> deliveries)
    {
        // Acknowledged memory events come in runs of one ledger cell: one ledger update per run, not per event.
        var runCell = -1;
        var runEvents = 0;
        long runBytes = 0;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < deliveries.Length; i++)
        {
            ref readonly var delivery = ref deliveries[i];
            var opaque = delivery.Opaque;
            if (i % EdgeMetrics.AckSampleEvery == 0 && delivery.Error == ErrorCode.NoError) TimeAcknowledgement(delivery, now);
            if (opaque < 0 && delivery.Error == ErrorCode.NoError)
            {
                var cellId = CellOfMemoryOpaque(opaque);
                if (cellId != runCell)
                {
                    MemoryPublished(runCell, runEvents, runBytes);
                    (runCell, runEvents, runBytes) = (cellId, 0, 0);
                }
                runEvents++;
                runBytes += delivery.ValueLength;
            }
            else if (opaque < 0)
            {
                SettleMemory(_ledger[CellOfMemoryOpaque(opaque)], null, delivery.Error, delivery.Topic, delivery.Key, delivery.HasKey, delivery.Value);
            }
            else if (_pending.TryRemove(opaque, out var pending))
            {
                pending.Delivered(delivery);
            }
        }
        MemoryPublished(runCell, runEvents, runBytes);
    }

    /// <summary>
    /// Receipt to acknowledgement. The receive time is read from the envelope the report carries (its id), not
    /// from the report's timestamp, which a broker may replace with its own (LogAppendTime).
    /// </summary>
    private void TimeAcknowledgement(in Delivery delivery, long nowMs)
    {
        var receivedMs = EnvelopeWriter.ReceivedAtMilliseconds(delivery.Value);
        if (receivedMs > 0) _receiveToAck.Record(Math.Max(0, nowMs - receivedMs) / 1000.0);
    }

    private void MemoryPublished(int cellId, int events, long bytes)
    {
        if (events == 0) return;
        LeaveMemory(events, bytes);
        _ledger[cellId].MemoryPublished(events);
        KafkaReachable();
    }

    private void OnError(Error error)
    {
        if (error.Code == ErrorCode.Local_AllBrokersDown)
        {
            Volatile.Write(ref _kafkaDown, 1);
            _health.Report("kafka", false, error.Reason);
        }
        EdgeLog.KafkaError(_log, error.Code.ToString(), error.Reason);
    }

    // Health changes on state changes only, not per delivery.
    private void KafkaReachable()
    {
        Volatile.Write(ref _lastProgressAt, Environment.TickCount64);
        if (Volatile.Read(ref _kafkaDown) == 1 && Interlocked.Exchange(ref _kafkaDown, 0) == 1) _health.Report("kafka", true, "delivering");
    }

    /// <summary>Refusals that no retry will change.</summary>
    private static bool IsPermanent(ErrorCode error) =>
        error is ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsg or ErrorCode.InvalidRecord
            or ErrorCode.TopicAuthorizationFailed or ErrorCode.Local_InvalidArg or ErrorCode.TopicException;

    /// <summary>A message handed to the producer that is found by its sequence when its report comes.</summary>
    private interface IPendingDelivery
    {
        void Delivered(in Delivery delivery);
    }

    /// <summary>An event handed to the producer from memory that a request waits for.</summary>
    private sealed class WaitedMemoryEvent(EdgePublisher publisher, LedgerCell cell, DeliveryWaiter waiter) : IPendingDelivery
    {
        public void Delivered(in Delivery delivery) =>
            publisher.SettleMemory(cell, waiter, delivery.Error, delivery.Error == ErrorCode.NoError ? "" : delivery.Topic,
                delivery.Key, delivery.HasKey, delivery.Value);
    }

    /// <summary>A record read from the spool and produced; acknowledged in the spool once Kafka has it.</summary>
    private sealed class SpoolDelivery(EdgePublisher publisher, long sequence, SpoolRecord record, SpoolPosition position, LedgerCell cell)
        : IPendingDelivery
    {
        public long Sequence { get; } = sequence;

        public void Delivered(in Delivery delivery) => Delivered(delivery.Error);

        public void Delivered(ErrorCode error)
        {
            Interlocked.Decrement(ref publisher._spoolInFlight);
            if (error == ErrorCode.NoError || IsPermanent(error))
            {
                var delivered = error == ErrorCode.NoError;
                if (delivered)
                {
                    publisher.KafkaReachable();
                    cell.SpoolPublished();
                }
                else
                {
                    cell.SpoolDropped(DropReason.KafkaRejected);
                    EdgeLog.DeliveryFailed(publisher._log, error.ToString(), "refused by Kafka");
                }
                publisher._spool.Acknowledge(position);
                if (publisher._spoolWaiters.TryRemove(position, out var waiter)) waiter.Signal(delivered);
            }
            else if (!publisher._stopping.IsCancellationRequested)
            {
                // Not delivered yet for a reason that may pass: produce it again (it is still in the spool).
                publisher._retries.Enqueue((record, position));
            }
            publisher._drainSignal.Release();
        }
    }
}
