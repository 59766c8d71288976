namespace Pipeline.Client.Delivery;

/// <summary>
/// Waits between attempts to reach the edge: doubling from <c>min</c> up to <c>max</c>, each with jitter (50–100 %
/// of the step) so that many clients restarted together do not return in step. Reset once a connection works.
/// </summary>
internal sealed class Backoff(TimeSpan min, TimeSpan max, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;
    private int _attempt;

    public TimeSpan Next()
    {
        var step = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt, 30)));
        _attempt++;
        return TimeSpan.FromMilliseconds(step * (0.5 + 0.5 * _random.NextDouble()));
    }

    public void Reset() => _attempt = 0;
}
