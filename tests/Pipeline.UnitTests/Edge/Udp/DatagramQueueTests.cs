using System.Text;
using Pipeline.Edge.Sources.Syslog.Udp;

namespace Pipeline.UnitTests.Edge.Udp;

public sealed class DatagramQueueTests
{
    [Fact]
    public void ASlabGivesBackEachDatagramWithItsSenderInTheOrderAppended()
    {
        var slab = new DatagramSlab(4096);
        var senders = new[] { new byte[] { 2, 0, 1, 2, 127, 0, 0, 1 }, new byte[28], Array.Empty<byte>() };
        senders[1][0] = 10;
        var datagrams = new[] { "<13>one", "", new string('x', 1000) };
        for (var i = 0; i < 3; i++) slab.Append(senders[i], Encoding.ASCII.GetBytes(datagrams[i]));

        var reader = slab.Read();
        var seen = new List<(byte[] Sender, string Datagram)>();
        while (reader.MoveNext()) seen.Add((reader.Sender.ToArray(), Encoding.ASCII.GetString(reader.Datagram)));

        Assert.Equal(3, slab.Count);
        Assert.Equal(datagrams, seen.Select(s => s.Datagram));
        Assert.Equal(senders, seen.Select(s => s.Sender));
    }

    [Fact]
    public void ASlabSaysWhenTheNextDatagramNoLongerFitsAndIsEmptyAfterClear()
    {
        var slab = new DatagramSlab(DatagramSlab.RoomFor(16, 100) * 2);
        Assert.True(slab.HasRoom(16, 100));
        slab.Append(new byte[16], new byte[100]);
        Assert.True(slab.HasRoom(16, 100));
        slab.Append(new byte[16], new byte[100]);
        Assert.False(slab.HasRoom(16, 0));

        slab.Clear();
        Assert.Equal(0, slab.Count);
        Assert.False(slab.Read().MoveNext());
        Assert.True(slab.HasRoom(16, 100));
    }

    [Fact]
    public void NoMoreSlabsThanTheLimitAllowsAreHandedOutUntilOneComesBack()
    {
        using var queue = new DatagramQueue(limitBytes: 3 * 1024, slabBytes: 1024);
        var slabs = Enumerable.Range(0, 3).Select(_ => queue.Rent(TimeSpan.Zero)).ToList();
        Assert.All(slabs, Assert.NotNull);
        Assert.Null(queue.Rent(TimeSpan.FromMilliseconds(50)));

        slabs[0]!.Append(new byte[16], new byte[10]);
        queue.Enqueue(slabs[0]!);
        Assert.Equal(1, queue.QueuedDatagrams);
        Assert.True(queue.TryTake(out var taken));
        Assert.Same(slabs[0], taken);
        queue.Return(taken);
        Assert.Equal(0, queue.QueuedDatagrams);
        var again = queue.Rent(TimeSpan.Zero);
        Assert.Same(slabs[0], again);
        Assert.Equal(0, again!.Count);
    }

    [Fact]
    public void AfterCompleteTheQueuedSlabsAreStillTakenInOrderAndThenTakingEnds()
    {
        using var queue = new DatagramQueue(limitBytes: 8 * 1024, slabBytes: 1024);
        var first = queue.Rent(TimeSpan.Zero)!;
        first.Append([], [1]);
        var second = queue.Rent(TimeSpan.Zero)!;
        second.Append([], [2]);
        queue.Enqueue(first);
        queue.Enqueue(second);
        queue.Complete();

        Assert.True(queue.TryTake(out var a));
        Assert.True(queue.TryTake(out var b));
        Assert.Same(first, a);
        Assert.Same(second, b);
        Assert.False(queue.TryTake(out _));
    }

    [Fact]
    public async Task AProcessingThreadWaitingForASlabGetsTheNextOneEnqueuedAndStopsOnComplete()
    {
        using var queue = new DatagramQueue(limitBytes: 8 * 1024, slabBytes: 1024);
        var taking = Task.Factory.StartNew(() => queue.TryTake(out var slab) ? slab : null, TaskCreationOptions.LongRunning);
        var filled = queue.Rent(TimeSpan.Zero)!;
        filled.Append([], [7]);

        queue.Enqueue(filled);

        Assert.Same(filled, await taking.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, queue.WaitingSlabs);
        var ending = Task.Factory.StartNew(() => queue.TryTake(out _), TaskCreationOptions.LongRunning);
        queue.Complete();
        Assert.False(await ending.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task AReceiverWaitingForRoomGetsTheSlabReturnedWhileItWaits()
    {
        using var queue = new DatagramQueue(limitBytes: 2 * 1024, slabBytes: 1024);
        var first = queue.Rent(TimeSpan.Zero)!;
        Assert.NotNull(queue.Rent(TimeSpan.Zero));
        var renting = Task.Factory.StartNew(() => queue.Rent(TimeSpan.FromSeconds(30)), TaskCreationOptions.LongRunning);

        queue.Return(first);

        Assert.Same(first, await renting.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
