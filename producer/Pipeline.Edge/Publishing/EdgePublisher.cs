using Microsoft.Extensions.Logging;
using Pipeline.Core;
using Pipeline.Core.Hosting;
using Pipeline.Core.Metrics;
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

/// <summary>
/// Hands envelopes to Kafka; a listener never waits for an unreachable Kafka. One idempotent producer
/// (acks=all; by default no message timeout: an accepted event is never timed out) carries both paths:
/// <list type="bullet">
/// <item>memory mode (<see cref="MemoryPath"/>): events go straight to the producer while the memory buffer has
/// room and nothing older waits in the spool; otherwise to the spool, or a sender that can wait is held back
/// (<see cref="AdmissionPolicy"/>);</item>
/// <item>disk mode: every event is appended to the spool (write-ahead) first.</item>
/// </list>
/// The <see cref="SpoolDrainer"/> produces the spool in order; the <see cref="SpoolSyncer"/> fsyncs and
/// checkpoints it; <see cref="DeliveryReports"/> settles every report. On shutdown whatever Kafka has not
/// acknowledged is written to the spool, to be sent after the restart.
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
    private readonly AdmissionPolicy _policy;
    private readonly MemoryPath _memory;
    private readonly DeliveryReports _reports;
    private readonly SpoolDrainer _drainer;
    private readonly SpoolSyncer _syncer;
    private readonly ILogger<EdgePublisher> _log;
    private readonly CounterCell _overflowOrder;
    private readonly CounterCell _overflowMemory;
    private readonly CounterCell _overflowQueue;
    private int _disposed;

    public EdgePublisher(KafkaOptions kafka, ProducerSettings settings, SpoolOptions spool, MemoryBufferOptions memory, string clientId,
        LossLedger ledger, EdgeMetrics metrics, HealthState health, ILogger<EdgePublisher> log, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        _log = log;
        Limit = new EnvelopeSizeLimit(settings.MessageMaxBytes);
        var buffer = new MemoryBuffer(memory, time);
        var reachability = new KafkaReachability(health, buffer, log);
        _policy = new AdmissionPolicy(buffer, spool);
        _producer = new BatchedAckProducer(ProducerFactory.Config(kafka, settings, clientId), EnvelopeHeaders, deliveries => _reports!.Handle(deliveries),
            reachability.OnError, (level, line) => EdgeLog.KafkaLog(_log, level, line));

        _spool = new SpoolLog(spool);
        foreach (var ((listener, route), count) in _spool.Recovery.RecordsByCell) ledger.Cell(listener, route).Recovered(count);
        _policy.SpoolRecovered(_spool.Recovery.Records);
        if (_spool.Recovery.DamagedBytes > 0) EdgeLog.SpoolDamaged(_log, _spool.Recovery.DamagedRegions, _spool.Recovery.DamagedBytes);
        if (_spool.Recovery.Records > 0) EdgeLog.SpoolRecovered(_log, _spool.Recovery.Records);

        var pending = new PendingDeliveries();
        _memory = new MemoryPath(_producer, buffer, _policy, pending, _spool, ledger, reachability, log);
        _reports = new DeliveryReports(_memory, pending, ledger, metrics.ReceiveToAck, time);
        _drainer = new SpoolDrainer(_producer, _spool, spool.DrainWindow, _policy, pending, ledger, reachability, log);
        // Records are read back from the file: the drainer looks as soon as the syncer has written some.
        _syncer = new SpoolSyncer(_spool, spool.FsyncInterval, time, log, _drainer.Wake);

        metrics.ObserveBuffers(_spool, () => buffer.Events);
        _overflowOrder = metrics.SpoolOverflow.For(("reason", "spool_not_empty"));
        _overflowMemory = metrics.SpoolOverflow.For(("reason", "memory_full"));
        _overflowQueue = metrics.SpoolOverflow.For(("reason", "producer_queue_full"));
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
    /// they come (<see cref="MemoryAdmission.HoldBack"/>).
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
            switch (_policy.ForMemory(senderWaits))
            {
                case MemoryAdmission.HoldBack:
                    return PublishOutcome.Full;
                case MemoryAdmission.SpoolBehindOlder:
                    _overflowOrder.Inc();
                    break;
                case MemoryAdmission.SpoolMemoryFull:
                    _overflowMemory.Inc();
                    break;
                default:
                    if (_memory.TryProduce(route.Topic, cell, key, hasKey, value, waiter)) return PublishOutcome.Accepted;
                    _overflowQueue.Inc();
                    break;
            }
        }
        return Spool(route, cell, key, hasKey, value, waiter);
    }

    /// <summary>Whether an event of this priority would be taken now (TCP waits for this; HTTP checks it before a batch).</summary>
    public bool HasRoom(RoutePriority priority, BufferMode mode, long bytes = 0, bool senderWaits = false) =>
        _policy.HasRoom(priority, mode, bytes, senderWaits, _spool.Bytes, _spool.MaxBytes);

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
    /// For a sender told <see cref="PublishOutcome.Full"/> that can wait but not stop reading (an HTTP request, its body
    /// already read): waits while it is only held back (<see cref="MemoryAdmission.HoldBack"/>) and says whether to offer
    /// again; false when waiting would not help (the spool has no room), and the caller answers busy.
    /// </summary>
    public async Task<bool> WaitToOfferAgainAsync(BufferMode mode, CancellationToken cancellationToken)
    {
        var delay = 1;
        while (true)
        {
            switch (RoomToOfferAgain(mode))
            {
                case Room.Now: return true;
                case Room.None: return false;
            }
            await Task.Delay(delay, cancellationToken);
            delay = Math.Min(delay * 2, 100);
        }
    }

    /// <summary>For a sender told <see cref="PublishOutcome.Full"/> that can wait: room now, after waiting (held back), or none.</summary>
    public Room RoomToOfferAgain(BufferMode mode) => _policy.RoomFor(RoutePriority.Normal, mode, 0, senderWaits: true, _spool.Bytes, _spool.MaxBytes);

    /// <summary>
    /// Stops: gives Kafka up to <paramref name="timeout"/> to acknowledge what is in flight, then writes
    /// every unacknowledged in-memory event to the spool and closes it. Spooled records stay for the next run.
    /// </summary>
    public void Shutdown(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        var pending = _producer.Flush(timeout);
        if (pending > 0) EdgeLog.FlushIncomplete(_log, pending);
        _drainer.Stop(TimeSpan.FromSeconds(5));
        _syncer.Stop(TimeSpan.FromSeconds(5));
        // Purging reports every unacknowledged message as not delivered: memory events go to the spool,
        // spool records simply stay in it. Disposing waits for those reports.
        var beforePurge = _spool.Appended;
        _producer.Dispose();
        var spooled = _spool.Appended - beforePurge;
        if (spooled > 0) EdgeLog.SpooledAtShutdown(_log, (int)spooled);
        _spool.Dispose();
    }

    public void Dispose() => Shutdown(TimeSpan.FromSeconds(5));

    private PublishOutcome Spool(EventRoute route, LedgerCell cell, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, DeliveryWaiter? waiter)
    {
        switch (_policy.ForSpool(route.Priority, _spool.Fill))
        {
            case SpoolAdmission.Shed:
                cell.ReceivedAndDropped(DropReason.Shed);
                return PublishOutcome.Shed;
            case SpoolAdmission.Full:
                return PublishOutcome.Full;
        }
        if (!_spool.TryAppend(new SpoolEntry(cell.Listener, cell.Route, route.Topic, key, hasKey, value), out var position)) return PublishOutcome.Full;
        cell.ReceivedIntoSpool();
        if (waiter is not null) _drainer.WaitFor(position, waiter);
        _policy.SpoolAppended();
        _drainer.Wake();
        return PublishOutcome.Accepted;
    }
}
