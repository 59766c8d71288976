namespace Pipeline.Consumers.TopK.Sketch;

/// <summary>One partial sketch as stored or held: its entries, total, and the most an untracked key may have.</summary>
internal sealed record PartialSketch(IReadOnlyList<SketchEntry> Entries, long Total, long UntrackedMax)
{
    public static PartialSketch Of(SpaceSaving sketch) => new(sketch.Entries(), sketch.Total, sketch.UntrackedMax);

    public static PartialSketch Of(int capacity, long total, IReadOnlyList<SketchEntry> entries) =>
        new(entries, total, entries.Count >= capacity && entries.Count > 0 ? entries.Min(e => e.Count) : 0);
}

/// <summary>The merge of partial sketches: every key any of them tracks, with summed counts and error bounds.</summary>
internal sealed record MergedSketch(IReadOnlyList<SketchEntry> Entries, long Total, long UntrackedMax, int Parts);

/// <summary>
/// Merges Space-Saving sketches kept for the same window and dimension by different partitions (and so,
/// possibly, by different processes). For each key, a partial that tracks it contributes its count and
/// error; a partial that does not contributes its <see cref="PartialSketch.UntrackedMax"/> to both (the key
/// may have been evicted there with up to that many), or nothing when that partial never evicted. So the
/// merged entry keeps <c>count - error &lt;= true &lt;= count</c>, and a key no partial tracks has at most
/// the sum of the untracked maxima. The result is independent of the order of the parts.
/// </summary>
internal static class SketchMerge
{
    public static MergedSketch Merge(IReadOnlyList<PartialSketch> parts)
    {
        var untrackedSum = 0L;
        var total = 0L;
        foreach (var p in parts)
        {
            untrackedSum += p.UntrackedMax;
            total += p.Total;
        }
        // Start every key at the sum of all untracked maxima, then swap in each tracking part's own figures.
        var merged = new Dictionary<string, (long Count, long Error)>(StringComparer.Ordinal);
        foreach (var p in parts)
        {
            foreach (var e in p.Entries)
            {
                ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(merged, e.Key, out var existed);
                if (!existed) slot = (untrackedSum, untrackedSum);
                slot = (slot.Count - p.UntrackedMax + e.Count, slot.Error - p.UntrackedMax + e.Error);
            }
        }
        var entries = merged.Select(m => new SketchEntry(m.Key, m.Value.Count, m.Value.Error)).ToList();
        entries.Sort(SketchEntry.ByCountDescending);
        return new MergedSketch(entries, total, untrackedSum, parts.Count);
    }
}
