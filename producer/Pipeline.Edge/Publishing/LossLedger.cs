using System.Collections.Concurrent;

namespace Pipeline.Edge.Publishing;

/// <summary>Why an event that was received will never reach Kafka.</summary>
internal enum DropReason
{
    /// <summary>Sampling kept another event of its run instead (by configuration, not a loss).</summary>
    SampledOut = 0,
    /// <summary>Buffers were over the route's shedding threshold (low priority goes first).</summary>
    Shed = 1,
    /// <summary>Every buffer was full (UDP only; TCP pushes back and HTTP answers 503 instead).</summary>
    BufferFull = 2,
    /// <summary>Kafka refused the event for good (e.g. a topic it does not allow; size is checked before, as <see cref="TooLarge"/>).</summary>
    KafkaRejected = 3,
    /// <summary>Refused at ingest: larger than the listener accepts, or its envelope larger than the producer's message.max.bytes.</summary>
    TooLarge = 4,
    /// <summary>A datagram or frame that carried nothing (or only white space and NULs): nothing to publish.</summary>
    Empty = 5,
}

/// <summary>
/// The loss ledger of one listener and route. Every event is, at any moment, in exactly one place:
/// published (Kafka acknowledged it), pending in memory (handed to the producer), pending in the spool,
/// or dropped for a counted reason. Each transition moves counts within one stripe under that stripe's
/// lock, and keeps <c>received + recovered = published + pending(memory) + pending(spool) + dropped</c> true
/// for the stripe; so the sum over stripes, read stripe by stripe, balances in every scrape, not just when
/// traffic stops. Stripes (chosen by thread) keep receiving threads and the delivery thread from
/// contending for one lock.
/// </summary>
internal sealed class LedgerCell(int id, string listener, string route)
{
    private static readonly int ReasonCount = Enum.GetValues<DropReason>().Length;
    private static readonly int StripeCount = Math.Max(4, Environment.ProcessorCount * 2);

    private readonly Stripe[] _stripes = Enumerable.Range(0, StripeCount).Select(_ => new Stripe()).ToArray();

    /// <summary>The cell's number in its ledger (small, dense, stable for the process's life).</summary>
    public int Id { get; } = id;
    public string Listener { get; } = listener;
    public string Route { get; } = route;

    private Stripe Mine => _stripes[Environment.CurrentManagedThreadId % _stripes.Length];

    public void Parsed(bool failed)
    {
        if (!failed) return;
        var s = Mine;
        lock (s) s.ParseFailed++;
    }

    public void ReceivedAndDropped(DropReason reason)
    {
        var s = Mine;
        lock (s) { s.Received++; s.Dropped[(int)reason]++; }
    }

    public void ReceivedIntoMemory()
    {
        var s = Mine;
        lock (s) { s.Received++; s.PendingMemory++; }
    }

    /// <summary>Undoes <see cref="ReceivedIntoMemory"/> when the hand-over failed and the caller keeps the event.</summary>
    public void Retract()
    {
        var s = Mine;
        lock (s) { s.Received--; s.PendingMemory--; }
    }

    public void ReceivedIntoSpool(int count = 1)
    {
        var s = Mine;
        lock (s) { s.Received += count; s.PendingSpool += count; s.SpooledTotal += count; }
    }

    /// <summary>Records found in the spool at start-up, written by an earlier run.</summary>
    public void Recovered(int count)
    {
        var s = Mine;
        lock (s) { s.Recovered += count; s.PendingSpool += count; }
    }

    public void MemoryPublished(int count = 1)
    {
        var s = Mine;
        lock (s) { s.PendingMemory -= count; s.Published += count; }
    }

    public void MemoryToSpool()
    {
        var s = Mine;
        lock (s) { s.PendingMemory--; s.PendingSpool++; s.SpooledTotal++; }
    }

    public void MemoryDropped(DropReason reason)
    {
        var s = Mine;
        lock (s) { s.PendingMemory--; s.Dropped[(int)reason]++; }
    }

    public void SpoolPublished(int count = 1)
    {
        var s = Mine;
        lock (s) { s.PendingSpool -= count; s.Published += count; }
    }

    public void SpoolDropped(DropReason reason, int count = 1)
    {
        var s = Mine;
        lock (s) { s.PendingSpool -= count; s.Dropped[(int)reason] += count; }
    }

    /// <summary>The cell's labels on /metrics.</summary>
    public KeyValuePair<string, object?>[] Tags { get; } = [new("listener", listener), new("route", route)];

    public LedgerSnapshot Snapshot()
    {
        long received = 0, parseFailed = 0, recovered = 0, published = 0, pendingMemory = 0, pendingSpool = 0, spooled = 0;
        var dropped = new long[ReasonCount];
        foreach (var s in _stripes)
        {
            lock (s)
            {
                received += s.Received;
                parseFailed += s.ParseFailed;
                recovered += s.Recovered;
                published += s.Published;
                pendingMemory += s.PendingMemory;
                pendingSpool += s.PendingSpool;
                spooled += s.SpooledTotal;
                for (var i = 0; i < ReasonCount; i++) dropped[i] += s.Dropped[i];
            }
        }
        return new LedgerSnapshot(received, parseFailed, recovered, published, pendingMemory, pendingSpool, spooled, dropped);
    }

    /// <summary>One stripe's counts; a stripe's own pending counts may go negative (an event received on one thread, acknowledged on another), the sums never do.</summary>
    private sealed class Stripe
    {
        public readonly long[] Dropped = new long[ReasonCount];
        public long Received, ParseFailed, Recovered, Published, PendingMemory, PendingSpool, SpooledTotal;
    }
}

internal sealed record LedgerSnapshot(long Received, long ParseFailed, long Recovered, long Published, long PendingMemory,
    long PendingSpool, long SpooledTotal, long[] Dropped)
{
    public long DroppedTotal => Dropped.Sum();
    public bool Balances => Received + Recovered == Published + PendingMemory + PendingSpool + DroppedTotal;
}

/// <summary>All ledger cells of the edge, exposed on /metrics (see <see cref="EdgeMetrics.ObserveLedger"/>).</summary>
internal sealed class LossLedger
{
    /// <summary>The route label of what was counted before any route was chosen (refused or empty input).</summary>
    public const string Unrouted = "none";

    private readonly ConcurrentDictionary<(string Listener, string Route), LedgerCell> _cells = new();
    private readonly Lock _adding = new();
    // Cells by id, copied on write (cells are few and made once).
    private LedgerCell[] _byId = [];

    // What the calling thread asked for last and got: every event asks for its cell, a listener's events nearly
    // all take one route, and the names passed are the listener's and the route's own strings, so comparing
    // references answers most asks without hashing both names (which was ~3 % of a UDP processing thread).
    [ThreadStatic] private static LastAsked? t_last;

    public LossLedger(EdgeMetrics metrics) => metrics.ObserveLedger(Read);

    public LedgerCell Cell(string listener, string route)
    {
        var last = t_last ??= new LastAsked();
        if (ReferenceEquals(last.Ledger, this) && ReferenceEquals(last.Listener, listener) && ReferenceEquals(last.Route, route)) return last.Cell!;
        var cell = Lookup(listener, route);
        (last.Ledger, last.Listener, last.Route, last.Cell) = (this, listener, route, cell);
        return cell;
    }

    private sealed class LastAsked
    {
        public LossLedger? Ledger;
        public string? Listener;
        public string? Route;
        public LedgerCell? Cell;
    }

    private LedgerCell Lookup(string listener, string route)
    {
        if (_cells.TryGetValue((listener, route), out var cell)) return cell;
        lock (_adding)
        {
            if (_cells.TryGetValue((listener, route), out cell)) return cell;
            cell = new LedgerCell(_byId.Length, listener, route);
            Volatile.Write(ref _byId, [.. _byId, cell]);
            _cells[(listener, route)] = cell;
            return cell;
        }
    }

    /// <summary>The cell with this <see cref="LedgerCell.Id"/>.</summary>
    public LedgerCell this[int id] => Volatile.Read(ref _byId)[id];

    public IReadOnlyCollection<LedgerCell> Cells => _cells.Values.ToArray();

    /// <summary>Every cell at this moment (each cell's figures balance on their own, so the whole reading does).</summary>
    public IReadOnlyList<LedgerReading> Read() => Volatile.Read(ref _byId).Select(c => new LedgerReading(c.Tags, c.Snapshot())).ToArray();

    public static string ReasonLabel(DropReason reason) => reason switch
    {
        DropReason.SampledOut => "sampled_out",
        DropReason.Shed => "shed",
        DropReason.BufferFull => "buffer_full",
        DropReason.KafkaRejected => "kafka_rejected",
        DropReason.TooLarge => "too_large",
        DropReason.Empty => "empty",
        _ => "unknown",
    };
}
