using Pipeline.Edge.Publishing.Spool;
using Pipeline.Edge.Routing;

namespace Pipeline.Edge.Publishing;

/// <summary>Where a memory-mode event goes.</summary>
internal enum MemoryAdmission
{
    /// <summary>Straight to the producer.</summary>
    Produce,
    /// <summary>To the spool: older events wait there, and order is kept.</summary>
    SpoolBehindOlder,
    /// <summary>To the spool: the memory buffer is full and Kafka has been silent (or the sender cannot wait).</summary>
    SpoolMemoryFull,
    /// <summary>Nowhere yet: the memory buffer is full but Kafka is acknowledging; the sender waits and offers it again.</summary>
    HoldBack,
}

/// <summary>Whether an event would be taken now.</summary>
internal enum Room
{
    Now,
    /// <summary>Not now, but its sender can wait: the memory buffer is full, or a short spool backlog drains, and Kafka acknowledges.</summary>
    AfterWaiting,
    /// <summary>None: waiting would not help (the spool is full for its priority).</summary>
    None,
}

/// <summary>Whether the spool takes an event of a given priority.</summary>
internal enum SpoolAdmission
{
    Append,
    /// <summary>Dropped on purpose: low priority while the spool is filling.</summary>
    Shed,
    /// <summary>No room for this priority.</summary>
    Full,
}

/// <summary>
/// The edge's admission and shedding rules, in one place and free of I/O: given what the memory buffer holds,
/// whether Kafka is acknowledging, how many spooled events wait and how full the spool is, where an event goes.
/// <list type="bullet">
/// <item>Memory mode goes straight to the producer while nothing older waits in the spool and the buffer has room;
/// a sender that can wait waits for a short spool backlog to drain rather than write behind it.</item>
/// <item>A full buffer holds back a sender that can wait while Kafka still acknowledges (the disk would add cost
/// and fill without helping); once Kafka has been silent for <see cref="MemoryBufferOptions.SpoolAfterNoAckFor"/>,
/// the spool is what keeps senders going through the outage.</item>
/// <item>The spool sheds low-priority routes from <see cref="SpoolOptions.ShedLowPriorityAt"/>, refuses normal ones
/// from <see cref="SpoolOptions.ReserveForHighPriorityAt"/>, and gives high-priority routes the last room.</item>
/// </list>
/// </summary>
internal sealed class AdmissionPolicy(MemoryBuffer memory, SpoolOptions spool)
{
    private long _spoolUnread;

    public MemoryBuffer Memory { get; } = memory;

    /// <summary>Events in the spool not yet read by the drainer (memory-mode events queue behind them).</summary>
    public long SpoolUnread => Interlocked.Read(ref _spoolUnread);

    /// <summary>Records found in the spool at start-up: memory-mode events queue behind them too.</summary>
    public void SpoolRecovered(long records) => Interlocked.Add(ref _spoolUnread, records);

    public void SpoolAppended() => Interlocked.Increment(ref _spoolUnread);

    public void SpoolRead() => Interlocked.Decrement(ref _spoolUnread);

    /// <summary>Where a memory-mode event goes; <paramref name="senderWaits"/>: its sender can be held back and offer it again.</summary>
    public MemoryAdmission ForMemory(bool senderWaits)
    {
        if (SpoolUnread > 0) return WaitsBehindSpool(senderWaits) ? MemoryAdmission.HoldBack : MemoryAdmission.SpoolBehindOlder;
        if (!Memory.IsFull(0)) return MemoryAdmission.Produce;
        return HoldBack(senderWaits) ? MemoryAdmission.HoldBack : MemoryAdmission.SpoolMemoryFull;
    }

    /// <summary>Whether the spool, <paramref name="fill"/> full (0–1), takes an event of <paramref name="priority"/>.</summary>
    public SpoolAdmission ForSpool(RoutePriority priority, double fill)
    {
        if (priority == RoutePriority.Low && fill >= spool.ShedLowPriorityAt) return SpoolAdmission.Shed;
        return fill >= Threshold(priority) ? SpoolAdmission.Full : SpoolAdmission.Append;
    }

    /// <summary>
    /// Whether an event of this priority and <paramref name="bytes"/> would be taken now, the spool holding
    /// <paramref name="spoolBytes"/> of <paramref name="spoolMaxBytes"/> (TCP waits for this; HTTP checks it before a batch).
    /// </summary>
    public bool HasRoom(RoutePriority priority, BufferMode mode, long bytes, bool senderWaits, long spoolBytes, long spoolMaxBytes) =>
        RoomFor(priority, mode, bytes, senderWaits, spoolBytes, spoolMaxBytes) == Room.Now;

    /// <summary>As <see cref="HasRoom"/>, telling a wait that ends (<see cref="Room.AfterWaiting"/>) from no room; one reading of each figure, so the answer is consistent.</summary>
    public Room RoomFor(RoutePriority priority, BufferMode mode, long bytes, bool senderWaits, long spoolBytes, long spoolMaxBytes)
    {
        if (mode == BufferMode.Memory)
        {
            if (SpoolUnread == 0)
            {
                if (!Memory.IsFull(bytes)) return Room.Now;
                if (HoldBack(senderWaits)) return Room.AfterWaiting;
            }
            else if (WaitsBehindSpool(senderWaits))
            {
                return Room.AfterWaiting;
            }
        }
        var after = spoolBytes + bytes;
        return after < spoolMaxBytes && (double)after / spoolMaxBytes < Threshold(priority) ? Room.Now : Room.None;
    }

    private bool HoldBack(bool senderWaits) => senderWaits && Memory.KafkaAcknowledging;

    /// <summary>
    /// A sender that can wait waits for a short spool backlog to drain (no more than the memory buffer holds, while Kafka
    /// acknowledges: milliseconds) instead of writing behind it; one moment's overflow then costs a pause, not a detour of
    /// everything after it through the disk. Behind a long backlog (after an outage) it is not slowed: its events queue in
    /// the spool.
    /// </summary>
    private bool WaitsBehindSpool(bool senderWaits) => HoldBack(senderWaits) && SpoolUnread <= Memory.MaxEvents;

    /// <summary>Spool fill from which a priority is refused.</summary>
    private double Threshold(RoutePriority priority) => priority switch
    {
        RoutePriority.High => 1.0,
        RoutePriority.Normal => spool.ReserveForHighPriorityAt,
        _ => spool.ShedLowPriorityAt,
    };
}
