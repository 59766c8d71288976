using Confluent.Kafka;
using Pipeline.Ops.Cli;

namespace Pipeline.Ops.Kafka;

/// <summary>
/// Finds, per partition, the first offset whose record timestamp is at or after a time (the end offset
/// when there is none). The seam of point-in-time resets and replays: Kafka answers it with
/// OffsetsForTimes; the embedded cluster cannot, and tests put their own answers behind it.
/// </summary>
internal interface ITimeIndex
{
    /// <summary>Which way the offsets were found, for the command's output.</summary>
    string Method { get; }

    IReadOnlyDictionary<TopicPartition, long> OffsetsAt(IReadOnlyList<TopicPartition> partitions, DateTimeOffset time,
        IReadOnlyDictionary<TopicPartition, (long Low, long High)> watermarks);
}

/// <summary>
/// Asks Kafka (OffsetsForTimes, i.e. ListOffsets by timestamp). A broker that does not implement the
/// lookup answers "no record at or after that time" for every partition; that answer is checked against
/// the last record of each partition that has one, and when it is contradicted (the last record is newer)
/// the offsets are found by reading record timestamps instead (<see cref="ScanTimeIndex"/>) and the
/// command says so. On real Kafka the check costs one fetch per partition the broker said was past.
/// </summary>
internal sealed class KafkaTimeIndex(KafkaConnection kafka) : ITimeIndex
{
    public string Method { get; private set; } = "Kafka's time index (OffsetsForTimes)";

    public IReadOnlyDictionary<TopicPartition, long> OffsetsAt(IReadOnlyList<TopicPartition> partitions, DateTimeOffset time,
        IReadOnlyDictionary<TopicPartition, (long Low, long High)> watermarks)
    {
        using var consumer = kafka.Consumer("pipeline-ops-times", ScanTimeIndex.Probing);
        List<TopicPartitionOffset> answers;
        try
        {
            answers = consumer.OffsetsForTimes(partitions.Select(p => new TopicPartitionTimestamp(p, new Timestamp(time))), KafkaConnection.RequestTimeout);
        }
        catch (KafkaException ex)
        {
            return Fallback(partitions, time, watermarks, ex.Error.Reason);
        }
        var offsets = new Dictionary<TopicPartition, long>();
        foreach (var answer in answers)
        {
            var (low, high) = watermarks[answer.TopicPartition];
            if (answer.Offset.Value >= 0)
            {
                offsets[answer.TopicPartition] = Math.Clamp(answer.Offset.Value, low, high);
                continue;
            }
            // "None at or after": true only if the newest record is older than the time.
            if (high > low && ScanTimeIndex.TimestampAt(consumer, answer.TopicPartition, high - 1) is { } newest && newest >= time)
                return Fallback(partitions, time, watermarks, $"it said {answer.TopicPartition.Topic}[{answer.TopicPartition.Partition.Value}] has no record at or after the time, but its last record is from {newest:O}");
            offsets[answer.TopicPartition] = high;
        }
        return offsets;
    }

    private Dictionary<TopicPartition, long> Fallback(IReadOnlyList<TopicPartition> partitions, DateTimeOffset time,
        IReadOnlyDictionary<TopicPartition, (long Low, long High)> watermarks, string why)
    {
        var scan = new ScanTimeIndex(kafka);
        Method = $"record timestamps (the broker did not look offsets up by time: {why})";
        return scan.OffsetsAt(partitions, time, watermarks).ToDictionary();
    }
}

/// <summary>
/// Finds the offsets by reading record timestamps: a binary search over each partition, one fetch per step
/// (about 20 for a million records). It assumes timestamps that do not go backwards within a partition,
/// which holds for the edge's CreateTime stamps up to clock steps; Kafka's own index has no such limit.
/// Used where the broker cannot look offsets up by time: the embedded cluster of local runs and tests.
/// </summary>
internal sealed class ScanTimeIndex(KafkaConnection kafka) : ITimeIndex
{
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(10);

    public string Method => "record timestamps (binary search)";

    public IReadOnlyDictionary<TopicPartition, long> OffsetsAt(IReadOnlyList<TopicPartition> partitions, DateTimeOffset time,
        IReadOnlyDictionary<TopicPartition, (long Low, long High)> watermarks)
    {
        using var consumer = kafka.Consumer("pipeline-ops-times", Probing);
        var offsets = new Dictionary<TopicPartition, long>();
        foreach (var tp in partitions)
        {
            var (low, high) = watermarks[tp];
            // Invariant: every record before lo is older than the time; the record at hi (or the end) is not.
            long lo = low, hi = high;
            while (lo < hi)
            {
                var mid = lo + (hi - lo) / 2;
                var stamp = TimestampAt(consumer, tp, mid);
                if (stamp is null) throw new UsageException($"could not read {tp.Topic}[{tp.Partition.Value}]@{mid} to find a time");
                if (stamp.Value < time) lo = mid + 1;
                else hi = mid;
            }
            offsets[tp] = lo;
        }
        return offsets;
    }

    /// <summary>
    /// A consumer for reading single records here and there: small fetches, and no waiting for more data
    /// (librdkafka's default fetch wait, 500 ms, would be paid on every step).
    /// </summary>
    public static void Probing(ConsumerConfig config)
    {
        config.FetchWaitMaxMs = 10;
        config.MaxPartitionFetchBytes = 64 * 1024;
        config.QueuedMaxMessagesKbytes = 1024;
    }

    /// <summary>Timestamp of the record at <paramref name="offset"/> (or the next one that exists), or null when none could be read.</summary>
    public static DateTimeOffset? TimestampAt(IConsumer<byte[]?, byte[]> consumer, TopicPartition tp, long offset)
    {
        consumer.Assign(new TopicPartitionOffset(tp, offset));
        try
        {
            var deadline = DateTime.UtcNow + FetchTimeout;
            while (DateTime.UtcNow < deadline)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result?.Message is not null && result.TopicPartition == tp && result.Offset.Value >= offset)
                    return new DateTimeOffset(result.Message.Timestamp.UtcDateTime, TimeSpan.Zero);
            }
            return null;
        }
        finally
        {
            consumer.Unassign();
        }
    }
}
