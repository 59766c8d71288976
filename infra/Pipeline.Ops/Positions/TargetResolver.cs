using Confluent.Kafka;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;

namespace Pipeline.Ops.Positions;

/// <summary>Turns a <see cref="PositionSpec"/> into one offset per partition, within what each partition holds.</summary>
internal sealed class TargetResolver(IReadOnlyDictionary<TopicPartition, (long Low, long High)> watermarks, Func<ITimeIndex> timeIndex)
{
    private ITimeIndex? _index;

    /// <summary>How time-based targets were found (null when none was asked for).</summary>
    public string? TimeMethod => _index?.Method;

    public IReadOnlyDictionary<TopicPartition, long> Resolve(PositionSpec spec, IReadOnlyList<TopicPartition> partitions, List<string> notes)
    {
        switch (spec.Kind)
        {
            case PositionKind.Earliest:
                return partitions.ToDictionary(p => p, p => watermarks[p].Low);
            case PositionKind.Latest:
                return partitions.ToDictionary(p => p, p => watermarks[p].High);
            case PositionKind.Offset:
                var offsets = new Dictionary<TopicPartition, long>();
                foreach (var tp in partitions)
                {
                    var (low, high) = watermarks[tp];
                    var offset = Math.Clamp(spec.Offset, low, high);
                    if (offset != spec.Offset) notes.Add($"{tp.Topic}[{tp.Partition.Value}] holds offsets {low} to {high}: {spec.Offset} taken as {offset}");
                    offsets[tp] = offset;
                }
                return offsets;
            default:
                _index ??= timeIndex();
                var found = _index.OffsetsAt(partitions, spec.Time, watermarks);
                foreach (var tp in partitions)
                    if (!found.ContainsKey(tp)) throw new UsageException($"no offset found for {tp.Topic}[{tp.Partition.Value}] at {spec}");
                return partitions.ToDictionary(p => p, p => Math.Clamp(found[p], watermarks[p].Low, watermarks[p].High));
        }
    }
}
