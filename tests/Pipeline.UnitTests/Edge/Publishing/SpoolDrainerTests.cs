using Confluent.Kafka;
using Pipeline.Edge.Publishing;
using Pipeline.Kafka.Producing;
using Pipeline.UnitTests.Support;
using Step = Pipeline.Edge.Publishing.SpoolDrainer.StepResult;

namespace Pipeline.UnitTests.Edge.Publishing;

public sealed class SpoolDrainerTests : IDisposable
{
    private readonly PublishingParts _parts = new(drainWindow: 2);

    public void Dispose() => _parts.Dispose();

    [Fact]
    public void RecordsAreProducedInSpoolOrderAndLeaveTheSpoolOnlyWhenKafkaAcknowledges()
    {
        _parts.Append("a");
        _parts.Append("b");
        Assert.Equal(Step.Produced, _parts.Drainer.Step());
        Assert.Equal(Step.Produced, _parts.Drainer.Step());
        Assert.Equal(["a", "b"], [_parts.Value(0), _parts.Value(1)]);
        Assert.Equal(0, _parts.Policy.SpoolUnread);
        Assert.Equal(2, _parts.Spool.Unacknowledged);

        _parts.Report(_parts.Producer.Produced[0].Opaque, ErrorCode.NoError);
        _parts.Report(_parts.Producer.Produced[1].Opaque, ErrorCode.NoError);
        Assert.Equal(0, _parts.Spool.Unacknowledged);
        Assert.Equal(0, _parts.Drainer.InFlight);
        var ledger = _parts.Cell.Snapshot();
        Assert.Equal(2, ledger.Published);
        Assert.Equal(0, ledger.PendingSpool);
        Assert.True(ledger.Balances);
    }

    [Fact]
    public void NoMoreThanTheWindowIsInFlight()
    {
        for (var i = 0; i < 3; i++) _parts.Append("r" + i);
        Assert.Equal(Step.Produced, _parts.Drainer.Step());
        Assert.Equal(Step.Produced, _parts.Drainer.Step());
        Assert.Equal(Step.WindowFull, _parts.Drainer.Step());
        _parts.Report(_parts.Producer.Produced[0].Opaque, ErrorCode.NoError);
        Assert.Equal(Step.Produced, _parts.Drainer.Step());
        Assert.Equal("r2", _parts.Value(2));
        Assert.Equal(Step.WindowFull, _parts.Drainer.Step());
    }

    [Fact]
    public void ARecordTheProducerCouldNotQueueIsTheNextOneProduced()
    {
        _parts.Append("first");
        _parts.Append("second");
        _parts.Producer.Answers.Enqueue((ProduceStatus.QueueFull, ErrorCode.Local_QueueFull));
        Assert.Equal(Step.QueueFull, _parts.Drainer.Step());
        Assert.Equal(0, _parts.Drainer.InFlight);
        Assert.Equal(Step.Produced, _parts.Drainer.Step());
        Assert.Equal("first", _parts.Value(0));
        Assert.Equal(1, _parts.Pending.Count);
    }

    [Fact]
    public void AFailureARetryMayFixIsProducedAgainBeforeLaterRecords()
    {
        _parts.Append("late");
        _parts.Append("next");
        Assert.Equal(Step.Produced, _parts.Drainer.Step());
        _parts.Report(_parts.Producer.Produced[0].Opaque, ErrorCode.Local_MsgTimedOut);
        Assert.Equal(0, _parts.Drainer.InFlight);
        Assert.Equal(Step.Produced, _parts.Drainer.Step());
        Assert.Equal("late", _parts.Value(1));
        Assert.Equal(Step.Produced, _parts.Drainer.Step());
        Assert.Equal("next", _parts.Value(2));
        Assert.Equal(2, _parts.Spool.Unacknowledged);
        Assert.Equal(0, _parts.Cell.Snapshot().Published);
    }

    [Fact]
    public void ARecordKafkaRefusesForGoodLeavesTheSpoolCountedAsRejectedAndItsWaiterIsTold()
    {
        var waiter = new DeliveryWaiter();
        Assert.True(_parts.Spool.TryAppend(new Pipeline.Edge.Publishing.Spool.SpoolEntry("syslog-tcp", "default", "syslog", default, false, "big"u8), out var position));
        _parts.Cell.ReceivedIntoSpool();
        _parts.Policy.SpoolAppended();
        _parts.Spool.Sync();
        _parts.Drainer.WaitFor(position, waiter);
        _parts.Producer.Answers.Enqueue((ProduceStatus.Refused, ErrorCode.MsgSizeTooLarge));

        Assert.Equal(Step.Produced, _parts.Drainer.Step());
        Assert.Equal(0, _parts.Spool.Unacknowledged);
        Assert.Equal(1, waiter.Failed);
        var ledger = _parts.Cell.Snapshot();
        Assert.Equal(1, ledger.DroppedTotal);
        Assert.True(ledger.Balances);
    }
}
