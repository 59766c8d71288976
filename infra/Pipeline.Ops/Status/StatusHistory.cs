namespace Pipeline.Ops.Status;

/// <summary>The last few minutes of the main rates and lags, for the page's sparklines (kept here so a new tab sees them at once).</summary>
internal sealed class StatusHistory(int capacity = 90)
{
    private readonly Queue<StatusSnapshot> _points = new();
    private readonly Lock _gate = new();

    public void Add(StatusSnapshot snapshot)
    {
        lock (_gate)
        {
            _points.Enqueue(snapshot);
            while (_points.Count > capacity) _points.Dequeue();
        }
    }

    /// <summary>Series by name, oldest first; a null is a moment the value was not known.</summary>
    public HistoryView View()
    {
        StatusSnapshot[] points;
        lock (_gate) points = [.. _points];
        var groups = points.SelectMany(p => p.Groups.Select(g => g.Group)).Distinct(StringComparer.Ordinal).ToList();
        return new HistoryView(
            points.Select(p => p.At.ToUnixTimeMilliseconds()).ToList(),
            points.Select(p => p.Edge?.ReceivedPerSecond).ToList(),
            points.Select(p => p.Edge?.PublishedPerSecond).ToList(),
            points.Select(p => p.Edge?.DroppedPerSecond).ToList(),
            groups.ToDictionary(g => g, g => (IReadOnlyList<double?>)points.Select(p => (double?)p.Groups.FirstOrDefault(x => x.Group == g)?.LagMessages).ToList()),
            groups.ToDictionary(g => g, g => (IReadOnlyList<double?>)points.Select(p => p.Groups.FirstOrDefault(x => x.Group == g)?.WrittenPerSecond).ToList()));
    }
}

internal sealed record HistoryView(IReadOnlyList<long> At, IReadOnlyList<double?> Received, IReadOnlyList<double?> Published, IReadOnlyList<double?> Dropped,
    IReadOnlyDictionary<string, IReadOnlyList<double?>> Lag, IReadOnlyDictionary<string, IReadOnlyList<double?>> Written);
