namespace Pipeline.Core.Metrics;

/// <summary>Histogram bucket boundaries shared by every component, so that dashboards and alert rules can rely on them.</summary>
public static class Buckets
{
    /// <summary>
    /// Seconds from an event's receipt (or origin) to a store: fine around the objectives (p50 150 ms, p99 1 s),
    /// then up to an hour, where a group catching up or a backfill sits.
    /// </summary>
    public static readonly IReadOnlyList<double> Freshness =
        [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];

    /// <summary>Seconds one operation took (a sink's write, Kafka's acknowledgement, an HTTP request): 1 ms to a minute.</summary>
    public static readonly IReadOnlyList<double> Duration =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60];

    /// <summary>Records in one batch.</summary>
    public static readonly IReadOnlyList<double> BatchRecords =
        [1, 10, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
}
