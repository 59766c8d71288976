using System.Text.Json.Serialization;
using Pipeline.Consumers.TopK.Sketch;
using Pipeline.Consumers.TopK.Windows;

namespace Pipeline.Consumers.TopK;

/// <summary>One key of an answer: <c>count - error &lt;= true count &lt;= count</c>.</summary>
internal sealed record TopKEntry(string Key, long Count, long Error, long LowerBound, bool Guaranteed);

/// <summary>
/// The heavy hitters of one window and dimension, merged over every source partition's partial: what
/// <c>GET /topk</c> answers and what is published to topic <c>topk</c>.
/// </summary>
/// <param name="Group">The consumer group whose counts these are.</param>
/// <param name="Dimension">The dimension asked for.</param>
/// <param name="Window">The window size, e.g. <c>1m</c>.</param>
/// <param name="WindowStart">Start of the window (inclusive).</param>
/// <param name="WindowEnd">End of the window (exclusive).</param>
/// <param name="State"><c>open</c>, <c>closed</c>, <c>partial</c> (some partitions closed it) or <c>empty</c>.</param>
/// <param name="Events">Weighted events (sample_rate applied) counted into the window.</param>
/// <param name="Total">... of which had a key in this dimension (the N of the error bound).</param>
/// <param name="Late">Weighted events that arrived after the window had closed (not in the counts).</param>
/// <param name="Partitions">Source partitions with a stored partial of this window.</param>
/// <param name="PartitionsClosed">... of which have closed it.</param>
/// <param name="UnlistedMax">The most any key not listed can have.</param>
/// <param name="K">Entries asked for.</param>
/// <param name="Top">The entries, largest count first.</param>
internal sealed record TopKResult(
    string Group, string Dimension, string Window, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, string State,
    int Partitions, int PartitionsClosed, long Events, long Total, long Late, long UnlistedMax, int K, IReadOnlyList<TopKEntry> Top)
{
    /// <summary>Merges stored partials into an answer with the <paramref name="k"/> largest counts.</summary>
    public static TopKResult Build(string group, string dimension, Granularity granularity, DateTimeOffset windowStart,
        IReadOnlyList<StoredWindowPart> parts, long late, int k)
    {
        var partials = parts.Select(p =>
        {
            var (capacity, total, entries) = SketchCodec.Read(p.Sketch);
            return PartialSketch.Of(capacity, total, entries);
        }).ToList();
        return Build(group, dimension, granularity, windowStart, SketchMerge.Merge(partials), parts.Count, parts.Count(p => p.Closed),
            parts.Sum(p => p.Events), late, k);
    }

    public static TopKResult Build(string group, string dimension, Granularity granularity, DateTimeOffset windowStart, MergedSketch merged,
        int partitions, int closed, long events, long late, int k)
    {
        var entries = merged.Entries;
        // Anything not listed is at most the next listed count or what any partial may have evicted.
        var unlisted = Math.Max(entries.Count > k ? entries[k].Count : 0, merged.UntrackedMax);
        var top = entries.Take(k).Select(e => new TopKEntry(e.Key, e.Count, e.Error, e.LowerBound, e.LowerBound >= unlisted)).ToList();
        var state = partitions == 0 ? "empty" : closed == partitions ? "closed" : closed == 0 ? "open" : "partial";
        return new TopKResult(group, dimension, granularity.Label, windowStart, windowStart + granularity.Size, state, partitions, closed,
            events, merged.Total, late, unlisted, k, top);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(TopKResult))]
[JsonSerializable(typeof(TopKWindowList))]
[JsonSerializable(typeof(TopKError))]
internal sealed partial class TopKJson : JsonSerializerContext;

/// <summary>The answer of <c>GET /topk/windows</c>.</summary>
internal sealed record TopKWindowList(string Dimension, string Window, IReadOnlyList<DateTimeOffset> WindowStarts);

/// <summary>A refused query.</summary>
internal sealed record TopKError(string Error);
