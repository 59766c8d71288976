using Confluent.Kafka;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Lag;

namespace Pipeline.Ops.Status;

/// <summary>A topic's partitions and offsets at one moment.</summary>
internal sealed record TopicReading(string Name, int Partitions, long Records, long End);

/// <summary>A group's lag read from its positions (<see cref="Source"/> says which store) and Kafka's end offsets.</summary>
internal sealed record GroupReading(string Group, string? Source, long? Lag, DateTimeOffset? OldestUnread, string? Error);

/// <summary>What one read of Kafka found; <see cref="Up"/> false means Kafka did not answer (<see cref="Error"/> says how).</summary>
internal sealed record KafkaReading(DateTimeOffset At, bool Up, string? Error, IReadOnlyList<TopicReading> Topics,
    IReadOnlyDictionary<string, GroupReading> Groups, IReadOnlyDictionary<string, long> DeadLettered)
{
    public static KafkaReading Down(DateTimeOffset at, string error) => new(at, false, error, [], new Dictionary<string, GroupReading>(), new Dictionary<string, long>());
}

/// <summary>
/// Reads, with the code of <c>ops lag</c>, each group's lag (the sink's own store for an exactly-once group,
/// else Kafka's committed offsets), the topics' end offsets, the records in each <c>dlq.&lt;group&gt;</c>, and
/// the age of each lagging group's oldest unread record.
/// </summary>
internal sealed class KafkaProbe(KafkaConnection kafka, IReadOnlyList<string> topics, string? postgres, string? archive, TimeProvider time) : IDisposable
{
    private readonly ClusterView _cluster = new(kafka);
    private LagCommand.StoreChoice? _stores;

    public KafkaReading Read(IReadOnlyCollection<string> groups)
    {
        try
        {
            var metadata = _cluster.Metadata();
            var existing = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError && t.Partitions.Count > 0).ToDictionary(t => t.Topic, t => t.Partitions.Count, StringComparer.Ordinal);
            var partitions = _cluster.Partitions(topics.Where(existing.ContainsKey).ToList());
            var marks = _cluster.Watermarks(partitions);
            var topicReadings = partitions.GroupBy(p => p.Topic).Select(g => new TopicReading(g.Key, g.Count(),
                g.Sum(p => marks[p].High - marks[p].Low), g.Sum(p => marks[p].High))).ToList();

            var deadLettered = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var group in groups.Where(g => existing.ContainsKey("dlq." + g)))
                deadLettered[group] = _cluster.Watermarks(_cluster.Partitions(["dlq." + group])).Values.Sum(w => w.High);

            _stores ??= new LagCommand.StoreChoice("auto", postgres, archive, _cluster);
            var samples = new Dictionary<string, (LagSample? Sample, string? Source, string? Error)>(StringComparer.Ordinal);
            foreach (var group in groups)
            {
                try
                {
                    var store = _stores.For(group);
                    samples[group] = (LagSample.Take(group, partitions, store, _cluster, time, ages: false), store.Describe, null);
                }
                catch (UsageException ex)
                {
                    samples[group] = (null, null, ex.Message);
                }
            }

            var lagging = samples.Values.Where(s => s.Sample is not null).SelectMany(s => s.Sample!.Partitions)
                .Where(p => p.Lag > 0).Select(Unread).ToList();
            var stamps = _cluster.TimestampsAt(lagging, TimeSpan.FromSeconds(1));
            var groupReadings = samples.ToDictionary(s => s.Key, s =>
            {
                var (sample, source, error) = s.Value;
                if (sample is null) return new GroupReading(s.Key, null, null, null, error);
                var oldest = sample.Partitions.Where(p => p.Lag > 0)
                    .Select(p => stamps.TryGetValue(Unread(p), out var at) ? at : (DateTimeOffset?)null).Where(at => at is not null).Min();
                return new GroupReading(s.Key, source, sample.Total, oldest, null);
            }, StringComparer.Ordinal);
            return new KafkaReading(time.GetUtcNow(), true, null, topicReadings, groupReadings, deadLettered);
        }
        catch (UsageException ex)
        {
            return KafkaReading.Down(time.GetUtcNow(), ex.Message);
        }
        catch (KafkaException ex)
        {
            return KafkaReading.Down(time.GetUtcNow(), ex.Error.Reason);
        }
    }

    /// <summary>The first record the group has not read: its position, or the partition's first record when it has none (or retention passed it).</summary>
    private static (TopicPartition, long) Unread(PartitionLag p) => (p.Partition, Math.Max(p.Position ?? p.Low, p.Low));

    public void Dispose()
    {
        _cluster.Dispose();
    }
}
