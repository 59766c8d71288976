using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// What a run of records holds, counted as they are staged: records, events, alerts, first and last seq, the hash
/// the run chains from, and per partition the first and last offset. The writer adds each committed batch's tally
/// to the open segment's, and writes the manifest from it when the segment is sealed.
/// </summary>
internal sealed class SegmentTally
{
    private readonly Dictionary<(string Topic, int Partition), Range> _partitions = [];
    private Range? _last;

    public long Records { get; private set; }
    public long Events { get; private set; }
    public long Alerts { get; private set; }
    public long FirstSeq { get; private set; }
    public long LastSeq { get; private set; }
    public string FirstPrev { get; private set; } = "";

    /// <summary>Per partition, ordered as the verifier orders a segment's partitions (so a manifest reads the same whichever made it).</summary>
    public List<PartitionRange> Partitions =>
        new SortedDictionary<(string Topic, int Partition), PartitionRange>(_partitions.ToDictionary(p => p.Key, p => new PartitionRange(p.Value.Topic, p.Value.Partition, p.Value.First, p.Value.Last, p.Value.Records)))
            .Values.ToList();

    /// <summary>Counts a record: its seq, the previous hash as 64 hex bytes, and where it was read (null for an alert).</summary>
    public void Add(long seq, ReadOnlySpan<byte> prevHex, ConsumedRecord? source)
    {
        if (Records == 0)
        {
            FirstSeq = seq;
            FirstPrev = System.Text.Encoding.ASCII.GetString(prevHex);
        }
        Records++;
        LastSeq = seq;
        if (source is null)
        {
            Alerts++;
            return;
        }
        Events++;
        Note(source.Topic, source.Partition, source.Offset, source.Offset, 1);
    }

    /// <summary>Adds <paramref name="other"/> (a later run of the same chain) to this one.</summary>
    public void Add(SegmentTally other)
    {
        if (other.Records == 0) return;
        if (Records == 0)
        {
            FirstSeq = other.FirstSeq;
            FirstPrev = other.FirstPrev;
        }
        Records += other.Records;
        Events += other.Events;
        Alerts += other.Alerts;
        LastSeq = other.LastSeq;
        foreach (var range in other._partitions.Values) Note(range.Topic, range.Partition, range.First, range.Last, range.Records);
    }

    /// <summary>The tally of a segment as the verifier read it (after a restart).</summary>
    public static SegmentTally From(SegmentStats stats)
    {
        var tally = new SegmentTally
        {
            Records = stats.Records, Events = stats.Events, Alerts = stats.Alerts, FirstSeq = stats.FirstSeq, LastSeq = stats.LastSeq, FirstPrev = stats.FirstPrev,
        };
        foreach (var range in stats.Partitions.Values) tally.Note(range.Topic, range.Partition, range.FirstOffset, range.LastOffset, range.Records);
        return tally;
    }

    public void Clear()
    {
        _partitions.Clear();
        _last = null;
        Records = Events = Alerts = FirstSeq = LastSeq = 0;
        FirstPrev = "";
    }

    private void Note(string topic, int partition, long first, long last, long records)
    {
        // Records of a batch come partition by partition: the range of the record before is usually the one to widen.
        var range = _last is { } l && l.Partition == partition && string.Equals(l.Topic, topic, StringComparison.Ordinal) ? l : null;
        if (range is null && !_partitions.TryGetValue((topic, partition), out range))
        {
            _partitions[(topic, partition)] = range = new Range(topic, partition) { First = first, Last = last };
        }
        range.First = Math.Min(range.First, first);
        range.Last = Math.Max(range.Last, last);
        range.Records += records;
        _last = range;
    }

    private sealed class Range(string topic, int partition)
    {
        public string Topic { get; } = topic;
        public int Partition { get; } = partition;
        public long First { get; set; }
        public long Last { get; set; }
        public long Records { get; set; }
    }
}
