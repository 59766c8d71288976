using Pipeline.Core.Metrics;

namespace Pipeline.UnitTests.Core;

public sealed class SnapshotRoundTests
{
    [Fact]
    public void EveryMemberGetsTheSameReadingWithinOneCollectionWhateverOrderTheyAreCalledIn()
    {
        var taken = 0;
        var round = new SnapshotRound<object>(() => Interlocked.Increment(ref taken));
        var a = round.Join();
        var b = round.Join();
        var c = round.Join();

        var first = new[] { a(), b(), c() };
        var second = new[] { c(), a(), b() };
        var third = new[] { b(), c(), a() };

        Assert.All(first, r => Assert.Equal(1, r));
        Assert.All(second, r => Assert.Equal(2, r));
        Assert.All(third, r => Assert.Equal(3, r));
        Assert.Equal(3, taken);
    }

    [Fact]
    public async Task CollectionsOnTwoThreadsAtOnceKeepARoundEach()
    {
        var taken = 0;
        var round = new SnapshotRound<object>(() => Interlocked.Increment(ref taken));
        var a = round.Join();
        var b = round.Join();
        using var halfway = new ManualResetEventSlim();
        using var otherDone = new ManualResetEventSlim();

        // One collection reads the first member, another collection (a thread of its own) reads both, then the
        // first reads its second member: it still gets its own reading, not the other's.
        var first = Task.Run(() =>
        {
            var x = a();
            halfway.Set();
            otherDone.Wait();
            return (x, b());
        });
        halfway.Wait();
        var other = await Task.Run(() => (a(), b()));
        otherDone.Set();
        var (firstA, firstB) = await first;

        Assert.Equal(firstA, firstB);
        Assert.Equal(other.Item1, other.Item2);
        Assert.NotEqual(firstA, other.Item1);
    }
}
