namespace Pipeline.Core.Metrics;

/// <summary>
/// Hands the observable instruments of one group the same reading within one collection, so that figures
/// that must add up across instruments (the edge's loss ledger) are read together and add up in every scrape.
/// A collection calls each enabled instrument's callback once, one after another on the collecting thread;
/// the first call of each round on a thread takes a new reading and the other members of the group reuse it,
/// whatever order they are called in. Collections that run at the same time (a Prometheus scrape and an OTLP
/// export, each on a MeterProvider of its own) run on different threads and so keep separate rounds.
/// Every member must be enabled by every listener that collects (the pipeline's providers enable whole meters).
/// </summary>
public sealed class SnapshotRound<T>(Func<T> take) where T : class
{
    private readonly ThreadLocal<Round> _rounds = new(static () => new Round());
    private int _members;

    /// <summary>Adds an instrument to the group; it gets its reading from the function returned. Join them all before collecting.</summary>
    public Func<T> Join()
    {
        Interlocked.Increment(ref _members);
        return Current;
    }

    /// <summary>As <see cref="Join"/>, for a <see cref="GaugeFamily"/>'s refresh: the reading is taken (once per round) for its side effects.</summary>
    public Action JoinRefresh()
    {
        var reading = Join();
        return () => reading();
    }

    private T Current()
    {
        var round = _rounds.Value!;
        if (round.Reading is null || round.Calls % Volatile.Read(ref _members) == 0) round.Reading = take();
        round.Calls++;
        return round.Reading;
    }

    private sealed class Round
    {
        public long Calls;
        public T? Reading;
    }
}
