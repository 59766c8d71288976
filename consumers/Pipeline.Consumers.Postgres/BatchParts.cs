using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.Postgres;

/// <summary>
/// The rows of one part of a batch, all from whole Kafka partitions, with those partitions' next positions:
/// a part commits in a transaction of its own, its rows and its partitions' positions together.
/// </summary>
internal sealed class BatchPart
{
    public List<EventRow> Events { get; } = [];
    public List<EventRow> Metrics { get; } = [];
    public List<(string Topic, int Partition, long NextOffset)> Offsets { get; } = [];

    public int Rows => Events.Count + Metrics.Count;
}

/// <summary>
/// Splits a batch into parts that the sink writes on separate connections at once, so that PostgreSQL parses,
/// checks and indexes them on more than one core. Every partition goes whole to one part, so each partition's
/// rows and position still commit together (exactly once per partition); the parts are balanced by rows.
/// </summary>
internal static class BatchParts
{
    /// <summary>
    /// At most <paramref name="parts"/> parts, fewer when the batch has fewer partitions or when a part would hold
    /// fewer than <paramref name="minRowsPerPart"/> rows (a small batch is cheaper as one transaction). Rows keep
    /// their order within a part. Partitions named only in <paramref name="nextOffsets"/> (their records went to the
    /// dead-letter topic) go with the first part.
    /// </summary>
    public static List<BatchPart> Split(List<EventRow> events, List<EventRow> metrics, IReadOnlyDictionary<PartitionKey, long> nextOffsets,
        int parts, int minRowsPerPart)
    {
        var rows = events.Count + metrics.Count;
        var count = Math.Max(1, Math.Min(parts, rows / Math.Max(1, minRowsPerPart)));
        var rowsOf = new Dictionary<PartitionKey, int>();
        foreach (var row in events) Count(rowsOf, row);
        foreach (var row in metrics) Count(rowsOf, row);
        count = Math.Min(count, Math.Max(1, rowsOf.Count));

        var result = new List<BatchPart>(count);
        for (var i = 0; i < count; i++) result.Add(new BatchPart());
        var partOf = new Dictionary<PartitionKey, int>(rowsOf.Count);
        if (count == 1)
        {
            foreach (var key in rowsOf.Keys) partOf[key] = 0;
        }
        else
        {
            // Largest first, each to the part with the fewest rows so far: within a partition's size of even.
            var load = new int[count];
            foreach (var (key, n) in rowsOf.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Topic, StringComparer.Ordinal).ThenBy(p => p.Key.Partition))
            {
                var lightest = Array.IndexOf(load, load.Min());
                partOf[key] = lightest;
                load[lightest] += n;
            }
        }
        foreach (var row in events) result[partOf[KeyOf(row)]].Events.Add(row);
        foreach (var row in metrics) result[partOf[KeyOf(row)]].Metrics.Add(row);
        foreach (var (key, next) in nextOffsets)
            result[partOf.GetValueOrDefault(key)].Offsets.Add((key.Topic, key.Partition, next));
        return result;
    }

    private static PartitionKey KeyOf(EventRow row) => row.Record.PartitionKey;

    private static void Count(Dictionary<PartitionKey, int> rowsOf, EventRow row)
    {
        var key = KeyOf(row);
        rowsOf[key] = rowsOf.GetValueOrDefault(key) + 1;
    }
}
