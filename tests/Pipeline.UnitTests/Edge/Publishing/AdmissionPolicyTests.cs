using Microsoft.Extensions.Time.Testing;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Publishing.Spool;
using Pipeline.Edge.Routing;

namespace Pipeline.UnitTests.Edge.Publishing;

public sealed class AdmissionPolicyTests
{
    private readonly FakeTimeProvider _time = new();

    private (AdmissionPolicy Policy, MemoryBuffer Memory) Policy(int maxEvents = 2, long maxBytes = 1000, double noAckSeconds = 2)
    {
        var memory = new MemoryBuffer(new MemoryBufferOptions { MaxEvents = maxEvents, MaxBytes = maxBytes, SpoolAfterNoAckFor = TimeSpan.FromSeconds(noAckSeconds) }, _time);
        return (new AdmissionPolicy(memory, new SpoolOptions { ShedLowPriorityAt = 0.5, ReserveForHighPriorityAt = 0.9 }), memory);
    }

    [Fact]
    public void MemoryEventsGoToTheProducerWhileTheBufferHasRoomAndNothingOlderWaitsInTheSpool()
    {
        var (policy, memory) = Policy();
        Assert.Equal(MemoryAdmission.Produce, policy.ForMemory(senderWaits: false));
        memory.Enter(10);
        Assert.Equal(MemoryAdmission.Produce, policy.ForMemory(senderWaits: false));

        policy.SpoolAppended();
        Assert.Equal(MemoryAdmission.SpoolBehindOlder, policy.ForMemory(senderWaits: false));
        policy.SpoolRead();
        Assert.Equal(MemoryAdmission.Produce, policy.ForMemory(senderWaits: true));
    }

    [Fact]
    public void ASenderThatCanWaitWaitsForAShortSpoolBacklogToDrainButWritesBehindALongOneOrASilentKafka()
    {
        var (policy, memory) = Policy(maxEvents: 3);
        memory.Enter(10); // Kafka is taken to be acknowledging from the moment the buffer comes into use
        for (var i = 0; i < 3; i++) policy.SpoolAppended();
        // No more than the memory buffer holds: drained within milliseconds while Kafka acknowledges.
        Assert.Equal(MemoryAdmission.HoldBack, policy.ForMemory(senderWaits: true));
        Assert.Equal(Room.AfterWaiting, policy.RoomFor(RoutePriority.Normal, BufferMode.Memory, 0, senderWaits: true, 0, 100));
        Assert.Equal(MemoryAdmission.SpoolBehindOlder, policy.ForMemory(senderWaits: false));

        // A longer backlog (an outage's): the sender is not slowed, its events queue in the spool behind it.
        policy.SpoolAppended();
        Assert.Equal(MemoryAdmission.SpoolBehindOlder, policy.ForMemory(senderWaits: true));
        Assert.Equal(Room.Now, policy.RoomFor(RoutePriority.Normal, BufferMode.Memory, 0, senderWaits: true, 0, 100));

        // Short again, but Kafka silent: nothing to wait for.
        policy.SpoolRead();
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(MemoryAdmission.SpoolBehindOlder, policy.ForMemory(senderWaits: true));
        memory.Progress();
        Assert.Equal(MemoryAdmission.HoldBack, policy.ForMemory(senderWaits: true));

        // Drained: straight to the producer.
        for (var i = 0; i < 3; i++) policy.SpoolRead();
        Assert.Equal(MemoryAdmission.Produce, policy.ForMemory(senderWaits: true));
    }

    [Fact]
    public void AFullBufferHoldsBackASenderThatCanWaitWhileKafkaAcknowledgesAndSpoolsOnceKafkaIsSilent()
    {
        var (policy, memory) = Policy(maxEvents: 2);
        memory.Enter(10);
        memory.Enter(10);
        // A sender that cannot wait (UDP) overflows at once.
        Assert.Equal(MemoryAdmission.SpoolMemoryFull, policy.ForMemory(senderWaits: false));
        // The buffer came into use just now: Kafka is taken to be acknowledging.
        Assert.Equal(MemoryAdmission.HoldBack, policy.ForMemory(senderWaits: true));

        _time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.Equal(MemoryAdmission.HoldBack, policy.ForMemory(senderWaits: true));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(MemoryAdmission.SpoolMemoryFull, policy.ForMemory(senderWaits: true));

        // An acknowledgement: Kafka is only slow again, the sender is held back again.
        memory.Progress();
        Assert.Equal(MemoryAdmission.HoldBack, policy.ForMemory(senderWaits: true));
    }

    [Fact]
    public void ASenderThatCanWaitIsToldToWaitExactlyWhileItsEventWouldBeHeldBackAndNoRoomOnlyWhenTheSpoolIsFull()
    {
        var (policy, memory) = Policy(maxEvents: 1);
        Room RoomFor(BufferMode mode, long spoolBytes = 0) => policy.RoomFor(RoutePriority.Normal, mode, 0, senderWaits: true, spoolBytes, 100);
        Assert.Equal(Room.Now, RoomFor(BufferMode.Memory));
        memory.Enter(10);
        Assert.Equal(Room.AfterWaiting, RoomFor(BufferMode.Memory));
        Assert.Equal(Room.None, policy.RoomFor(RoutePriority.Normal, BufferMode.Memory, 0, senderWaits: false, 95, 100)); // cannot wait: the spool decides
        Assert.Equal(Room.Now, RoomFor(BufferMode.Disk)); // disk mode never holds back: every event is spooled
        Assert.Equal(Room.None, RoomFor(BufferMode.Disk, spoolBytes: 95));

        policy.SpoolAppended();
        // A short spool backlog with Kafka acknowledging: wait for it to drain, whatever the spool's fill.
        Assert.Equal(Room.AfterWaiting, RoomFor(BufferMode.Memory, spoolBytes: 95));
        policy.SpoolAppended();
        Assert.Equal(Room.None, RoomFor(BufferMode.Memory, spoolBytes: 95)); // a longer one: new events queue behind it, and the spool is full
        policy.SpoolRead();
        policy.SpoolRead();
        Assert.Equal(Room.AfterWaiting, RoomFor(BufferMode.Memory, spoolBytes: 95));

        _time.Advance(TimeSpan.FromSeconds(2));
        // Kafka silent: the spool takes it, or, full, the sender is told there is no room.
        Assert.Equal(Room.Now, RoomFor(BufferMode.Memory));
        Assert.Equal(Room.None, RoomFor(BufferMode.Memory, spoolBytes: 95));
        Assert.Equal(MemoryAdmission.SpoolMemoryFull, policy.ForMemory(senderWaits: true));
    }

    [Fact]
    public void TheSilenceBeforeSpoolingIsTheConfiguredOne()
    {
        var (policy, memory) = Policy(maxEvents: 1, noAckSeconds: 10);
        memory.Enter(10);
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(MemoryAdmission.HoldBack, policy.ForMemory(senderWaits: true));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(MemoryAdmission.SpoolMemoryFull, policy.ForMemory(senderWaits: true));
    }

    [Fact]
    public void TheBufferIsFullByBytesAsWellAsByEventsAndEmptiesAsEventsLeave()
    {
        var (policy, memory) = Policy(maxEvents: 100, maxBytes: 100);
        memory.Enter(60);
        Assert.False(memory.IsFull(0));
        Assert.True(memory.IsFull(40));
        memory.Enter(40);
        Assert.Equal(MemoryAdmission.SpoolMemoryFull, policy.ForMemory(senderWaits: false));
        memory.Leave(2, 100);
        Assert.Equal(0, memory.Events);
        Assert.Equal(MemoryAdmission.Produce, policy.ForMemory(senderWaits: false));
    }

    [Theory]
    [InlineData(RoutePriority.Low, 0.49, "Append")]
    [InlineData(RoutePriority.Low, 0.5, "Shed")]
    [InlineData(RoutePriority.Normal, 0.5, "Append")]
    [InlineData(RoutePriority.Normal, 0.89, "Append")]
    [InlineData(RoutePriority.Normal, 0.9, "Full")]
    [InlineData(RoutePriority.High, 0.99, "Append")]
    [InlineData(RoutePriority.High, 1.0, "Full")]
    public void TheSpoolShedsLowPriorityFirstThenRefusesNormalAndKeepsTheLastRoomForHigh(RoutePriority priority, double fill, string expected) =>
        Assert.Equal(Enum.Parse<SpoolAdmission>(expected), Policy().Policy.ForSpool(priority, fill));

    [Fact]
    public void HasRoomAnswersAsPublishingWould()
    {
        var (policy, memory) = Policy(maxEvents: 1);
        Assert.True(policy.HasRoom(RoutePriority.Normal, BufferMode.Memory, 10, senderWaits: true, spoolBytes: 950, spoolMaxBytes: 1000));
        memory.Enter(10);
        // Memory full, Kafka acknowledging: a waiting sender has no room even though the spool has.
        Assert.False(policy.HasRoom(RoutePriority.Normal, BufferMode.Memory, 10, senderWaits: true, spoolBytes: 0, spoolMaxBytes: 1000));
        // One that cannot wait would go to the spool: room there by its priority.
        Assert.True(policy.HasRoom(RoutePriority.Normal, BufferMode.Memory, 10, senderWaits: false, spoolBytes: 0, spoolMaxBytes: 1000));
        Assert.False(policy.HasRoom(RoutePriority.Normal, BufferMode.Memory, 10, senderWaits: false, spoolBytes: 890, spoolMaxBytes: 1000));
        Assert.True(policy.HasRoom(RoutePriority.High, BufferMode.Memory, 10, senderWaits: false, spoolBytes: 980, spoolMaxBytes: 1000));
        Assert.False(policy.HasRoom(RoutePriority.High, BufferMode.Memory, 30, senderWaits: false, spoolBytes: 980, spoolMaxBytes: 1000));
        // Disk mode goes by the spool alone.
        Assert.True(policy.HasRoom(RoutePriority.Low, BufferMode.Disk, 10, senderWaits: true, spoolBytes: 100, spoolMaxBytes: 1000));
        Assert.False(policy.HasRoom(RoutePriority.Low, BufferMode.Disk, 10, senderWaits: true, spoolBytes: 495, spoolMaxBytes: 1000));
    }

    [Fact]
    public void OptionsOutOfRangeAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new MemoryBufferOptions { SpoolAfterNoAckFor = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentException>(() => new MemoryBufferOptions { MaxEvents = 0 }.Validate());
        new MemoryBufferOptions().Validate();
    }
}
