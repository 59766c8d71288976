using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Publishing.Spool;

namespace Pipeline.UnitTests.Edge.Publishing;

public sealed class SpoolSyncerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("syncer-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void EveryTickFsyncsAndACheckpointIsWrittenAtMostOncePerInterval()
    {
        var time = new FakeTimeProvider();
        using var spool = new SpoolLog(new SpoolOptions { Directory = _directory });
        var syncer = new SpoolSyncer(spool, TimeSpan.FromMilliseconds(10), time, NullLogger.Instance);
        Assert.True(spool.TryAppend(new SpoolEntry("l", "r", "t", default, false, "one"u8), out var position));

        syncer.Tick();
        Assert.Equal(1, spool.Synced);
        Assert.Equal(0, syncer.Checkpoints);

        spool.TryReadNext(out _, out _);
        spool.Acknowledge(position);
        time.Advance(SpoolSyncer.CheckpointEvery - TimeSpan.FromMilliseconds(1));
        syncer.Tick();
        Assert.Equal(0, syncer.Checkpoints);
        time.Advance(TimeSpan.FromMilliseconds(1));
        syncer.Tick();
        Assert.Equal(1, syncer.Checkpoints);
        syncer.Tick();
        Assert.Equal(1, syncer.Checkpoints);
    }

    [Fact]
    public void ATickSaysWhetherItWroteRecordsSoThatTheDrainerIsWokenOnlyThen()
    {
        var time = new FakeTimeProvider();
        using var spool = new SpoolLog(new SpoolOptions { Directory = _directory });
        var syncer = new SpoolSyncer(spool, TimeSpan.FromMilliseconds(10), time, NullLogger.Instance);
        Assert.False(spool.HasUnsynced);
        Assert.False(syncer.Tick());

        Assert.True(spool.TryAppend(new SpoolEntry("l", "r", "t", default, false, "one"u8), out _));
        Assert.True(spool.HasUnsynced);
        Assert.True(syncer.Tick());
        Assert.False(spool.HasUnsynced);
        Assert.False(syncer.Tick());
    }
}
