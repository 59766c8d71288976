using Pipeline.Consumers.TopK.Extraction;

namespace Pipeline.Consumers.TopK.Windows;

/// <summary>What the aggregator needs to know, taken from <see cref="TopKOptions"/>.</summary>
internal sealed record AggregatorSettings(
    IReadOnlyList<Dimension> Dimensions, IReadOnlyList<Granularity> Granularities, int Capacity,
    TimeSpan AllowedLateness, TimeSpan MaxClockSkew, int MaxKeyLength)
{
    public static AggregatorSettings From(TopKOptions options) => new(options.DimensionList, options.Granularities, options.Capacity,
        options.AllowedLateness, options.MaxClockSkew, options.MaxKeyLength);
}
