using Microsoft.Extensions.Time.Testing;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Kafka;

public sealed class KafkaCommitScheduleTests
{
    private static readonly PartitionKey P0 = new("syslog", 0);
    private static readonly PartitionKey P1 = new("syslog", 1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void TheFirstWriteAfterAQuietSpellIsCommittedAtOnce()
    {
        var schedule = new KafkaCommitSchedule(_time, TimeSpan.FromSeconds(1));
        Assert.False(schedule.IsDue);
        schedule.Written(Offsets((P0, 10)));
        Assert.True(schedule.IsDue);
        Assert.Equal([new(P0, 10)], Commit(schedule));
        Assert.False(schedule.IsDue);
        Assert.Equal(0, schedule.Pending);
    }

    [Fact]
    public void WritesSoonAfterACommitAreCommittedOneIntervalLaterWithoutAnotherWrite()
    {
        var schedule = new KafkaCommitSchedule(_time, TimeSpan.FromSeconds(1));
        schedule.Written(Offsets((P0, 10)));
        Commit(schedule);

        _time.Advance(TimeSpan.FromMilliseconds(200));
        schedule.Written(Offsets((P0, 25), (P1, 4)));
        _time.Advance(TimeSpan.FromMilliseconds(300));
        schedule.Written(Offsets((P0, 40)));
        // The stream goes quiet here: no write comes to trigger the commit, the clock does.
        _time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(schedule.IsDue);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(schedule.IsDue);
        Assert.Equal([new(P0, 40), new(P1, 4)], Commit(schedule).OrderBy(c => c.Key.Partition));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(schedule.IsDue);
    }

    [Fact]
    public void AnIntervalOfZeroCommitsAfterEveryWriteAsAnAtLeastOnceSinkNeeds()
    {
        var schedule = new KafkaCommitSchedule(_time, TimeSpan.Zero);
        for (var offset = 1; offset <= 3; offset++)
        {
            schedule.Written(Offsets((P0, offset)));
            Assert.True(schedule.IsDue);
            Assert.Equal([new(P0, offset)], Commit(schedule));
        }
    }

    [Fact]
    public void AFailedCommitKeepsEveryPositionAndIsTriedAgainAfterTheRetryDelay()
    {
        var schedule = new KafkaCommitSchedule(_time, TimeSpan.Zero);
        schedule.Written(Offsets((P0, 10)));
        schedule.Take();
        schedule.Failed();
        Assert.Equal(1, schedule.Pending);
        Assert.False(schedule.IsDue);
        _time.Advance(KafkaCommitSchedule.RetryDelay);
        Assert.True(schedule.IsDue);
        Assert.Equal([new(P0, 10)], Commit(schedule));
    }

    [Fact]
    public void APositionWrittenWhileACommitIsOnItsWayStaysPendingAndNoneGoesBackwards()
    {
        var schedule = new KafkaCommitSchedule(_time, TimeSpan.FromSeconds(1));
        schedule.Written(Offsets((P0, 10)));
        var taken = schedule.Take();
        schedule.Written(Offsets((P0, 20)));
        schedule.Committed(taken);
        Assert.Equal(1, schedule.Pending);
        // An older position arriving late never replaces a newer one.
        schedule.Written(Offsets((P0, 15)));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([new(P0, 20)], Commit(schedule));
    }

    [Fact]
    public void RevokeAndShutdownTakeWhatIsPendingBeforeItIsDueAndForgottenPartitionsAreNotCommitted()
    {
        var schedule = new KafkaCommitSchedule(_time, TimeSpan.FromSeconds(1));
        schedule.Written(Offsets((P0, 10)));
        Commit(schedule);
        schedule.Written(Offsets((P0, 12), (P1, 7)));
        Assert.False(schedule.IsDue);
        schedule.Forget([P1]);
        Assert.Equal([new(P0, 12)], Commit(schedule));
    }

    private static Dictionary<PartitionKey, long> Offsets(params (PartitionKey Key, long Offset)[] offsets) => offsets.ToDictionary(o => o.Key, o => o.Offset);

    private static IReadOnlyList<KeyValuePair<PartitionKey, long>> Commit(KafkaCommitSchedule schedule)
    {
        var taken = schedule.Take();
        schedule.Committed(taken);
        return taken;
    }
}
