using System.Globalization;
using Confluent.Kafka;

namespace Pipeline.Ops.Replay;

/// <summary>
/// How far a replay is: events done and left from the backfill group's positions against the ranges, the
/// rate over the last samples, and the time left at that rate.
/// </summary>
internal sealed class ReplayProgress(IReadOnlyDictionary<TopicPartition, (long Start, long End)> ranges)
{
    private const int Window = 5;
    private readonly Queue<(DateTimeOffset At, long Done)> _samples = new();

    public long Total { get; } = ranges.Values.Sum(r => r.End - r.Start);

    public long Done { get; private set; }

    public long Remaining => Total - Done;

    /// <summary>Events per second over the last few samples (0 until there are two).</summary>
    public double Rate { get; private set; }

    public bool Complete => Done >= Total;

    /// <summary>Takes the group's positions now (absent: nothing written yet).</summary>
    public void Observe(DateTimeOffset at, IReadOnlyDictionary<TopicPartition, long> positions)
    {
        Done = ranges.Sum(r => positions.TryGetValue(r.Key, out var p) ? Math.Clamp(p - r.Value.Start, 0, r.Value.End - r.Value.Start) : 0);
        _samples.Enqueue((at, Done));
        while (_samples.Count > Window) _samples.Dequeue();
        var (firstAt, firstDone) = _samples.Peek();
        var seconds = (at - firstAt).TotalSeconds;
        Rate = seconds > 0 ? (Done - firstDone) / seconds : 0;
    }

    public TimeSpan? Eta => Remaining == 0 ? TimeSpan.Zero : Rate > 0 ? TimeSpan.FromSeconds(Remaining / Rate) : null;

    /// <summary><c>12,345/50,000 events (24.7%)  8,123.0 events/s  remaining lag 37,655  ETA 5s</c></summary>
    public string Line()
    {
        var percent = Total == 0 ? 100 : 100.0 * Done / Total;
        var eta = Eta is { } e ? Format(e) : "-";
        return string.Create(CultureInfo.InvariantCulture, $"{Done:N0}/{Total:N0} events ({percent:0.0}%)  {Rate:N1} events/s  remaining lag {Remaining:N0}  ETA {eta}");
    }

    private static string Format(TimeSpan eta) =>
        eta.TotalHours >= 1 ? $"{(int)eta.TotalHours}h{eta.Minutes:00}m" : eta.TotalMinutes >= 1 ? $"{eta.Minutes}m{eta.Seconds:00}s" : $"{Math.Ceiling(eta.TotalSeconds):0}s";
}
