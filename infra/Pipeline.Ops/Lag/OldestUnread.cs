using Confluent.Kafka;
using Pipeline.Ops.Kafka;

namespace Pipeline.Ops.Lag;

/// <summary>
/// Lag in time from Kafka alone: the timestamp of the first record a group has not read yet, per partition.
/// It needs no running consumer, so a group that is down still shows how far behind it falls. A record's
/// timestamp never changes, so answers are kept (bounded) and a stopped group costs no further reads.
/// </summary>
internal sealed class OldestUnread(KafkaConnection kafka) : IDisposable
{
    private const int MaxRemembered = 10_000;
    private readonly Dictionary<(TopicPartition Partition, long Offset), DateTimeOffset> _known = [];
    private readonly Lazy<IConsumer<byte[]?, byte[]>> _reader = new(() => kafka.Consumer("pipeline-ops-timestamps", ScanTimeIndex.Probing));

    /// <summary>
    /// The timestamp of the record at each given offset (a group's position in a lagging partition); offsets
    /// whose record cannot be read within <paramref name="timeout"/> are left out. Several offsets of one
    /// partition (several groups behind on it) are read in turns.
    /// </summary>
    public IReadOnlyDictionary<(TopicPartition Partition, long Offset), DateTimeOffset> Timestamps(IEnumerable<(TopicPartition Partition, long Offset)> positions, TimeSpan timeout)
    {
        var found = new Dictionary<(TopicPartition, long), DateTimeOffset>();
        var pending = new List<(TopicPartition Partition, long Offset)>();
        foreach (var p in positions.Distinct())
        {
            if (_known.TryGetValue(p, out var at)) found[p] = at;
            else pending.Add(p);
        }
        if (_known.Count > MaxRemembered) _known.Clear();
        var deadline = DateTime.UtcNow + timeout;
        while (pending.Count > 0 && DateTime.UtcNow < deadline)
        {
            var round = pending.GroupBy(p => p.Partition).ToDictionary(g => g.Key, g => g.First().Offset);
            foreach (var (partition, offset) in ReadRound(round, deadline))
            {
                _known[(partition, offset.Offset)] = offset.At;
                found[(partition, offset.Offset)] = offset.At;
            }
            // A round ends when each of its offsets was read or the deadline passed: either way its offsets are done.
            pending.RemoveAll(p => round.TryGetValue(p.Partition, out var asked) && asked == p.Offset);
        }
        return found;
    }

    private IEnumerable<(TopicPartition, (long Offset, DateTimeOffset At))> ReadRound(Dictionary<TopicPartition, long> wanted, DateTime deadline)
    {
        var read = new List<(TopicPartition, (long, DateTimeOffset))>();
        // Assigned without joining a group: reading here commits nothing and moves no team's position.
        var reader = _reader.Value;
        reader.Assign(wanted.Select(w => new TopicPartitionOffset(w.Key, new Offset(w.Value))));
        var left = new Dictionary<TopicPartition, long>(wanted);
        try
        {
            while (left.Count > 0 && DateTime.UtcNow < deadline)
            {
                var result = reader.Consume(TimeSpan.FromMilliseconds(100));
                if (result?.Message is null || result.Message.Timestamp.Type == TimestampType.NotAvailable || !left.TryGetValue(result.TopicPartition, out var offset)) continue;
                // The record asked for may have been removed by retention: the first one after it is then the oldest unread.
                if (result.Offset.Value < offset) continue;
                read.Add((result.TopicPartition, (offset, new DateTimeOffset(result.Message.Timestamp.UtcDateTime, TimeSpan.Zero))));
                left.Remove(result.TopicPartition);
            }
        }
        catch (ConsumeException)
        {
            // A partition that cannot be read now is left out: its lag in time shows as unknown.
        }
        finally
        {
            reader.Unassign();
        }
        return read;
    }

    public void Dispose()
    {
        if (_reader.IsValueCreated) _reader.Value.Dispose();
    }
}
