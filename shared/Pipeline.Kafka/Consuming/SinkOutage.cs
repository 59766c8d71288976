namespace Pipeline.Kafka.Consuming;

/// <summary>
/// Whether the sink is failing, as a small state machine on the runtime's clock:
/// <c>Writing</c> —a write fails→ <c>Paused</c> (retry after the initial backoff) —a retry fails→ <c>Paused</c>
/// (the backoff doubled, up to its cap) —a write succeeds→ <c>Writing</c> (backoff reset). While paused every
/// assigned partition is paused too, so records do not pile up in memory and nothing is skipped; the caller
/// pauses and resumes the client on the transitions reported here. Used by the poll thread only.
/// </summary>
internal sealed class SinkOutage(ConsumerOptions options, TimeProvider time)
{
    /// <summary>While paused, how often the brokers are asked for end offsets (paused partitions are not fetched).</summary>
    public static readonly TimeSpan WatermarksInterval = TimeSpan.FromSeconds(5);

    private readonly Backoff _backoff = new(options.RetryInitialBackoff, options.RetryMaxBackoff);
    private DateTimeOffset _watermarksAt;

    public bool Paused { get; private set; }

    /// <summary>When the next write may be tried (meaningful while paused).</summary>
    public DateTimeOffset RetryAt { get; private set; }

    /// <summary>Failed attempts since the last success.</summary>
    public int Attempts => _backoff.Attempts;

    public bool RetryDue => Paused && time.GetUtcNow() >= RetryAt;

    /// <summary>A write failed: the wait before the next try, and whether this failure started the pause.</summary>
    public (TimeSpan Delay, bool Started) Failed()
    {
        var delay = _backoff.NextDelay();
        RetryAt = time.GetUtcNow() + delay;
        var started = !Paused;
        Paused = true;
        return (delay, started);
    }

    /// <summary>A write succeeded: true when that ended a pause (the caller resumes the partitions).</summary>
    public bool Succeeded()
    {
        var ended = Paused;
        Paused = false;
        _backoff.Reset();
        return ended;
    }

    /// <summary>The member holds no partition any more: nothing is paused, and the next failure starts afresh.</summary>
    public void Reset() => Succeeded();

    /// <summary>True, at most once per <see cref="WatermarksInterval"/>, while paused: time to ask the brokers for end offsets.</summary>
    public bool WatermarksDue()
    {
        var now = time.GetUtcNow();
        if (!Paused || now < _watermarksAt) return false;
        _watermarksAt = now + WatermarksInterval;
        return true;
    }
}
