using System.Collections.Concurrent;
using Pipeline.Kafka.Producing;

namespace Pipeline.Edge.Publishing;

/// <summary>A message handed to the producer that is found by its sequence when its report comes.</summary>
internal interface IPendingDelivery
{
    void Delivered(in Delivery delivery);
}

/// <summary>
/// The opaques messages carry to their delivery reports. A memory event nobody waits for carries
/// -1 - (its ledger cell's id) and keeps no managed state while in flight; everything else (spool records,
/// events a request waits for) carries a positive sequence under which it is registered here.
/// </summary>
internal sealed class PendingDeliveries
{
    private readonly ConcurrentDictionary<long, IPendingDelivery> _pending = new();
    private long _sequence;

    public static long MemoryOpaque(int cellId) => -1L - cellId;

    public static bool IsMemoryOpaque(long opaque) => opaque < 0;

    public static int CellOfMemoryOpaque(long opaque) => (int)(-1L - opaque);

    /// <summary>Messages registered and not yet reported.</summary>
    public int Count => _pending.Count;

    /// <summary>Registers a message about to be produced; returns its opaque.</summary>
    public long Add(IPendingDelivery delivery)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        _pending[sequence] = delivery;
        return sequence;
    }

    /// <summary>Takes the message out (its report came, or the producer did not take it); false if already taken.</summary>
    public bool TryTake(long sequence, out IPendingDelivery? delivery) => _pending.TryRemove(sequence, out delivery);

    public void Forget(long sequence) => _pending.TryRemove(sequence, out _);
}
