namespace Pipeline.Consumers.TopK.Sketch;

/// <summary>One tracked key: <c>Count - Error &lt;= true count &lt;= Count</c>.</summary>
internal readonly record struct SketchEntry(string Key, long Count, long Error)
{
    /// <summary>The guaranteed part of the count.</summary>
    public long LowerBound => Count - Error;

    public static readonly Comparison<SketchEntry> ByCountDescending = (a, b) =>
    {
        var byCount = b.Count.CompareTo(a.Count);
        return byCount != 0 ? byCount : string.CompareOrdinal(a.Key, b.Key);
    };
}
