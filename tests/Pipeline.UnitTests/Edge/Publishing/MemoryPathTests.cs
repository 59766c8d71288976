using Confluent.Kafka;
using Pipeline.Edge.Publishing;
using Pipeline.Kafka.Producing;
using Pipeline.UnitTests.Support;

namespace Pipeline.UnitTests.Edge.Publishing;

/// <summary>Memory-mode events handed to the producer, and their delivery reports.</summary>
public sealed class MemoryPathTests : IDisposable
{
    private readonly PublishingParts _parts = new();

    public void Dispose() => _parts.Dispose();

    private bool Produce(string value, DeliveryWaiter? waiter = null) =>
        _parts.MemoryPath.TryProduce("syslog", _parts.Cell, default, false, System.Text.Encoding.UTF8.GetBytes(value), waiter);

    [Fact]
    public void AcknowledgedEventsAreCountedPerRunAndLeaveTheBuffer()
    {
        var other = _parts.Ledger.Cell("syslog-udp", "default");
        Assert.True(Produce("aa"));
        Assert.True(Produce("bbb"));
        Assert.True(_parts.MemoryPath.TryProduce("syslog", other, default, false, "c"u8, null));
        Assert.Equal(3, _parts.Memory.Events);
        Assert.Equal(6, _parts.Memory.Bytes);

        var produced = _parts.Producer.Produced;
        _parts.Reports.Handle(
        [
            _parts.Deliveries.Make(produced[0].Opaque, ErrorCode.NoError, produced[0].Value),
            _parts.Deliveries.Make(produced[1].Opaque, ErrorCode.NoError, produced[1].Value),
            _parts.Deliveries.Make(produced[2].Opaque, ErrorCode.NoError, produced[2].Value),
        ]);
        Assert.Equal(0, _parts.Memory.Events);
        Assert.Equal(0, _parts.Memory.Bytes);
        Assert.Equal(2, _parts.Cell.Snapshot().Published);
        Assert.Equal(1, other.Snapshot().Published);
        Assert.True(_parts.Cell.Snapshot().Balances);
        // Nothing is kept per event nobody waits for: its opaque names its ledger cell.
        Assert.Equal(0, _parts.Pending.Count);
        Assert.Equal(PendingDeliveries.MemoryOpaque(_parts.Cell.Id), produced[0].Opaque);
    }

    [Fact]
    public void AnEventTheProducerCannotQueueIsNotCountedAndTheCallerSpoolsIt()
    {
        var waiter = new DeliveryWaiter();
        _parts.Producer.Answers.Enqueue((ProduceStatus.QueueFull, ErrorCode.Local_QueueFull));
        Assert.False(Produce("x", waiter));
        Assert.Equal(0, _parts.Memory.Events);
        Assert.Equal(0, _parts.Cell.Snapshot().Received);
        Assert.Equal(0, _parts.Pending.Count);
        waiter.Seal();
        Assert.True(waiter.WaitAsync(TimeSpan.Zero, CancellationToken.None).IsCompleted);
    }

    [Fact]
    public void AnEventKafkaRefusesForGoodIsDroppedAsRejectedAndOneThatMayPassGoesToTheSpool()
    {
        _parts.Producer.Answers.Enqueue((ProduceStatus.Refused, ErrorCode.MsgSizeTooLarge));
        Assert.True(Produce("too big"));
        Assert.Equal(1, _parts.Cell.Snapshot().DroppedTotal);

        _parts.Producer.Answers.Enqueue((ProduceStatus.Refused, ErrorCode.Local_MsgTimedOut));
        Assert.True(Produce("late"));
        Assert.Equal(1, _parts.Policy.SpoolUnread);
        _parts.Spool.Sync();
        Assert.True(_parts.Spool.TryReadNext(out var record, out _));
        Assert.Equal("late", System.Text.Encoding.UTF8.GetString(record!.Value));

        var ledger = _parts.Cell.Snapshot();
        Assert.Equal(1, ledger.PendingSpool);
        Assert.Equal(0, _parts.Memory.Events);
        Assert.True(ledger.Balances);
    }

    [Fact]
    public void AnEventARequestWaitsForSignalsItsWaiterWhenAcknowledged()
    {
        var waiter = new DeliveryWaiter();
        Assert.True(Produce("waited", waiter));
        Assert.Equal(1, _parts.Pending.Count);
        var (_, value, opaque) = _parts.Producer.Produced[0];
        Assert.True(opaque > 0);

        _parts.Reports.Handle([_parts.Deliveries.Make(opaque, ErrorCode.NoError, value)]);
        Assert.Equal(1, waiter.Delivered);
        Assert.Equal(0, _parts.Pending.Count);
        Assert.Equal(1, _parts.Cell.Snapshot().Published);
    }

    [Fact]
    public void AnAcknowledgementRestoresKafkasHealthAfterAllBrokersWereDown()
    {
        _parts.Kafka.OnError(new Error(ErrorCode.Local_AllBrokersDown, "down"));
        Assert.False(_parts.Health.IsHealthy);
        Assert.True(Produce("x"));
        _parts.Report(_parts.Producer.Produced[0].Opaque, ErrorCode.NoError);
        Assert.True(_parts.Health.IsHealthy);
    }
}
