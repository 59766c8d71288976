using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// Brings an archive folder back to its last commit when the writer opens it: segments a seal created but never
/// committed are removed, bytes after the committed length (whole lines and a torn last line) are cut and counted,
/// and the committed part is checked to chain up to the checkpoint's head; with no checkpoint at all, one is rebuilt
/// from the records themselves. Kept apart from <see cref="ArchiveWriter"/>: it runs once, before the first append.
/// </summary>
internal sealed class ArchiveRecovery(string directory, SiemMetrics metrics, ILogger log)
{
    private string SegmentPath(long index) => SegmentFile.PathOf(directory, index);

    /// <summary>
    /// The checkpoint to start from, what the committed part of its segment holds, and that segment open for appending:
    /// a new archive gets its first segment and checkpoint, one with segments but no checkpoint has it rebuilt, and
    /// any archive has what was written after its checkpoint cut.
    /// </summary>
    public (Checkpoint Checkpoint, SegmentTally Tally, SafeFileHandle Segment) Recover(TimeProvider time)
    {
        var checkpoint = ArchiveCheckpoint.Read(directory);
        var segments = ArchiveFormat.ListSegments(directory);
        if (checkpoint is null && segments.Count > 0)
        {
            checkpoint = Rebuild(segments);
            // The rebuilt head is the last whole record; a torn line after it is cut below.
            ArchiveCheckpoint.Write(directory, checkpoint);
        }
        if (checkpoint is null)
        {
            var now = time.GetUtcNow();
            checkpoint = new Checkpoint { Segment = 1, Length = 0, Seq = 0, Hash = ArchiveFormat.GenesisHex, SegmentOpenedAt = now };
            var first = SegmentFile.Create(directory, 1);
            try
            {
                ArchiveCheckpoint.Write(directory, checkpoint);
            }
            catch
            {
                first.Dispose();
                throw;
            }
            return (checkpoint, new SegmentTally(), first);
        }
        var tally = CutTail(checkpoint, segments);
        var segment = File.Exists(SegmentPath(checkpoint.Segment)) ? SegmentFile.Open(directory, checkpoint.Segment) : SegmentFile.Create(directory, checkpoint.Segment);
        return (checkpoint, tally, segment);
    }

    /// <summary>Cuts what was written after the checkpoint, and checks that what it names is intact.</summary>
    public SegmentTally CutTail(Checkpoint checkpoint, List<long> segments)
    {
        foreach (var later in segments.Where(s => s > checkpoint.Segment))
        {
            // Created by a seal whose checkpoint never landed: nothing in it was committed.
            var path = SegmentPath(later);
            var bytes = new FileInfo(path).Length;
            File.Delete(path);
            SiemLog.UncommittedSegmentRemoved(log, Path.GetFileName(path), bytes);
            metrics.RecoveredBytes.Inc(bytes);
        }
        var segmentPath = SegmentPath(checkpoint.Segment);
        if (!File.Exists(segmentPath))
        {
            if (checkpoint.Length == 0) return new SegmentTally();
            throw new InvalidDataException($"the checkpoint names {Path.GetFileName(segmentPath)} with {checkpoint.Length} committed bytes, but it is missing; run verify");
        }
        var length = new FileInfo(segmentPath).Length;
        if (length < checkpoint.Length)
            throw new InvalidDataException($"{Path.GetFileName(segmentPath)} holds {length} bytes but {checkpoint.Length} were committed: committed records were lost or removed; run verify");
        if (length > checkpoint.Length)
        {
            long lines = 0;
            var torn = false;
            using (var reader = new LineReader(segmentPath, checkpoint.Length, length))
                while (reader.ReadLine())
                {
                    if (reader.Torn) torn = true;
                    else lines++;
                }
            using (var handle = File.OpenHandle(segmentPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
            {
                RandomAccess.SetLength(handle, checkpoint.Length);
                RandomAccess.FlushToDisk(handle);
            }
            SiemLog.TailTruncated(log, Path.GetFileName(segmentPath), checkpoint.Length, length - checkpoint.Length, lines, torn);
            metrics.RecoveredBytes.Inc(length - checkpoint.Length);
            metrics.RecoveredLines.Inc(lines);
            if (torn) metrics.TornLines.Inc();
        }
        // The committed part must still chain up to the checkpoint's head.
        var (stats, problem) = ArchiveVerifier.CheckSegment(segmentPath, checkpoint.Length, null, FirstSeqOf(segmentPath, checkpoint), checkpoint.Length);
        if (problem is not null) throw new InvalidDataException($"the open segment is damaged ({problem}); run verify");
        if (stats.Records > 0 && (stats.LastSeq != checkpoint.Seq || stats.FinalHash != checkpoint.Hash))
            throw new InvalidDataException($"{Path.GetFileName(segmentPath)} does not end at the checkpoint's head (seq {checkpoint.Seq}); run verify");
        return SegmentTally.From(stats);
    }

    /// <summary>The sequence number of the segment's first committed record (the checkpoint's next one when it has none).</summary>
    public static long FirstSeqOf(string segmentPath, Checkpoint checkpoint)
    {
        using var reader = new LineReader(segmentPath, 0, checkpoint.Length);
        return reader.ReadLine() && !reader.Torn && ParsedLine.TryParse(reader.Line, out var first, out _) ? first.Seq : checkpoint.Seq + 1;
    }

    /// <summary>No checkpoint but segments: rebuild it from the records themselves (they carry their offsets).</summary>
    public Checkpoint Rebuild(List<long> segments)
    {
        var prev = ArchiveFormat.GenesisHex;
        var nextSeq = 1L;
        var offsets = new Dictionary<PartitionKey, long>();
        long lastLength = 0;
        foreach (var index in segments)
        {
            var path = SegmentPath(index);
            var (stats, problem) = ArchiveVerifier.CheckSegment(path, long.MaxValue, prev, nextSeq);
            if (problem is not null) throw new InvalidDataException($"cannot rebuild the checkpoint: {problem}; run verify");
            if (stats.TornAt >= 0 && index != segments[^1]) throw new InvalidDataException($"cannot rebuild the checkpoint: {Path.GetFileName(path)} has a torn line before the last segment");
            foreach (var range in stats.Partitions.Values)
            {
                var key = new PartitionKey(range.Topic, range.Partition);
                offsets[key] = Math.Max(offsets.GetValueOrDefault(key), range.LastOffset + 1);
            }
            if (stats.Records > 0)
            {
                prev = stats.FinalHash;
                nextSeq = stats.LastSeq + 1;
            }
            lastLength = stats.ValidBytes;
        }
        SiemLog.CheckpointRebuilt(log, directory, segments.Count, nextSeq - 1);
        var checkpoint = new Checkpoint
        {
            Segment = segments[^1],
            Length = lastLength,
            Seq = nextSeq - 1,
            Hash = prev,
            SegmentOpenedAt = File.GetCreationTimeUtc(SegmentPath(segments[^1])),
            Offsets = offsets.Select(o => new PartitionOffset(o.Key.Topic, o.Key.Partition, o.Value)).ToList(),
        };
        return checkpoint;
    }
}
