using Confluent.Kafka;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Publishing.Spool;
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

    [Fact]
    public void AnIdleDrainerSleepsUntilWokenExceptForAFullProducerQueue()
    {
        Assert.Equal(SpoolDrainer.QueueFullRetry, _parts.Drainer.WaitAfter(Step.QueueFull));
        Assert.Equal(SpoolDrainer.IdleWait, _parts.Drainer.WaitAfter(Step.Empty));
        Assert.Equal(SpoolDrainer.IdleWait, _parts.Drainer.WaitAfter(Step.WindowFull));
        Assert.True(SpoolDrainer.IdleWait >= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void WithNoTimerAtAllAnAppendWakesTheSyncerWhichWakesTheDrainerOnceTheRecordIsWritten()
    {
        // Both threads sleep without end unless woken: a record reaching the producer shows that the wakes alone carry it.
        using var parts = new PublishingParts(drainerIdleWait: Timeout.InfiniteTimeSpan);
        var syncer = new SpoolSyncer(parts.Spool, TimeSpan.FromMilliseconds(10), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, parts.Drainer.Wake, idleWait: Timeout.InfiniteTimeSpan);
        parts.Drainer.Start();
        syncer.Start();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                // Appended as the memory path does when Kafka cannot take an event: no one tells the drainer.
                Assert.True(parts.Spool.TryAppend(new SpoolEntry(parts.Cell.Listener, parts.Cell.Route, "syslog", default, false,
                    System.Text.Encoding.UTF8.GetBytes("r" + i)), out _));
                var produced = i + 1;
                Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref parts.Producer.ProducedCount) == produced, TimeSpan.FromSeconds(30)),
                    $"record {i} not produced: the append or the write did not wake the threads");
                Assert.False(parts.Spool.HasUnsynced);
            }
            Assert.Equal("r2", parts.Value(2));
        }
        finally
        {
            syncer.Stop(TimeSpan.FromSeconds(5));
            parts.Drainer.Stop(TimeSpan.FromSeconds(5));
        }
    }
}
