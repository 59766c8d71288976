namespace Pipeline.Kafka.Consuming;

/// <summary>Capped exponential backoff: initial, doubling, never above the cap; reset on success.</summary>
public sealed class Backoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _cap;
    private TimeSpan _next;

    public Backoff(TimeSpan initial, TimeSpan cap)
    {
        _initial = initial;
        _cap = cap;
        _next = initial;
    }

    /// <summary>Failures since the last success.</summary>
    public int Attempts { get; private set; }

    /// <summary>The wait before the next attempt; each call doubles the one after, up to the cap.</summary>
    public TimeSpan NextDelay()
    {
        var delay = _next;
        Attempts++;
        var doubled = _next * 2;
        _next = doubled > _cap ? _cap : doubled;
        return delay;
    }

    public void Reset()
    {
        _next = _initial;
        Attempts = 0;
    }
}
